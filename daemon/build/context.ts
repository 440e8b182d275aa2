// The build context: the request body (a tar, plain or compressed) unpacked into a private
// directory that no entry can escape, and the Dockerfile read from it as Docker's classic
// builder does (the lower-case name as fallback, Docker's messages when missing or empty).
import { spawn } from 'child_process';
import { readFileSync, rmSync, statSync } from 'fs';
import { Readable } from 'stream';
import { createGunzip } from 'zlib';
import { extractLayer } from '../images/extract';
import { ApiError, badRequest } from '../server/errors';
import { resolveInRoot } from '../util/resolve-in-root';
import { isIgnored, parseIgnoreFile } from './ignore';

type Compression = 'gzip' | 'bzip2' | 'xz' | 'zstd' | 'none';

export function compressionOf(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'zstd';
  return 'none';
}

/** The first bytes of a stream, and the whole stream again. */
async function peek(input: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const it = input[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let len = 0;
  while (len < n) {
    const r = await it.next();
    if (r.done) break;
    const c = Buffer.from(r.value as Buffer);
    chunks.push(c);
    len += c.length;
  }
  const head = Buffer.concat(chunks);
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value as Buffer;
  }
  return { head, stream: Readable.from(all()) };
}

/** bzip2 and xz through the host's tools (Node has no decoder for them). */
function throughTool(tool: string, input: Readable): Readable {
  const child = spawn(tool, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  input.on('error', (e) => child.stdout.destroy(e));
  child.stdin.on('error', () => undefined);
  input.pipe(child.stdin);
  child.on('error', (e) => child.stdout.destroy(new Error(`${tool} is needed to read this archive: ${e.message}`)));
  child.on('exit', (code) => {
    if (code) child.stdout.destroy(new Error(`${tool}: ${stderr.trim() || `exit status ${code}`}`));
  });
  return child.stdout;
}

/** The stream decompressed (gzip in Node, bzip2 and xz through their tools). */
export async function decompressed(input: Readable): Promise<Readable> {
  const { head, stream } = await peek(input, 6);
  switch (compressionOf(head)) {
    case 'gzip':
      return stream.pipe(createGunzip());
    case 'bzip2':
      return throughTool('bzip2', stream);
    case 'xz':
      return throughTool('xz', stream);
    case 'zstd':
      throw badRequest('zstd-compressed build contexts are not supported');
    default:
      return stream;
  }
}

/** Unpacks the context tar into `dir` (an empty directory). */
export async function receiveContext(body: Readable, dir: string): Promise<void> {
  await extractLayer(await decompressed(body), dir);
}

/**
 * The Dockerfile's text, and the context with it (and .dockerignore) removed when .dockerignore
 * lists them, as Docker does. Docker's messages (and status codes) when it is missing or empty.
 */
export function readDockerfile(dir: string, name: string): string {
  const find = (n: string): string | undefined => {
    const path = resolveInRoot(dir, n);
    return statSync(path, { throwIfNoEntry: false })?.isFile() ? path : undefined;
  };
  let used = name;
  let path = find(name);
  if (!path && name === 'Dockerfile' && find('dockerfile')) {
    used = 'dockerfile';
    path = find('dockerfile');
  }
  if (!path) throw new ApiError(500, `Cannot locate specified Dockerfile: ${name}`);
  const text = readFileSync(path, 'utf8');
  if (text.length === 0) throw badRequest(`the Dockerfile (${used}) cannot be empty`);
  const ignore = find('.dockerignore');
  if (ignore) {
    const patterns = parseIgnoreFile(readFileSync(ignore, 'utf8'));
    for (const f of ['.dockerignore', used]) if (isIgnored(f, patterns)) rmSync(resolveInRoot(dir, f), { force: true });
  }
  return text;
}
