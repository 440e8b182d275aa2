import { readFileSync } from 'fs';

/** One line of /proc/self/mountinfo, as far as berth reads it. */
export interface MountEntry {
  /** The mount point, its octal escapes (\040 for a space) decoded. */
  point: string;
  /** Optional fields: shared:N, master:N... */
  optional: string[];
  fstype: string;
  /** Per-superblock options (for cgroup v1: its controllers among them). */
  superOptions: string[];
}

/** The daemon's mount table. */
export function mountTable(): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0 || !f[4]) continue;
    const point = f[4].replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    out.push({ point, optional: f.slice(6, sep), fstype: f[sep + 1] ?? '', superOptions: (f[sep + 3] ?? '').split(',') });
  }
  return out;
}

/** Mount points at or below `dir` in the daemon's mount namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  return mountTable()
    .map((m) => m.point)
    .filter((m) => m === dir || m.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

/** The mount holding `path` (longest mount point prefix) and its propagation, from mountinfo. */
export function mountOf(path: string): { mountpoint: string; shared: boolean; slave: boolean } {
  let best = { mountpoint: '/', shared: false, slave: false };
  for (const { point, optional } of mountTable()) {
    const inside = point === '/' || path === point || path.startsWith(point + '/');
    if (!inside || point.length < best.mountpoint.length) continue;
    best = { mountpoint: point, shared: optional.some((f) => f.startsWith('shared:')), slave: optional.some((f) => f.startsWith('master:')) };
  }
  return best;
}
