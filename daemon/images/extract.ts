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
  /** Bytes of regular file content. */
  size: number;
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** The entry's path relative to the root, or an error for names that climb out or are absolute. */
export function safeRelative(name: string, what = 'path'): string {
  if (name.startsWith('/')) throw badRequest(`invalid tar ${what} ${JSON.stringify(name)}: absolute paths are not allowed`);
  const norm = posix.normalize(name).replace(/\/+$/, '');
  if (norm === '..' || norm.startsWith('../')) throw badRequest(`invalid tar ${what} ${JSON.stringify(name)}: it climbs out of the root`);
  return norm === '.' ? '' : norm;
}

/**
 * The host path for `rel` under `root`, with every parent a real directory inside the root
 * (created when missing). A parent that is a symlink is refused: following it could write outside.
 */
function securePath(root: string, rel: string): string {
  const parts = rel.split('/');
  let cur = root;
  for (const part of parts.slice(0, -1)) {
    cur = `${cur}/${part}`;
    const st = fs.lstatSync(cur, { throwIfNoEntry: false });
    if (!st) fs.mkdirSync(cur, { mode: 0o755 });
    else if (st.isSymbolicLink()) throw badRequest(`invalid tar entry ${JSON.stringify(rel)}: it would be written through the symlink ${JSON.stringify(posix.relative('', cur.slice(root.length + 1)))}`);
    else if (!st.isDirectory()) throw badRequest(`invalid tar entry ${JSON.stringify(rel)}: a parent is not a directory`);
  }
  return `${root}/${rel}`;
}

function removeExisting(path: string, keepDir: boolean): void {
  const st = fs.lstatSync(path, { throwIfNoEntry: false });
  if (!st) return;
  if (st.isDirectory()) {
    if (keepDir) return;
    fs.rmSync(path, { recursive: true, force: true });
  } else fs.unlinkSync(path);
}

/** The stream with its first chunk peeked at: gzip is recognised by its magic bytes. */
async function peek(input: Readable): Promise<{ source: Readable; gzip: boolean }> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await it.next();
  const head: Buffer = first.done ? Buffer.alloc(0) : first.value;
  const source = Readable.from(
    (async function* () {
      yield head;
      for (;;) {
        const n = await it.next();
        if (n.done) return;
        yield n.value;
      }
    })(),
  );
  return { source, gzip: head[0] === 0x1f && head[1] === 0x8b };
}

export async function extractLayer(input: Readable, root: string): Promise<ExtractResult> {
  const hash = createHash('sha256');
  let size = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const extract = tar.extract();
  // Directory times are set last: creating entries inside would change them again.
  const dirTimes: Array<[string, Date]> = [];
  const consume = (async () => {
    try {
      await writeEntries();
    } catch (e) {
      extract.destroy(e as Error);
      throw e;
    }
  })();
  async function writeEntries(): Promise<void> {
    for await (const entry of extract) {
      const h = entry.header;
      const rel = safeRelative(h.name);
      if (!rel) {
        entry.resume();
        if (h.type === 'directory' && h.mode !== undefined) fs.chmodSync(root, h.mode & 0o7777);
        continue;
      }
      const base = posix.basename(rel);
      const dir = posix.dirname(rel);
      const target = securePath(root, rel);
      if (base === OPAQUE) {
        entry.resume();
        const d = dir === '.' ? root : securePath(root, `${dir}/x`).slice(0, -2);
        if (!fs.existsSync(d)) fs.mkdirSync(d, { recursive: true });
        libc.lsetxattr(d, 'trusted.overlay.opaque', Buffer.from('y'));
        continue;
      }
      if (base.startsWith(WHITEOUT_PREFIX)) {
        entry.resume();
        const hidden = `${posix.dirname(target)}/${base.slice(WHITEOUT_PREFIX.length)}`;
        removeExisting(hidden, false);
        libc.mknod(hidden, libc.S_IFCHR, libc.makedev(0, 0));
        continue;
      }
      const mode = (h.mode ?? 0o644) & 0o7777;
      switch (h.type) {
        case 'directory':
          entry.resume();
          removeExisting(target, true);
          if (!fs.existsSync(target)) fs.mkdirSync(target);
          fs.chmodSync(target, mode);
          break;
        case 'file':
        case 'contiguous-file': {
          removeExisting(target, false);
          await pipeline(entry, fs.createWriteStream(target, { mode }));
          fs.chmodSync(target, mode);
          size += h.size ?? 0;
          break;
        }
        case 'symlink':
          entry.resume();
          removeExisting(target, false);
          fs.symlinkSync(h.linkname ?? '', target);
          break;
        case 'link': {
          entry.resume();
          const src = securePath(root, safeRelative(h.linkname ?? '', 'hardlink target'));
          const st = fs.lstatSync(src, { throwIfNoEntry: false });
          if (!st || st.isDirectory()) throw badRequest(`invalid tar hardlink ${JSON.stringify(h.name)}: target ${JSON.stringify(h.linkname)} is not a file in the layer`);
          removeExisting(target, false);
          fs.linkSync(src, target);
          break;
        }
        case 'character-device':
        case 'block-device':
        case 'fifo': {
          entry.resume();
          removeExisting(target, false);
          const type = h.type === 'fifo' ? libc.S_IFIFO : h.type === 'block-device' ? libc.S_IFBLK : libc.S_IFCHR;
          libc.mknod(target, type | mode, libc.makedev(h.devmajor ?? 0, h.devminor ?? 0));
          break;
        }
        default:
          // pax headers and other metadata-only entries carry nothing to write
          entry.resume();
          continue;
      }
      // A hardlink shares its target's inode: its metadata is the target's, already set.
      if (h.type === 'link') continue;
      for (const [key, value] of Object.entries(h.pax ?? {})) {
        if (key.startsWith('SCHILY.xattr.')) libc.lsetxattr(target, key.slice('SCHILY.xattr.'.length), Buffer.from(value, 'latin1'));
      }
      fs.lchownSync(target, h.uid ?? 0, h.gid ?? 0);
      // chown clears set-id bits: restore the mode afterwards (not for symlinks, which have none).
      if (h.type !== 'symlink') fs.chmodSync(target, mode);
      const mtime = h.mtime ?? new Date(0);
      if (h.type === 'directory') dirTimes.push([target, mtime]);
      else fs.lutimesSync(target, mtime, mtime);
    }
  }
  const { source, gzip } = await peek(input);
  const piped = gzip ? pipeline(source, createGunzip(), hasher, extract) : pipeline(source, hasher, extract);
  await Promise.all([piped, consume]);
  for (const [path, t] of dirTimes.reverse()) fs.utimesSync(path, t, t);
  return { diffId: `sha256:${hash.digest('hex')}`, size };
}
