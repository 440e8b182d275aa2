// --cpuset-cpus / --cpuset-mems: dockerd's parse of a cgroup cpuset list ("0-2,5") and its check
// of the requested CPUs and memory nodes against what the host's cpuset cgroup offers.
import type { CpusetInfo } from '../cgroups/limits';
import { badRequest } from '../server/errors';

/** The CpusetCpus and CpusetMems of a HostConfig or an UpdateConfig ('' or absent = none). */
export interface Cpusets {
  CpusetCpus?: string;
  CpusetMems?: string;
}

/** Linux's usual CPU limit: a larger number is refused unless the host has it (dockerd's guard against huge ranges). */
const DEFAULT_MAX = 8192;
const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.Atoi: an optional sign and decimal digits within int64; null otherwise. */
function atoi(s: string): number | null {
  if (!/^[+-]?[0-9]+$/.test(s)) return null;
  const v = BigInt(s);
  return v > INT64_MAX || v < -INT64_MAX - 1n ? null : Number(v);
}

/** The numbers a cpuset list names, with dockerd's errors; `maximum` 0 = no bound. Duplicates are allowed. */
export function parseCpusetList(list: string, maximum: number): Set<number> {
  const out = new Set<number>();
  if (list === '') return out;
  for (const part of list.split(',')) {
    const dash = part.indexOf('-');
    const lo = atoi(dash < 0 ? part : part.slice(0, dash));
    const hi = dash < 0 ? lo : atoi(part.slice(dash + 1));
    if (lo === null || hi === null || hi < lo) throw new Error(`invalid format: ${list}`);
    if (maximum !== 0 && hi > maximum) throw new Error(`value of out range, maximum is ${maximum}`);
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}

/** Whether every number `requested` names is in `available`; throws the parser's error for a bad list. */
export function cpusetAvailable(requested: string, available: string): boolean {
  const offered = parseCpusetList(available, 0);
  const wanted = parseCpusetList(requested, Math.max(DEFAULT_MAX, ...offered));
  return [...wanted].every((n) => offered.has(n));
}

/**
 * dockerd's verifyPlatformContainerResources for cpusets: 400 for a bad list or what the host does
 * not have; without a cpuset controller (`host` null) the values are dropped with its warning.
 */
export function verifyCpusets(r: Cpusets, host: CpusetInfo | null): string[] {
  if (!r.CpusetCpus && !r.CpusetMems) return [];
  if (!host) {
    r.CpusetCpus = '';
    r.CpusetMems = '';
    return ['Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.'];
  }
  const check = (requested: string, available: string, what: string, missing: string): void => {
    let ok: boolean;
    try {
      ok = cpusetAvailable(requested, available);
    } catch (e) {
      throw badRequest(`Invalid value ${requested} for cpuset ${what}: ${(e as Error).message}`);
    }
    if (!ok) throw badRequest(`Requested ${missing} are not available - requested ${requested}, available: ${available}`);
  };
  check(r.CpusetCpus ?? '', host.cpus, 'cpus', 'CPUs');
  check(r.CpusetMems ?? '', host.mems, 'mems', 'memory nodes');
  return [];
}
