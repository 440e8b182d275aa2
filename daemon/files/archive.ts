// docker cp's three operations, run by the files helper after it has chrooted into the container's
// root: every path the kernel resolves stays inside it, symlinks and `..` included, as dockerd's
// chrootarchive does. Paths here are container paths.
import * as fs from 'fs';
import { posix } from 'path';
import { pipeline } from 'stream/promises';
import type { Readable, Writable } from 'stream';
import * as tar from 'tar-stream';
import * as libc from '../../native/libc';

/** types.ContainerPathStat: what X-Docker-Container-Path-Stat carries (base64 JSON). */
export interface PathStat {
  name: string;
  size: number;
  /** Go's os.FileMode bits. */
  mode: number;
  mtime: string;
  linkTarget: string;
}

export class FilesError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const GO_MODE = { dir: 2 ** 31, symlink: 2 ** 27, device: 2 ** 26, pipe: 2 ** 25, socket: 2 ** 24, setuid: 2 ** 23, setgid: 2 ** 22, char: 2 ** 21, sticky: 2 ** 20 };

/** st_mode as Go's os.FileMode. */
export function goFileMode(st: fs.Stats | fs.BigIntStats): number {
  const m = Number(st.mode);
  let mode = m & 0o777;
  if (st.isDirectory()) mode += GO_MODE.dir;
  else if (st.isSymbolicLink()) mode += GO_MODE.symlink;
  else if (st.isFIFO()) mode += GO_MODE.pipe;
  else if (st.isSocket()) mode += GO_MODE.socket;
  else if (st.isBlockDevice()) mode += GO_MODE.device;
  else if (st.isCharacterDevice()) mode += GO_MODE.device + GO_MODE.char;
  if (m & 0o4000) mode += GO_MODE.setuid;
  if (m & 0o2000) mode += GO_MODE.setgid;
  if (m & 0o1000) mode += GO_MODE.sticky;
  return mode;
}

/** Go's RFC 3339 with nanoseconds, trailing zeros trimmed (time.Time's JSON). */
function goTime(ns: bigint): string {
  const iso = new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${iso}${frac ? `.${frac}` : ''}Z`;
}

/** Go's filepath.Base: trailing slashes dropped, "/" for the root. */
function goBase(p: string): string {
  const t = p.replace(/\/+$/, '');
  return t === '' ? '/' : t.slice(t.lastIndexOf('/') + 1);
}

/** The absolute path as asked, keeping a trailing "/" or "/." (they change what cp means). */
export function absolutePath(path: string): string {
  // Cleaned as Go's filepath.Join cleans (posix.join keeps a trailing slash), then the marker put back once.
  const joined = posix.join('/', path).replace(/(.)\/+$/, '$1');
  if (path.endsWith('/.') || path === '.') return joined === '/' ? '/.' : `${joined}/.`;
  if (path.endsWith('/') && joined !== '/') return `${joined}/`;
  return joined;
}

const notFound = (path: string): FilesError => new FilesError(404, `Could not find the file ${path}`);

/** The directory resolved (symlinks followed) and the last element kept as is, as dockerd's ResolvePath. */
function resolvePath(path: string): { abs: string; resolved: string } {
  const abs = absolutePath(path);
  const slash = abs.lastIndexOf('/');
  const dir = abs.slice(0, slash) || '/';
  const base = abs.slice(slash + 1);
  let realDir: string;
  try {
    realDir = fs.realpathSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') throw notFound(path);
    throw e;
  }
  return { abs, resolved: base ? posix.join(realDir, base) + (base === '.' ? '/.' : '') : realDir };
}

export function statPath(path: string): PathStat {
  const { abs, resolved } = resolvePath(path);
  let st: fs.BigIntStats;
  try {
    st = fs.lstatSync(abs.endsWith('/') ? `${resolved}/` : resolved, { bigint: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw notFound(path);
    if (code === 'ENOTDIR') throw new FilesError(400, `lstat ${abs}: not a directory`);
    throw e;
  }
  let linkTarget = '';
  if (st.isSymbolicLink()) {
    try {
      linkTarget = fs.realpathSync(resolved);
    } catch {
      // A dangling link: its target as written, made absolute.
      linkTarget = posix.resolve(posix.dirname(resolved), fs.readlinkSync(resolved));
    }
  }
  return { name: goBase(abs), size: Number(st.size), mode: goFileMode(st), mtime: goTime(st.mtimeNs), linkTarget };
}

/**
 * The tar of a path for `GET archive`: entries named from the requested base name (so `/dir/.`
 * gives `./...`, the contents), symlinks archived as links, hard links once.
 */
export async function archivePath(path: string, out: Writable): Promise<void> {
  const { abs, resolved } = resolvePath(path);
  const clean = posix.normalize(resolved);
  const source = clean;
  const rebase = clean === '/' ? '.' : goBase(abs);
  const pack = tar.pack();
  const done = pipeline(pack, out);
  const inodes = new Map<string, string>();

  const add = async (hostPath: string, name: string): Promise<void> => {
    const st = fs.lstatSync(hostPath);
    const header = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime, size: 0 };
    const key = `${st.dev}:${st.ino}`;
    if (st.isDirectory()) {
      pack.entry({ ...header, name: name.endsWith('/') ? name : `${name}/`, type: 'directory' });
      for (const child of fs.readdirSync(hostPath).sort()) await add(posix.join(hostPath, child), `${name.replace(/\/$/, '')}/${child}`);
      return;
    }
    if (st.isSymbolicLink()) {
      pack.entry({ ...header, type: 'symlink', linkname: fs.readlinkSync(hostPath) });
      return;
    }
    if (st.nlink > 1 && inodes.has(key)) {
      pack.entry({ ...header, type: 'link', linkname: inodes.get(key) });
      return;
    }
    if (st.nlink > 1) inodes.set(key, name);
    if (st.isFile()) {
      const entry = pack.entry({ ...header, type: 'file', size: st.size });
      await pipeline(fs.createReadStream(hostPath), entry);
      return;
    }
    const dev = { devmajor: Number(BigInt(st.rdev) >> 8n) & 0xfff, devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) };
    if (st.isCharacterDevice()) pack.entry({ ...header, type: 'character-device', ...dev });
    else if (st.isBlockDevice()) pack.entry({ ...header, type: 'block-device', ...dev });
    else if (st.isFIFO()) pack.entry({ ...header, type: 'fifo' });
    // Sockets are not archived, as in Docker's tar.
  };

  try {
    await add(source, rebase);
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
  }
  await done;
}

export interface ExtractOptions {
  noOverwriteDirNonDir: boolean;
  /** Keep the archive's owners (`docker cp -a`); otherwise everything belongs to root, as dockerd does. */
  copyUIDGID: boolean;
}

/** The directory `PUT archive` extracts into: it must exist and be a directory (symlinks followed). */
export function extractionPoint(path: string): string {
  let dest: string;
  try {
    dest = fs.realpathSync(posix.join('/', path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') throw notFound(path);
    throw e;
  }
  if (!fs.statSync(dest).isDirectory()) throw new FilesError(400, 'extraction point is not a directory');
  return dest;
}

const breakout = (msg: string): FilesError => new FilesError(400, msg);

/** Unpacks as dockerd's archive.Unpack: no entry, hard link or symlink may point outside `dest`. */
export async function extractArchive(dest: string, input: Readable, opts: ExtractOptions): Promise<void> {
  const extract = tar.extract();
  const dirs: Array<{ path: string; mtime: Date }> = [];
  const inside = (p: string): boolean => p === dest || p.startsWith(dest === '/' ? '/' : `${dest}/`);
  const feed = pipeline(input, extract);
  for await (const entry of extract) {
    const hdr = entry.header;
    const name = posix.normalize(hdr.name);
    const path = posix.join(dest, name);
    if (!inside(path)) throw breakout(`${JSON.stringify(hdr.name)} is outside of ${JSON.stringify(dest)}`);
    const parent = posix.dirname(path);
    if (!fs.existsSync(parent)) fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
    const existing = fs.lstatSync(path, { throwIfNoEntry: false });
    const isDir = hdr.type === 'directory';
    if (existing) {
      if (opts.noOverwriteDirNonDir && existing.isDirectory() && !isDir) throw new FilesError(400, `cannot overwrite directory ${JSON.stringify(path)} with non-directory ${JSON.stringify(dest)}`);
      if (opts.noOverwriteDirNonDir && !existing.isDirectory() && isDir) throw new FilesError(400, `cannot overwrite non-directory ${JSON.stringify(path)} with directory ${JSON.stringify(dest)}`);
      if (!(existing.isDirectory() && isDir)) fs.rmSync(path, { recursive: true, force: true });
    }
    const mode = (hdr.mode ?? 0o644) & 0o7777;
    switch (hdr.type) {
      case 'directory':
        if (!existing?.isDirectory()) fs.mkdirSync(path, { mode });
        break;
      case 'file':
      case 'contiguous-file': {
        const fd = fs.openSync(path, fs.constants.O_CREAT | fs.constants.O_WRONLY | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, mode);
        await pipeline(entry, fs.createWriteStream('', { fd }));
        break;
      }
      case 'symlink': {
        const link = hdr.linkname ?? '';
        if (!inside(posix.join(posix.dirname(path), link))) throw breakout(`invalid symlink ${JSON.stringify(path)} -> ${JSON.stringify(link)}`);
        fs.symlinkSync(link, path);
        break;
      }
      case 'link': {
        const target = posix.join(dest, hdr.linkname ?? '');
        if (!inside(target)) throw breakout(`invalid hardlink ${JSON.stringify(target)} -> ${JSON.stringify(hdr.linkname)}`);
        fs.linkSync(target, path);
        break;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        const kind = hdr.type === 'fifo' ? libc.S_IFIFO : hdr.type === 'block-device' ? libc.S_IFBLK : libc.S_IFCHR;
        libc.mknod(path, kind | mode, hdr.type === 'fifo' ? 0 : libc.makedev(hdr.devmajor ?? 0, hdr.devminor ?? 0));
        break;
      }
      default:
        // PAX globals and other metadata-only entries carry nothing to write.
        entry.resume();
        continue;
    }
    entry.resume();
    const uid = opts.copyUIDGID ? (hdr.uid ?? 0) : 0;
    const gid = opts.copyUIDGID ? (hdr.gid ?? 0) : 0;
    fs.lchownSync(path, uid, gid);
    if (hdr.type !== 'symlink') fs.chmodSync(path, mode);
    const mtime = hdr.mtime ?? new Date();
    if (hdr.type === 'directory') dirs.push({ path, mtime });
    else if (hdr.type === 'symlink') fs.lutimesSync(path, mtime, mtime);
    else fs.utimesSync(path, mtime, mtime);
  }
  await feed;
  // Directory times last: creating their entries changed them.
  for (const d of dirs.reverse()) fs.utimesSync(d.path, d.mtime, d.mtime);
}
