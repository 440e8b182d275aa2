// mount(8)-style option strings ("size=64m,uid=1000,noexec") split into mount(2) flags and the
// filesystem's own data, as moby's mount.ParseOptions does for the local driver's `o` and tmpfs.
import * as libc from '../../native/libc';

const MS_SYNCHRONOUS = 16;
const MS_MANDLOCK = 64;
const MS_DIRSYNC = 128;
const MS_NOATIME = 1024;
const MS_NODIRATIME = 2048;
const MS_RELATIME = 1 << 21;
const MS_STRICTATIME = 1 << 24;

/** name → [clear?, flag]: a clear flag removes the bit (as "rw" does MS_RDONLY). */
const FLAGS: Record<string, [boolean, number]> = {
  defaults: [false, 0],
  ro: [false, libc.MS_RDONLY],
  rw: [true, libc.MS_RDONLY],
  suid: [true, libc.MS_NOSUID],
  nosuid: [false, libc.MS_NOSUID],
  dev: [true, libc.MS_NODEV],
  nodev: [false, libc.MS_NODEV],
  exec: [true, libc.MS_NOEXEC],
  noexec: [false, libc.MS_NOEXEC],
  sync: [false, MS_SYNCHRONOUS],
  async: [true, MS_SYNCHRONOUS],
  dirsync: [false, MS_DIRSYNC],
  remount: [false, libc.MS_REMOUNT],
  mand: [false, MS_MANDLOCK],
  nomand: [true, MS_MANDLOCK],
  atime: [true, MS_NOATIME],
  noatime: [false, MS_NOATIME],
  diratime: [true, MS_NODIRATIME],
  nodiratime: [false, MS_NODIRATIME],
  bind: [false, libc.MS_BIND],
  rbind: [false, libc.MS_BIND | libc.MS_REC],
  relatime: [false, MS_RELATIME],
  norelatime: [true, MS_RELATIME],
  strictatime: [false, MS_STRICTATIME],
  nostrictatime: [true, MS_STRICTATIME],
};

export function parseMountOptions(options: string): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const opt of options.split(',')) {
    if (!opt) continue;
    const f = FLAGS[opt];
    if (!f) data.push(opt);
    else if (f[0]) flags &= ~f[1];
    else flags |= f[1];
  }
  return { flags, data: data.join(',') };
}

/** A byte count as tmpfs accepts it: Docker's RAMInBytes (k, m, g... binary) to a plain number. */
export function parseSize(value: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(value.trim());
  if (!m) return null;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[m[2].toLowerCase() as '' | 'k'];
  return Math.floor(Number(m[1]) * mult);
}
