import { readFileSync } from 'fs';

/** Mount points at or below `dir` in the daemon's mount namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => !!m)
    .map((m) => m.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === dir || m.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

/** The mount holding `path` (longest mount point prefix) and its propagation, from mountinfo. */
export function mountOf(path: string): { mountpoint: string; shared: boolean; slave: boolean } {
  let best = { mountpoint: '/', shared: false, slave: false };
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ');
    const point = fields[4]?.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (!point) continue;
    const inside = point === '/' || path === point || path.startsWith(point + '/');
    if (!inside || point.length < best.mountpoint.length) continue;
    // Optional fields sit between the mount options and the "-" separator.
    const optional = fields.slice(6, fields.indexOf('-'));
    best = { mountpoint: point, shared: optional.some((f) => f.startsWith('shared:')), slave: optional.some((f) => f.startsWith('master:')) };
  }
  return best;
}
