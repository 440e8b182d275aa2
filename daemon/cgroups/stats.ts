// Raw numbers read from a container's cgroup (v1 or v2), before they take Docker's stats shape.

export interface CgroupStats {
  cpu: {
    /** Nanoseconds. */
    total: number;
    /** Per CPU, nanoseconds (v1 only). */
    perCpu?: number[];
    user: number;
    system: number;
    periods: number;
    throttledPeriods: number;
    /** Nanoseconds. */
    throttledTime: number;
  };
  memory: {
    usage: number;
    maxUsage?: number;
    failcnt?: number;
    /** Bytes; undefined when unlimited. */
    limit?: number;
    stats: Record<string, number>;
  };
  pids: { current: number; limit?: number };
  /** Bytes and operations by device, with Docker's op names (v1 "Read", v2 "read"). */
  io: { bytes: IoEntry[]; ops: IoEntry[] };
}

export interface IoEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/** `key value` lines (memory.stat, cpu.stat, cpuacct.stat). */
export function keyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** A single number, or undefined for "max", an empty or missing file. */
export function single(text: string): number | undefined {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

/** v1 blkio lines: `8:0 Read 1234` (per-device Total too, as libcontainer keeps it); the last `Total N` line is not a device. */
export function blkioV1(text: string): IoEntry[] {
  const out: IoEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3], value: Number(m[4]) });
  }
  return out;
}

/** v2 io.stat: `8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0`, as Docker names the ops. */
export function ioStatV2(text: string): { bytes: IoEntry[]; ops: IoEntry[] } {
  const bytes: IoEntry[] = [];
  const ops: IoEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):(\d+) (.*)$/.exec(line.trim());
    if (!m) continue;
    const kv = Object.fromEntries(m[3].split(' ').map((p) => p.split('=') as [string, string]));
    const dev = { major: Number(m[1]), minor: Number(m[2]) };
    for (const [key, op] of [['rbytes', 'read'], ['wbytes', 'write']] as const) if (kv[key] !== undefined) bytes.push({ ...dev, op, value: Number(kv[key]) });
    for (const [key, op] of [['rios', 'read'], ['wios', 'write']] as const) if (kv[key] !== undefined) ops.push({ ...dev, op, value: Number(kv[key]) });
  }
  return { bytes, ops };
}
