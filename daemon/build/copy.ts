// COPY and ADD: the sources picked from the context (or another image's files) with Docker's
// wildcard and path rules, their content checksums (the build cache key), and the copy into a
// layer directory on top of the image, resolving the destination through the image's layers
// (symlinks followed inside the image, existing parent directories kept as they are).
import { createHash } from 'crypto';
import { chmodSync, closeSync, copyFileSync, createReadStream, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, rmSync, statSync, symlinkSync, type Stats, utimesSync } from 'fs';
import { posix } from 'path';
import { extractLayer } from '../images/extract';
import { badRequest } from '../server/errors';
import { lookupInLayers } from '../images/layer-lookup';
import { resolveInRoot, TooManyLinks, walkInRoot } from '../util/resolve-in-root';
import { decompressed } from './context';

export interface CopySource {
  /** The directory the source is read from (the context, or an image's files). */
  root: string;
  /** Its path inside root. */
  rel: string;
  /** Docker's cache checksum: `file:<sha256>` or `dir:<sha256>`. */
  hash: string;
  /** Downloaded (ADD <url>): never extracted. */
  remote?: boolean;
}

const hasWildcards = (p: string): boolean => /[*?[]/.test(p);

/** filepath.Match: `*` and `?` within one path segment, `[...]` classes. */
function matchRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close < 0) return /$^/;
      const body = pattern.slice(i + 1, close);
      re += `[${body.startsWith('^') ? `^${body.slice(1)}` : body}]`;
      i = close;
    } else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function walk(root: string, rel: string, out: string[]): void {
  for (const name of readdirSync(root + (rel ? `/${rel}` : '')).sort()) {
    const child = rel ? `${rel}/${name}` : name;
    out.push(child);
    if (lstatSync(`${root}/${child}`).isDirectory()) walk(root, child, out);
  }
}

function fileHash(root: string, rel: string, st: Stats): string {
  const h = createHash('sha256').update(`${rel}\0${st.mode}\0${st.uid}\0${st.gid}\0${st.size}\0`);
  if (st.isSymbolicLink()) h.update(readlinkSync(`${root}/${rel}`));
  else if (st.isFile()) {
    const fd = openSync(`${root}/${rel}`, 'r');
    try {
      const buf = Buffer.alloc(1 << 20);
      for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) h.update(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }
  return h.digest('hex');
}

const hashList = (prefix: string, list: string[]): string => `${prefix}:${createHash('sha256').update(list.join(',')).digest('hex')}`;

/** The checksum of one source path (resolved inside root; a directory hashes everything under it). */
function sourceHash(root: string, rel: string): string {
  const path = resolveInRoot(root, rel);
  const st = statSync(path);
  if (!st.isDirectory()) return `file:${fileHash(posix.dirname(path), posix.basename(path), st)}`;
  const all: string[] = [];
  walk(path, '', all);
  return hashList('dir', all.map((r) => fileHash(path, r, lstatSync(`${path}/${r}`))).sort());
}

/**
 * The sources of a COPY or ADD, as Docker's copier finds them: leading `/` and `./` dropped,
 * wildcards matched against every path of the root, Docker's errors (`fromImage` changes the
 * message for a missing file).
 */
export function copySources(root: string, srcs: string[], cmd: string, fromImage: boolean): CopySource[] {
  const out: CopySource[] = [];
  for (const orig of srcs) {
    const cleaned = orig.replace(/^\/+/, '').replace(/^\.\//, '');
    const norm = posix.normalize(cleaned || '.');
    if (norm === '..' || norm.startsWith('../')) throw badRequest(`${cmd} failed: forbidden path outside the build context: ${orig} ()`);
    if (hasWildcards(cleaned)) {
      const re = matchRegExp(posix.normalize(cleaned));
      const all: string[] = [];
      walk(root, '', all);
      for (const rel of all.filter((r) => re.test(r))) out.push({ root, rel, hash: sourceHash(root, rel) });
      continue;
    }
    const rel = norm === '.' ? '' : norm;
    if (!statSync(resolveInRoot(root, rel), { throwIfNoEntry: false })) {
      const stat = `stat ${rel || '.'}: file does not exist`;
      throw badRequest(`${cmd} failed: ${fromImage ? stat : `file not found in build context or excluded by .dockerignore: ${stat}`}`);
    }
    out.push({ root, rel, hash: sourceHash(root, rel) });
  }
  if (out.length === 0) throw badRequest(`${cmd} failed: no source files were specified`);
  return out;
}

/** The checksum the comment of a COPY/ADD history entry names: one source's, or all of them. */
export function sourcesHash(sources: CopySource[]): string {
  return sources.length === 1 ? sources[0].hash : hashList('multi', sources.map((s) => s.hash));
}

/** Whether the file is a tar archive (plain or compressed), which ADD unpacks. */
async function isArchive(path: string): Promise<boolean> {
  let head = Buffer.alloc(0);
  try {
    const stream = await decompressed(createReadStream(path, { end: 1 << 20 }));
    for await (const c of stream) {
      head = Buffer.concat([head, c as Buffer]);
      if (head.length >= 512) break;
    }
    stream.destroy();
  } catch {
    return false;
  }
  if (head.length < 512) return false;
  if (head.subarray(257, 262).toString('latin1') === 'ustar') return true;
  // A v7 tar: the header checksum (spaces in its own field) matches.
  const sum = [...head.subarray(0, 512)].reduce((a, b, i) => a + (i >= 148 && i < 156 ? 32 : b), 0);
  return Number.parseInt(head.subarray(148, 156).toString('latin1').replace(/\0.*$/, '').trim(), 8) === sum;
}

export interface CopyOptions {
  /** uid:gid for everything copied (COPY's default is root); undefined keeps the sources' owners. */
  identity?: [number, number];
  /** ADD: local tar archives are unpacked. */
  decompress: boolean;
}

/**
 * The image's filesystem with a writable layer dir on top (nothing mounted): the layer gets
 * the copies, the image's layers are read to resolve paths and keep existing directories.
 */
export class LayerTarget {
  /** `lower`: the image's layer dirs, lowest first. */
  constructor(
    private readonly upper: string,
    private readonly lower: string[],
  ) {}

  private lookup(abs: string): { st: Stats; path: string } | null {
    return lookupInLayers([this.upper, ...[...this.lower].reverse()], abs);
  }

  /** `abs` with every symlink on the way (and at the end, unless `keepLast`) resolved inside the image. */
  resolve(abs: string, keepLast = false): string {
    try {
      const inside = walkInRoot(abs, (next, last) => {
        const found = keepLast && last ? null : this.lookup(next);
        return found?.st.isSymbolicLink() ? readlinkSync(found.path) : null;
      });
      return inside || '/';
    } catch (e) {
      if (e instanceof TooManyLinks) throw badRequest(`too many levels of symbolic links: ${abs}`);
      throw e;
    }
  }

  isDir(abs: string): boolean {
    return this.lookup(this.resolve(abs))?.st.isDirectory() === true;
  }

  /** Makes the (resolved) directory in the layer: existing ones as the image has them, new ones 0755 owned by `identity` (root by default). */
  ensureDir(resolved: string, identity?: [number, number]): void {
    let cur = '';
    for (const p of resolved.split('/').filter(Boolean)) {
      cur = `${cur}/${p}`;
      const inUpper = lstatSync(this.upper + cur, { throwIfNoEntry: false });
      if (inUpper?.isDirectory()) continue;
      if (inUpper) rmSync(this.upper + cur, { recursive: true, force: true });
      const below = this.lookup(cur);
      mkdirSync(this.upper + cur);
      if (below?.st.isDirectory()) {
        lchownSync(this.upper + cur, below.st.uid, below.st.gid);
        chmodSync(this.upper + cur, below.st.mode & 0o7777);
        utimesSync(this.upper + cur, below.st.atime, below.st.mtime);
      } else {
        lchownSync(this.upper + cur, ...(identity ?? [0, 0]));
        chmodSync(this.upper + cur, 0o755);
      }
    }
  }

  /** The host path in the layer for a resolved image path. */
  hostPath(resolved: string): string {
    return this.upper + resolved;
  }
}

function copyEntry(src: string, st: Stats, dest: string, identity: [number, number] | undefined): void {
  const owner: [number, number] = identity ?? [st.uid, st.gid];
  const existing = lstatSync(dest, { throwIfNoEntry: false });
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) rmSync(dest, { force: true });
    if (!existing?.isDirectory()) mkdirSync(dest);
    for (const name of readdirSync(src)) copyEntry(`${src}/${name}`, lstatSync(`${src}/${name}`), `${dest}/${name}`, identity);
    lchownSync(dest, ...owner);
    chmodSync(dest, st.mode & 0o7777);
    utimesSync(dest, st.atime, st.mtime);
    return;
  }
  if (existing) rmSync(dest, { recursive: true, force: true });
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(src), dest);
    lchownSync(dest, ...owner);
    lutimesSync(dest, st.atime, st.mtime);
    return;
  }
  if (!st.isFile()) return;
  copyFileSync(src, dest);
  lchownSync(dest, ...owner);
  chmodSync(dest, st.mode & 0o7777);
  utimesSync(dest, st.atime, st.mtime);
}

/** Copies the sources to `dest` (absolute; a trailing `/` means a directory), as Docker's performCopyForInfo. */
export async function copyInto(target: LayerTarget, dest: string, sources: CopySource[], opts: CopyOptions): Promise<void> {
  for (const s of sources) {
    const src = resolveInRoot(s.root, s.rel);
    const st = statSync(src);
    if (st.isDirectory()) {
      const to = target.resolve(dest);
      target.ensureDir(to, opts.identity);
      for (const name of readdirSync(src)) copyEntry(`${src}/${name}`, lstatSync(`${src}/${name}`), `${target.hostPath(to)}/${name}`, opts.identity);
      continue;
    }
    if (opts.decompress && !s.remote && (await isArchive(src))) {
      const to = target.resolve(dest);
      target.ensureDir(to, opts.identity);
      await extractLayer(await decompressed(createReadStream(src)), target.hostPath(to));
      continue;
    }
    const name = posix.basename(s.rel || src);
    const file = dest.endsWith('/') || target.isDir(dest) ? `${dest.replace(/\/+$/, '')}/${name}` : dest;
    const resolved = target.resolve(file, true);
    const parent = target.resolve(posix.dirname(resolved));
    target.ensureDir(parent, opts.identity);
    copyEntry(src, st, target.hostPath(posix.join(parent, posix.basename(resolved))), opts.identity);
  }
}
