// `GET /containers/{id}/stats` in dockerd's StatsJSON shape, from the cgroup and the container's
// network namespace (/proc/<pid>/net/dev).
import { readFile } from 'fs/promises';
import { totalmem } from 'os';
import type { CgroupStats, IoEntry } from '../cgroups/stats';
import { ZERO_TIME, nowNano, type ContainerRecord } from './record';

export interface Sample {
  read: string;
  cgroup: CgroupStats;
  /** Host CPU time in nanoseconds, all CPUs, as dockerd reads it from /proc/stat. */
  systemCpu: number;
  onlineCpus: number;
  networks?: Record<string, NetworkStats>;
}

export interface NetworkStats {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/** USER_HZ: /proc/stat counts in 1/100 s on Linux. */
const CLOCK_TICKS = 100;

/** The sum of the first seven fields of the cpu line (user..softirq), and the number of CPUs. */
export function parseProcStat(text: string): { systemCpu: number; onlineCpus: number } {
  const lines = text.split('\n');
  const fields = (lines.find((l) => l.startsWith('cpu ')) ?? '').trim().split(/\s+/).slice(1, 8).map(Number);
  const ticks = fields.reduce((a, b) => a + b, 0);
  return { systemCpu: (ticks * 1e9) / CLOCK_TICKS, onlineCpus: lines.filter((l) => /^cpu\d+ /.test(l)).length };
}

/** /proc/<pid>/net/dev: every interface but loopback. */
export function parseNetDev(text: string): Record<string, NetworkStats> {
  const out: Record<string, NetworkStats> = {};
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    out[m[1]] = { rx_bytes: f[0], rx_packets: f[1], rx_errors: f[2], rx_dropped: f[3], tx_bytes: f[8], tx_packets: f[9], tx_errors: f[10], tx_dropped: f[11] };
  }
  return out;
}

export async function takeSample(c: ContainerRecord, cgroup: CgroupStats): Promise<Sample> {
  const { systemCpu, onlineCpus } = parseProcStat(await readFile('/proc/stat', 'utf8'));
  let networks: Record<string, NetworkStats> | undefined;
  // Host networking has no interfaces of its own: dockerd reports none.
  if (c.HostConfig.NetworkMode !== 'host') {
    const dev = await readFile(`/proc/${c.State.Pid}/net/dev`, 'utf8').catch(() => '');
    networks = parseNetDev(dev);
    if (Object.keys(networks).length === 0) networks = undefined;
  }
  return { read: nowNano(), cgroup, systemCpu, onlineCpus, networks };
}

const ZERO_CPU = { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };

function cpuStats(s: Sample): object {
  const cpu = s.cgroup.cpu;
  return {
    cpu_usage: {
      total_usage: cpu.total,
      ...(cpu.perCpu?.length ? { percpu_usage: cpu.perCpu } : {}),
      usage_in_kernelmode: cpu.system,
      usage_in_usermode: cpu.user,
    },
    system_cpu_usage: s.systemCpu,
    online_cpus: s.onlineCpus,
    throttling_data: { periods: cpu.periods, throttled_periods: cpu.throttledPeriods, throttled_time: cpu.throttledTime },
  };
}

const io = (entries: IoEntry[]): IoEntry[] | null => (entries.length ? entries : null);

/** One StatsJSON message; `pre` is the previous sample of a stream (zeros for the first). */
export function statsJson(c: ContainerRecord, cur: Sample | undefined, pre: Sample | undefined): object {
  const mem = cur?.cgroup.memory;
  // An unlimited container reports the machine's memory as its limit, as dockerd does.
  const machine = totalmem();
  const limit = mem ? (mem.limit === undefined || mem.limit > machine ? machine : mem.limit) : undefined;
  const omitZero = (v: number | undefined): number | undefined => (v ? v : undefined);
  return {
    read: cur?.read ?? ZERO_TIME,
    preread: pre?.read ?? ZERO_TIME,
    pids_stats: cur ? { current: omitZero(cur.cgroup.pids.current), limit: omitZero(cur.cgroup.pids.limit) } : {},
    blkio_stats: {
      io_service_bytes_recursive: cur ? io(cur.cgroup.io.bytes) : null,
      io_serviced_recursive: cur ? io(cur.cgroup.io.ops) : null,
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cur ? cpuStats(cur) : ZERO_CPU,
    precpu_stats: pre ? cpuStats(pre) : ZERO_CPU,
    memory_stats: mem
      ? { usage: omitZero(mem.usage), max_usage: omitZero(mem.maxUsage), stats: mem.stats, failcnt: omitZero(mem.failcnt), limit }
      : {},
    name: c.Name,
    id: c.Id,
    ...(cur?.networks ? { networks: cur.networks } : {}),
  };
}
