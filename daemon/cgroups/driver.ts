// One interface over cgroup v1 and v2, chosen at start-up from what the host mounts.
import { existsSync } from 'fs';
import type { DeviceRule } from './devices';
import type { CgroupfsSpec } from '../runtime/init-spec';
import type { CpusetInfo, Limits } from './limits';
import type { CgroupStats } from './stats';
import { CgroupV1 } from './v1';
import { CgroupV2 } from './v2';

export interface CgroupDriver {
  readonly version: 1 | 2;
  /**
   * Creates the container's cgroup with its limits and device rules (in order, as runc applies
   * them), before any process joins it; returns its join files (see joinFiles).
   */
  create(id: string, limits: Limits, devices: readonly DeviceRule[]): Promise<string[]>;
  /** Writes new limits into a running container's cgroup (docker update), leaving its device rules; memory first, so a refused limit changes nothing. */
  update(id: string, limits: Limits): Promise<void>;
  /** Whether containers can get a block I/O weight (the kernel's I/O scheduler offers the file). */
  supportsBlkioWeight(): boolean;
  /** Whether containers can get a real-time period and runtime (sysinfo's CPURealtime: v1 with cpu.rt_period_us; never v2). */
  supportsCpuRealtime(): boolean;
  /** The CPUs and memory nodes containers can be given; null without a cpuset controller. */
  cpusetInfo(): CpusetInfo | null;
  /** The cgroup.procs files of the container's cgroup: its processes. */
  procs(id: string): string[];
  /**
   * The files a process writes "0" to, to join the container's cgroup from the thread that will
   * fork or exec the command. v1: each hierarchy's `tasks`, which moves that thread alone, without
   * the whole-process lock whose RCU wait cost 5-20 ms a write here (the command inherits the
   * thread's cgroups; the init's other threads never join, and are gone at execve). v2 groups
   * threads by process: `cgroup.procs`.
   */
  joinFiles(id: string): string[];
  /** Moves a process into the daemon's own cgroup: an exec init, once its command runs in the container's. */
  reclaim(pid: number): Promise<void>;
  /** Whether the kernel's OOM killer killed a process of the container's cgroup. */
  oomKilled(id: string): Promise<boolean>;
  /** Kills whatever still runs in the container's cgroup (left by a daemon that died), then removes it. */
  remove(id: string): Promise<void>;
  /** Removes the parent cgroup when empty (daemon shutdown). */
  removeParent(): Promise<void>;
  /** Freezes or thaws every process of the container (pause/unpause); resolves once the kernel reports it done. */
  freeze(id: string, frozen: boolean): Promise<void>;
  /** The PIDs (host namespace) of the container's processes. */
  pids(id: string): Promise<number[]>;
  /** CPU, memory, pids and I/O counters of the container's cgroup. */
  stats(id: string): Promise<CgroupStats>;
  /** What containers get at /sys/fs/cgroup (the init mounts it in their cgroup namespace). */
  cgroupfs(): CgroupfsSpec;
  /** The file holding the memory limit, for inspection. */
  memoryLimitFile(id: string): string;
}

/** The daemon's --cpu-rt-period / --cpu-rt-runtime (µs; 0 = not set), which dockerd writes into the containers' parent cgroups. */
export interface DaemonRealtime {
  period: number;
  runtime: number;
}

/** The driver for what the host mounts; dockerd's refusal of daemon real-time values where containers cannot have them. */
export function detectCgroupDriver(mount: string, parent: string, rt: DaemonRealtime): CgroupDriver {
  const driver = existsSync(`${mount}/cgroup.controllers`) ? new CgroupV2(mount, parent) : new CgroupV1(mount, parent, rt);
  if (rt.period !== 0 || rt.runtime !== 0) {
    if (driver.version === 2) throw new Error('daemon-scoped cpu-rt-period and cpu-rt-runtime are not implemented for cgroup v2');
    if (!driver.supportsCpuRealtime()) throw new Error('daemon-scoped cpu-rt-period and cpu-rt-runtime are not supported by the kernel');
  }
  return driver;
}
