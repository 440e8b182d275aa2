// Resource limits as Docker's HostConfig carries them, and their translation into cgroup values.

export interface Limits {
  /** Bytes; 0 = unlimited. */
  memory: number;
  /** Memory plus swap in bytes; 0 = twice `memory` (Docker's default), -1 = unlimited. */
  memorySwap: number;
  /** CPUs in units of 1e-9; 0 = unlimited. */
  nanoCpus: number;
  cpuQuota: number;
  cpuPeriod: number;
  /** Relative weight (v1 cpu.shares); 0 = default. */
  cpuShares: number;
  /** 0 or negative = unlimited. */
  pidsLimit: number;
  /** Soft limit in bytes (v1 memory.soft_limit_in_bytes, v2 memory.low); 0 = none. */
  memoryReservation?: number;
  /** Block I/O weight 10..1000; 0 = the kernel's default. Written only where the kernel has the file. */
  blkioWeight?: number;
  /** cpuset lists; '' = the parent's (all the host's). */
  cpusetCpus?: string;
  cpusetMems?: string;
  /** Real-time scheduling (µs; v1 cpu.rt_period_us / cpu.rt_runtime_us, runtime -1 unlimited); 0 = the kernel's default. */
  cpuRtPeriod?: number;
  cpuRtRuntime?: number;
}

/**
 * A limit the kernel refused while the container's cgroup was made: runc's "unable to apply
 * cgroup configuration" (a start failure, with its wording), not a daemon fault.
 */
export class CgroupApplyError extends Error {}

export const DEFAULT_CPU_PERIOD = 100_000;

/** CFS quota and period in microseconds, or null when CPU time is unlimited. */
export function cpuQuota(l: Limits): { quota: number; period: number } | null {
  if (l.nanoCpus > 0) return { quota: Math.round((l.nanoCpus * DEFAULT_CPU_PERIOD) / 1e9), period: DEFAULT_CPU_PERIOD };
  if (l.cpuQuota > 0) return { quota: l.cpuQuota, period: l.cpuPeriod || DEFAULT_CPU_PERIOD };
  return null;
}

/** cgroup v2 cpu.weight for v1-style shares, as runc converts them. */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 100;
  const clamped = Math.min(Math.max(shares, 2), 262144);
  return Math.floor(1 + ((clamped - 2) * 9999) / 262142);
}

/** cgroup v1 memory.memsw.limit_in_bytes: memory plus swap (null: no memory limit, so none). */
export function memswLimit(l: Limits): string | null {
  if (l.memory <= 0) return null;
  if (l.memorySwap === 0) return String(l.memory * 2);
  return l.memorySwap < 0 ? '-1' : String(l.memorySwap);
}

/** cgroup v2 memory.swap.max: swap on top of memory. */
export function swapMax(l: Limits): string {
  if (l.memory <= 0 || l.memorySwap < 0) return 'max';
  if (l.memorySwap === 0) return String(l.memory);
  return String(Math.max(l.memorySwap - l.memory, 0));
}

/** The CPUs and memory nodes the host offers containers, as cpuset lists (the cpuset cgroup's root, where dockerd's sysinfo reads them). */
export interface CpusetInfo {
  cpus: string;
  mems: string;
}
