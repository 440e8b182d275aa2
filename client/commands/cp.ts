// docker cp: CONTAINER:SRC to a local path (or - for a tar on stdout), a local path (or - for a
// tar on stdin) to CONTAINER:DEST, with the docker CLI's rules for "dir", "dir/" and "dir/.".
import * as fs from 'fs';
import { posix } from 'path';
import { pipeline } from 'stream/promises';
import { Readable } from 'stream';
import * as tar from 'tar-stream';
import { ApiError } from '../api';
import type { Cli } from '../cli';

interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;

export interface CpFlags {
  archive?: boolean;
  followLink?: boolean;
  quiet?: boolean;
}

/** splitCpArg: an absolute or ./ path is local; otherwise NAME:PATH names a container. */
export function splitCpArg(arg: string): { container: string; path: string } {
  if (arg.startsWith('/')) return { container: '', path: arg };
  const i = arg.indexOf(':');
  if (i < 0 || arg.startsWith('.')) return { container: '', path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

/** archive.SplitPathDirEntry: "a/b/." keeps "." as its base (the contents of a/b). */
export function splitPathDirEntry(p: string): { dir: string; base: string } {
  let clean = posix.normalize(p).replace(/(.)\/+$/, '$1');
  if (p === '.' || p.endsWith('/.')) clean = clean === '.' ? './.' : `${clean}/.`;
  const i = clean.lastIndexOf('/');
  if (i < 0) return { dir: '.', base: clean };
  return { dir: clean.slice(0, i) || '/', base: clean.slice(i + 1) };
}

const endsAsDir = (p: string): boolean => p.endsWith('/') || p.endsWith('/.') || p === '.';

/** Renames the leading path element `from` of every entry to `to` (archive.RebaseArchiveEntries). */
function rebase(input: Readable, from: string, to: string): Readable {
  const re = (name: string): string => (name === from || name.startsWith(`${from}/`) ? to + name.slice(from.length) : name);
  const extract = tar.extract();
  const pack = tar.pack();
  pipeline(input, extract).catch((e: Error) => pack.destroy(e));
  (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      await pipeline(entry, pack.entry({ ...h, name: re(h.name), ...(h.type === 'link' && h.linkname ? { linkname: re(h.linkname) } : {}) }));
    }
    pack.finalize();
  })().catch((e: Error) => pack.destroy(e));
  return Readable.from(pack);
}

/** A local path as a tar whose entries start with `name` (or "./" for a directory's contents). */
function tarLocal(root: string, name: string): Readable {
  const pack = tar.pack();
  const walk = async (host: string, entry: string): Promise<void> => {
    const st = fs.lstatSync(host);
    const base = { name: entry, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      pack.entry({ ...base, name: entry.endsWith('/') ? entry : `${entry}/`, type: 'directory' });
      for (const child of fs.readdirSync(host).sort()) await walk(`${host}/${child}`, `${entry.replace(/\/$/, '')}/${child}`);
    } else if (st.isSymbolicLink()) {
      pack.entry({ ...base, type: 'symlink', linkname: fs.readlinkSync(host) });
    } else if (st.isFile()) {
      await pipeline(fs.createReadStream(host), pack.entry({ ...base, type: 'file', size: st.size }));
    }
  };
  walk(root, name).then(
    () => pack.finalize(),
    (e: Error) => pack.destroy(e),
  );
  return Readable.from(pack);
}

/** Untar into a local directory as the CLI does (NoLchown): no entry may land outside it. */
async function untarLocal(input: Readable, dest: string): Promise<void> {
  const extract = tar.extract();
  const feed = pipeline(input, extract);
  const root = fs.realpathSync(dest);
  for await (const entry of extract) {
    const h = entry.header;
    const target = posix.join(root, posix.normalize(h.name));
    if (target !== root && !target.startsWith(`${root}/`)) throw new Error(`${JSON.stringify(h.name)} is outside of ${JSON.stringify(root)}`);
    fs.mkdirSync(posix.dirname(target), { recursive: true });
    const existing = fs.lstatSync(target, { throwIfNoEntry: false });
    if (existing && !(existing.isDirectory() && h.type === 'directory')) fs.rmSync(target, { recursive: true, force: true });
    const mode = (h.mode ?? 0o644) & 0o7777;
    if (h.type === 'directory') {
      if (!existing?.isDirectory()) fs.mkdirSync(target, { mode });
      entry.resume();
    } else if (h.type === 'symlink') {
      fs.symlinkSync(h.linkname ?? '', target);
      entry.resume();
    } else if (h.type === 'link') {
      fs.linkSync(posix.join(root, posix.normalize(h.linkname ?? '')), target);
      entry.resume();
    } else if (h.type === 'file' || h.type === 'contiguous-file') {
      await pipeline(entry, fs.createWriteStream(target, { mode }));
    } else {
      entry.resume();
      continue;
    }
    if (h.type !== 'symlink') {
      fs.chmodSync(target, mode);
      if (h.mtime) fs.utimesSync(target, h.mtime, h.mtime);
    }
  }
  await feed;
}

function decodeStat(header: string | string[] | undefined): PathStat {
  const v = Array.isArray(header) ? header[0] : header;
  return JSON.parse(Buffer.from(v ?? '', 'base64').toString()) as PathStat;
}

async function statInContainer(cli: Cli, container: string, path: string): Promise<PathStat> {
  const res = await cli.api.request('HEAD', `/containers/${encodeURIComponent(container)}/archive`, { query: { path } });
  return decodeStat(res.headers['x-docker-container-path-stat']);
}

async function copyFromContainer(cli: Cli, container: string, srcPath: string, dst: string, flags: CpFlags): Promise<void> {
  let src = srcPath;
  let rebaseName = '';
  if (flags.followLink) {
    const st = await statInContainer(cli, container, src);
    if (st.mode & GO_SYMLINK && st.linkTarget) {
      rebaseName = splitPathDirEntry(src).base;
      src = st.linkTarget;
    }
  }
  const res = await cli.api.request('GET', `/containers/${encodeURIComponent(container)}/archive`, { query: { path: src } });
  if (dst === '-') {
    await pipeline(res.body, cli.out);
    return;
  }
  const stat = decodeStat(res.headers['x-docker-container-path-stat']);
  const srcIsDir = (stat.mode & GO_DIR) !== 0;
  const srcBase = rebaseName || splitPathDirEntry(src).base;
  const { dir: dstDir, base: dstBase } = splitPathDirEntry(dst);
  const dstStat = fs.statSync(dst, { throwIfNoEntry: false });
  let content: Readable = res.body;
  let into = dst;
  if (dstStat?.isDirectory()) {
    into = dst;
    if (rebaseName) content = rebase(content, splitPathDirEntry(src).base, rebaseName);
  } else if (dstStat && srcIsDir) {
    throw new Error('cannot copy a directory to a file');
  } else if (!dstStat && !srcIsDir && endsAsDir(dst)) {
    throw new Error(`no such directory`);
  } else {
    into = dstDir;
    content = rebase(content, rebaseName ? splitPathDirEntry(src).base : srcBase, dstBase);
  }
  if (!fs.existsSync(into)) throw new Error(`lstat ${into}: no such file or directory`);
  await untarLocal(content, into);
}

async function copyToContainer(cli: Cli, src: string, container: string, dstPath: string, flags: CpFlags): Promise<void> {
  const put = (dir: string, body: Readable): Promise<unknown> =>
    cli.api.request('PUT', `/containers/${encodeURIComponent(container)}/archive`, {
      query: { path: dir, noOverwriteDirNonDir: true, copyUIDGID: flags.archive || undefined },
      body,
      headers: { 'Content-Type': 'application/x-tar' },
    });
  let dst = dstPath;
  let dstStat: PathStat | undefined;
  try {
    dstStat = await statInContainer(cli, container, dst);
    if (dstStat.mode & GO_SYMLINK && dstStat.linkTarget) {
      dst = dstStat.linkTarget;
      dstStat = await statInContainer(cli, container, dst);
    }
  } catch (e) {
    if (!(e instanceof ApiError && e.statusCode === 404)) throw e;
  }
  if (src === '-') {
    if (!dstStat || !(dstStat.mode & GO_DIR)) throw new Error(`destination "${container}:${dstPath}" must be a directory`);
    await put(dst, cli.in);
    return;
  }
  const local = flags.followLink ? fs.statSync(src, { throwIfNoEntry: false }) : fs.lstatSync(src, { throwIfNoEntry: false });
  if (!local) throw new Error(`lstat ${posix.resolve(src)}: no such file or directory`);
  const { dir: srcDir, base: srcBase } = splitPathDirEntry(src);
  const real = flags.followLink ? fs.realpathSync(src) : `${srcDir}/${srcBase}`;
  const entryName = srcBase === '.' ? '.' : srcBase;
  let content = tarLocal(real.replace(/\/\.$/, ''), entryName);
  const { dir: dstDir, base: dstBase } = splitPathDirEntry(dst);
  let into = dst;
  if (dstStat && dstStat.mode & GO_DIR) {
    into = dst;
  } else if (dstStat && local.isDirectory()) {
    throw new Error('cannot copy a directory to a file');
  } else if (!dstStat && !local.isDirectory() && endsAsDir(dst)) {
    throw new Error('no such directory');
  } else {
    into = dstDir;
    content = rebase(content, entryName, dstBase);
  }
  await put(into, content);
}

export async function cpCommand(cli: Cli, source: string, destination: string, flags: CpFlags): Promise<void> {
  const s = splitCpArg(source);
  const d = splitCpArg(destination);
  if (s.container && d.container) throw new Error('copying between containers is not supported');
  if (!s.container && !d.container) throw new Error('must specify at least one container source');
  if (s.container) return copyFromContainer(cli, s.container, s.path, d.path, flags);
  return copyToContainer(cli, s.path, d.container, d.path, flags);
}
