// Layer extraction: a tar stream (plain or gzip) into a directory that nothing may escape.
// OCI whiteouts become overlayfs ones; the uncompressed stream's sha256 is the layer's diffID.
import { createHash } from 'crypto';
import * as fs from 'fs';
import { posix } from 'path';
import { Readable, Transform } from 'stream';
import { pipeline } from 'stream/promises';
import { createGunzip } from 'zlib';
import * as tar from 'tar-stream';
import * as libc from '../../native/libc';
import { badRequest } from '../server/errors';

export interface ExtractResult {
  /** sha256:<hex> of the uncompressed tar. */
  diffId: string;
  /** Bytes of regular file content, as Docker counts a layer's size. */
  size: number;
  /** The input was gzip-compressed. */
  gzip: boolean;
}

type Header = Omit<tar.Header, 'pax'> & { pax?: Record<string, string> | null };
type Entry = tar.Extract extends AsyncIterable<infer S> ? S : never;

const WHITEOUT = '.wh.';
const WHITEOUT_META = '.wh..wh.';
const OPAQUE = '.wh..wh..opq';
const XATTR = 'SCHILY.xattr.';
const MAX_LINK_HOPS = 40;
/** Large zlib and read chunks: with Node's 16/64 kB defaults, per-chunk overhead dominates layer extraction. */
export const CHUNK = 1 << 20;

const refuse = (name: string, why: string): Error => badRequest(`invalid tar entry ${JSON.stringify(name)}: ${why}`);

/** The entry's path relative to the root ('' for the root), refusing absolute paths and any that climb out. */
export function safeRelative(name: string): string {
  if (name.startsWith('/')) throw refuse(name, 'absolute paths are not allowed');
  const norm = posix.normalize(name).replace(/\/+$/, '');
  if (norm === '..' || norm.startsWith('../')) throw refuse(name, 'the path climbs out of the root');
  return norm === '.' ? '' : norm;
}

/**
 * The host path of directory `rel` under `root`, walking it one component at a time with lstat.
 * A symlink on the way is followed only when its target is relative and stays inside the root;
 * an absolute or escaping one is refused, so no write can land outside. Missing directories are
 * created when `create` is set.
 */
function resolveDir(root: string, rel: string, entry: string, create: boolean): string {
  const pending = rel ? rel.split('/') : [];
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    const path = [root, ...done, part].join('/');
    const st = fs.lstatSync(path, { throwIfNoEntry: false });
    if (!st) {
      if (!create) throw refuse(entry, `${[...done, part].join('/')} does not exist in the layer`);
      fs.mkdirSync(path, { mode: 0o755 });
    } else if (st.isSymbolicLink()) {
      const target = fs.readlinkSync(path);
      const via = [...done, part].join('/');
      if (target.startsWith('/')) throw refuse(entry, `it would be written through the symlink ${via} -> ${target}, which points outside the layer`);
      const joined = posix.normalize(posix.join(done.join('/'), target));
      if (joined === '..' || joined.startsWith('../')) throw refuse(entry, `it would be written through the symlink ${via} -> ${target}, which points outside the layer`);
      if (++hops > MAX_LINK_HOPS) throw refuse(entry, 'too many levels of symbolic links');
      pending.unshift(...joined.split('/').filter((p) => p && p !== '.'));
      done.length = 0;
      continue;
    } else if (!st.isDirectory()) {
      throw refuse(entry, `${[...done, part].join('/')} is not a directory`);
    }
    done.push(part);
  }
  return [root, ...done].join('/');
}

/** Removes whatever is at `path` (already resolved inside the root), keeping a directory if asked. */
function removeExisting(path: string, keepDir: boolean): void {
  const st = fs.lstatSync(path, { throwIfNoEntry: false });
  if (!st || (keepDir && st.isDirectory())) return;
  fs.rmSync(path, { recursive: true, force: true });
}

/** The stream with its first two bytes peeked at: gzip is recognised by its magic bytes. */
async function peek(input: Readable): Promise<{ source: Readable; gzip: boolean }> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < 2) {
    const n = await it.next();
    if (n.done) break;
    chunks.push(n.value);
    length += n.value.length;
  }
  const head = Buffer.concat(chunks);
  const source = Readable.from(
    (async function* () {
      try {
        yield head;
        for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
      } finally {
        // Stops the input too when extraction gives up early.
        await it.return?.();
      }
    })(),
    { objectMode: false },
  );
  return { source, gzip: head[0] === 0x1f && head[1] === 0x8b };
}

function setXattrs(path: string, h: Header): void {
  for (const [key, value] of Object.entries(h.pax ?? {})) {
    if (!key.startsWith(XATTR)) continue;
    // tar-stream decodes PAX values as UTF-8: a binary value (file capabilities) cannot be restored intact.
    if (value.includes('\uFFFD')) continue;
    try {
      libc.lsetxattr(path, key.slice(XATTR.length), Buffer.from(value, 'utf8'), 0);
    } catch (e) {
      // As Docker: a filesystem without xattr support, or a namespace we may not set, is not fatal.
      const code = (e as { code?: string }).code;
      if (code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EPERM') throw e;
    }
  }
}

/** uid/gid as PAX carries them for IDs too large for the ustar fields. */
function owner(h: Header): [number, number] {
  const uid = h.pax?.uid !== undefined ? Number(h.pax.uid) : (h.uid ?? 0);
  const gid = h.pax?.gid !== undefined ? Number(h.pax.gid) : (h.gid ?? 0);
  return [uid, gid];
}

/** Extracts the tar (plain or gzip) into `root`, an existing empty directory; the caller removes it on error. */
export async function extractLayer(input: Readable, root: string): Promise<ExtractResult> {
  const hash = createHash('sha256');
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  let size = 0;
  // Directory times are set last: creating entries inside would change them again.
  const dirTimes: Array<[string, Date]> = [];

  async function write(entry: Entry): Promise<void> {
    const h = entry.header as Header;
    const rel = safeRelative(h.name);
    const mode = (h.mode ?? 0o644) & 0o7777;
    const mtime = h.mtime ?? new Date(0);
    if (!rel) {
      if (h.type === 'directory') {
        fs.chmodSync(root, mode);
        dirTimes.push([root, mtime]);
      }
      return;
    }
    const base = posix.basename(rel);
    const parent = resolveDir(root, posix.dirname(rel) === '.' ? '' : posix.dirname(rel), h.name, true);
    const target = `${parent}/${base}`;
    if (base === OPAQUE) {
      libc.lsetxattr(parent, 'trusted.overlay.opaque', Buffer.from('y'), 0);
      return;
    }
    // Other AUFS metadata (.wh..wh.plnk and the like) has no meaning for overlayfs.
    if (base.startsWith(WHITEOUT_META)) return;
    if (base.startsWith(WHITEOUT)) {
      const hidden = base.slice(WHITEOUT.length);
      if (!hidden || hidden === '.' || hidden === '..') throw refuse(h.name, 'invalid whiteout name');
      removeExisting(`${parent}/${hidden}`, false);
      libc.mknod(`${parent}/${hidden}`, libc.S_IFCHR, libc.makedev(0, 0));
      fs.lchownSync(`${parent}/${hidden}`, ...owner(h));
      return;
    }
    switch (h.type) {
      case 'directory':
        removeExisting(target, true);
        if (!fs.existsSync(target)) fs.mkdirSync(target, { mode });
        break;
      case 'file':
      case 'contiguous-file':
        removeExisting(target, false);
        await pipeline(entry, fs.createWriteStream(target, { mode, flags: 'wx' }));
        size += h.size ?? 0;
        break;
      case 'symlink':
        removeExisting(target, false);
        fs.symlinkSync(h.linkname ?? '', target);
        break;
      case 'link': {
        const linkRel = safeRelative(h.linkname ?? '');
        if (!linkRel) throw refuse(h.name, 'a hardlink to the root');
        const source = `${resolveDir(root, posix.dirname(linkRel) === '.' ? '' : posix.dirname(linkRel), h.name, false)}/${posix.basename(linkRel)}`;
        const st = fs.lstatSync(source, { throwIfNoEntry: false });
        if (!st || st.isDirectory()) throw refuse(h.name, `hardlink target ${JSON.stringify(h.linkname)} is not a file in the layer`);
        removeExisting(target, false);
        fs.linkSync(source, target);
        // A hardlink shares its target's inode, and with it the metadata already set.
        return;
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        removeExisting(target, false);
        const type = h.type === 'fifo' ? libc.S_IFIFO : h.type === 'block-device' ? libc.S_IFBLK : libc.S_IFCHR;
        libc.mknod(target, type | mode, libc.makedev(h.devmajor ?? 0, h.devminor ?? 0));
        break;
      }
      default:
        // Nothing else (GNU sparse maps, volume labels) has a place in a container filesystem.
        return;
    }
    setXattrs(target, h);
    fs.lchownSync(target, ...owner(h));
    // chown clears set-id bits, so the mode goes on afterwards; a symlink has no mode of its own.
    if (h.type !== 'symlink') fs.chmodSync(target, mode);
    if (h.type === 'directory') dirTimes.push([target, mtime]);
    else fs.lutimesSync(target, mtime, mtime);
  }

  const extract = tar.extract();
  const consume = (async () => {
    try {
      for await (const entry of extract) {
        await write(entry);
        entry.resume();
      }
    } catch (e) {
      extract.destroy(e as Error);
      throw e;
    }
  })();
  let gzipped = false;
  const fed = peek(input).then(({ source, gzip }) => {
    gzipped = gzip;
    return gzip ? pipeline(source, createGunzip({ chunkSize: CHUNK }), hasher, extract) : pipeline(source, hasher, extract);
  });
  fed.catch((e: Error) => extract.destroy(e));
  await Promise.all([fed, consume]);
  for (const [path, t] of dirTimes.reverse()) fs.utimesSync(path, t, t);
  return { diffId: `sha256:${hash.digest('hex')}`, size, gzip: gzipped };
}
