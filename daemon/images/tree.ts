// Directory trees as tar streams: a container's upper dir as an OCI layer (overlayfs whiteouts
// and opaque dirs turned back into `.wh.` entries) for commit, and the merged view of stacked
// layer dirs (what the container sees) for export. Nothing is mounted.
import { createReadStream, lstatSync, readdirSync, readlinkSync, type Stats } from 'fs';
import { Readable } from 'stream';
import * as tar from 'tar-stream';
import * as libc from '../../native/libc';

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** Mount points and the /.dockerenv marker the runtime creates in the upper dir; Docker keeps these in its init layer, out of commits. */
const MOUNT_DIRS = new Set(['proc', 'sys', 'dev']);
const MOUNT_FILES = new Set(['etc/hosts', 'etc/hostname', 'etc/resolv.conf', '.dockerenv']);

/** For upperDiff: what the runtime made in a container's upper dir (its mount points), left out of commits. */
export function runtimeMade(rel: string, st: Stats): boolean {
  if (MOUNT_DIRS.has(rel) && st.isDirectory()) return true;
  return MOUNT_FILES.has(rel) && st.isFile() && st.size === 0;
}

/** An overlayfs whiteout: a character device 0/0. */
export function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

function isOpaque(path: string): boolean {
  try {
    return libc.lgetxattr(path, 'trusted.overlay.opaque')?.toString() === 'y';
  } catch {
    return false;
  }
}

const major = (dev: number): number => Math.floor(dev / 256) & 0xfff;
const minor = (dev: number): number => (dev & 0xff) | ((Math.floor(dev / 4096) & 0xfff00) >>> 0);

/** Writes entries in order, each file's content streamed, hardlinks within the tree kept as links. */
class TarWriter {
  readonly pack = tar.pack();
  private readonly inodes = new Map<string, string>();

  private add(header: Partial<tar.Header> & { name: string }, body?: Readable): Promise<void> {
    return new Promise((resolve, reject) => {
      const entry = this.pack.entry(header as tar.Header, (err) => (err ? reject(err) : resolve()));
      if (body) {
        body.on('error', (e) => entry.destroy(e));
        body.pipe(entry);
      } else entry.end(undefined as unknown as Buffer);
    });
  }

  /** The entry for `path` (already lstat'ed) under the name `rel`. */
  async entry(rel: string, path: string, st: Stats): Promise<void> {
    const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) return this.add({ ...base, name: `${rel}/`, type: 'directory' });
    if (st.isSymbolicLink()) return this.add({ ...base, name: rel, type: 'symlink', linkname: readlinkSync(path) });
    if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? this.inodes.get(key) : undefined;
      if (first) return this.add({ ...base, name: rel, type: 'link', linkname: first });
      if (st.nlink > 1) this.inodes.set(key, rel);
      return this.add({ ...base, name: rel, type: 'file', size: st.size }, st.size > 0 ? createReadStream(path) : undefined);
    }
    const type = st.isCharacterDevice() ? 'character-device' : st.isBlockDevice() ? 'block-device' : st.isFIFO() ? 'fifo' : undefined;
    // Sockets have no tar form; Docker skips them too.
    if (type) return this.add({ ...base, name: rel, type, devmajor: major(st.rdev), devminor: minor(st.rdev) });
  }

  whiteout(rel: string, st?: Stats): Promise<void> {
    return this.add({ name: rel, type: 'file', size: 0, mode: 0, uid: st?.uid ?? 0, gid: st?.gid ?? 0, mtime: st?.mtime ?? new Date(0) });
  }
}

function run(fn: (w: TarWriter) => Promise<void>): Readable {
  const w = new TarWriter();
  fn(w).then(
    () => w.pack.finalize(),
    (e: Error) => w.pack.destroy(e),
  );
  return w.pack as unknown as Readable;
}

const sorted = (dir: string): string[] => readdirSync(dir).sort();

/**
 * The upper dir as a layer tar. `skip(rel, st)` leaves out paths the runtime made (mount points);
 * a whiteout becomes `.wh.<name>`, an opaque dir gets `.wh..wh..opq` after its own entry.
 */
export function upperDiff(upper: string, skip: (rel: string, st: Stats) => boolean): Readable {
  /** A copied-up dir holding only skipped entries (an /etc made for the hosts files) is runtime-made too. */
  const onlySkipped = (r: string): boolean => {
    const names = readdirSync(`${upper}/${r}`);
    if (names.length === 0 || isOpaque(`${upper}/${r}`)) return false;
    return names.every((n) => {
      const st = lstatSync(`${upper}/${r}/${n}`);
      return skip(`${r}/${n}`, st) || (st.isDirectory() && onlySkipped(`${r}/${n}`));
    });
  };
  return run(async (w) => {
    const walk = async (rel: string): Promise<void> => {
      const dir = rel ? `${upper}/${rel}` : upper;
      for (const name of sorted(dir)) {
        const r = rel ? `${rel}/${name}` : name;
        const path = `${upper}/${r}`;
        const st = lstatSync(path);
        if (skip(r, st) || (st.isDirectory() && onlySkipped(r))) continue;
        if (isWhiteout(st)) {
          await w.whiteout(rel ? `${rel}/${WHITEOUT}${name}` : `${WHITEOUT}${name}`, st);
          continue;
        }
        await w.entry(r, path, st);
        if (st.isDirectory()) {
          if (isOpaque(path)) await w.whiteout(`${r}/${OPAQUE}`, st);
          await walk(r);
        }
      }
    };
    await walk('');
  });
}

/** The filesystem a container sees from its layer dirs (top first), as overlayfs merges them. */
export function mergedTree(layers: string[]): Readable {
  return run(async (w) => {
    /** `dirs`: the host dirs that make up directory `rel`, top first, cut below an opaque one. */
    const walk = async (rel: string, dirs: string[]): Promise<void> => {
      const names = [...new Set(dirs.flatMap((d) => readdirSync(d)))].sort();
      for (const name of names) {
        const r = rel ? `${rel}/${name}` : name;
        let found: { path: string; st: Stats; index: number } | undefined;
        for (const [index, d] of dirs.entries()) {
          const st = lstatSync(`${d}/${name}`, { throwIfNoEntry: false });
          if (!st) continue;
          found = isWhiteout(st) ? undefined : { path: `${d}/${name}`, st, index };
          break;
        }
        if (!found) continue;
        await w.entry(r, found.path, found.st);
        if (!found.st.isDirectory()) continue;
        const below: string[] = [];
        for (const d of dirs.slice(found.index)) {
          const p = `${d}/${name}`;
          const st = lstatSync(p, { throwIfNoEntry: false });
          if (!st) continue;
          // A whiteout or a non-directory below hides everything further down.
          if (!st.isDirectory()) break;
          below.push(p);
          if (isOpaque(p)) break;
        }
        await walk(r, below);
      }
    };
    await walk('', layers);
  });
}
