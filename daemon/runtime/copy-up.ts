// Copy-up, run by the container init before a volume is mounted: an empty volume receives what the
// image has at the mount point (owners, modes, times, symlinks, hard links), as dockerd's
// CopyImagePathContent does; a tmpcopyup tmpfs receives it the same way. Imports only fs: it runs on every start.
import * as fs from 'fs';

function isEmptyDir(dir: string): boolean {
  const d = fs.opendirSync(dir);
  try {
    return d.readSync() === null;
  } finally {
    d.closeSync();
  }
}

/** Copies `src`'s content into `dst` when `dst` is empty and `src` is a non-empty directory. */
export function copyUp(src: string, dst: string): void {
  const st = fs.lstatSync(src, { throwIfNoEntry: false });
  if (!st?.isDirectory() || isEmptyDir(src) || !isEmptyDir(dst)) return;
  const links = new Map<string, string>();
  copyDir(src, dst, links);
  // The volume's own directory takes the image directory's owner and mode.
  fs.lchownSync(dst, st.uid, st.gid);
  fs.chmodSync(dst, st.mode & 0o7777);
}

/** tmpcopyup: the image's tree under `src` into a fresh tmpfs at `dst`, whose root keeps its own owner and mode (as runc). */
export function copyTree(src: string, dst: string): void {
  copyDir(src, dst, new Map());
}

function copyDir(src: string, dst: string, links: Map<string, string>): void {
  for (const name of fs.readdirSync(src)) {
    const from = `${src}/${name}`;
    const to = `${dst}/${name}`;
    const st = fs.lstatSync(from);
    const key = `${st.dev}:${st.ino}`;
    if (!st.isDirectory() && st.nlink > 1 && links.has(key)) {
      fs.linkSync(links.get(key) as string, to);
      continue;
    }
    if (st.isDirectory()) {
      fs.mkdirSync(to);
      copyDir(from, to, links);
    } else if (st.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(from), to);
    } else if (st.isFile()) {
      fs.copyFileSync(from, to);
    } else {
      // Devices, fifos and sockets are not copied, as dockerd skips what it cannot read.
      continue;
    }
    if (st.nlink > 1 && !st.isDirectory()) links.set(key, to);
    fs.lchownSync(to, st.uid, st.gid);
    if (!st.isSymbolicLink()) {
      fs.chmodSync(to, st.mode & 0o7777);
      fs.utimesSync(to, st.atime, st.mtime);
    }
  }
}
