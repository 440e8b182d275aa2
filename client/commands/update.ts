// berth update: new resource limits and restart policy for containers, as `docker update`.
import { joinErrors, println, type Cli } from '../cli';
import { parseIntFlag, parseMemBytes, parseNanoCPUs, parseRestartPolicy } from '../opts';

export interface UpdateFlags {
  blkioWeight?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpuShares?: string;
  cpus?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  pidsLimit?: string;
  restart?: string;
}

/** The UpdateConfig body: unset values are 0 or "" (unchanged), PidsLimit only when given. */
export function updateBody(f: UpdateFlags): Record<string, unknown> {
  const int = (v: string | undefined) => (v === undefined ? 0 : parseIntFlag(v));
  const mem = (v: string | undefined) => (v === undefined ? 0 : parseMemBytes(v));
  return {
    BlkioWeight: int(f.blkioWeight),
    CpuShares: int(f.cpuShares),
    Memory: mem(f.memory),
    NanoCpus: f.cpus === undefined ? 0 : parseNanoCPUs(f.cpus),
    CpuPeriod: int(f.cpuPeriod),
    CpuQuota: int(f.cpuQuota),
    CpuRealtimePeriod: int(f.cpuRtPeriod),
    CpuRealtimeRuntime: int(f.cpuRtRuntime),
    CpusetCpus: f.cpusetCpus ?? '',
    CpusetMems: f.cpusetMems ?? '',
    MemoryReservation: mem(f.memoryReservation),
    MemorySwap: mem(f.memorySwap),
    ...(f.pidsLimit !== undefined ? { PidsLimit: int(f.pidsLimit) } : {}),
    RestartPolicy: f.restart ? parseRestartPolicy(f.restart) : { Name: '', MaximumRetryCount: 0 },
  };
}

/** Each name as given on success, then the daemon's warnings, then every failure. */
export async function updateCommand(cli: Cli, names: string[], f: UpdateFlags): Promise<void> {
  if (!Object.values(f).some((v) => v !== undefined)) throw new Error('you must provide one or more flags when using this command');
  const body = updateBody(f);
  const errors: Error[] = [];
  const warnings: string[] = [];
  for (const name of names) {
    try {
      const r = await cli.api.json<{ Warnings?: string[] | null }>('POST', `/containers/${encodeURIComponent(name)}/update`, { body });
      println(cli.out, name);
      warnings.push(...(r.Warnings ?? []));
    } catch (e) {
      errors.push(e as Error);
    }
  }
  if (warnings.length) println(cli.out, warnings.join('\n'));
  joinErrors(errors);
}
