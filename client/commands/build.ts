// `berth build`: the context directory (or a tar or Dockerfile on stdin) sent as the docker CLI
// sends it to the classic builder, .dockerignore applied here, the stream printed as it prints it.
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'fs';
import { join, relative, resolve } from 'path';
import * as tar from 'tar-stream';
import { isIgnored, parseIgnoreFile, type IgnorePattern } from '../../daemon/build/ignore';
import { StatusError, type Cli } from '../cli';
import { parseNormalizedNamed } from '../format/reference';
import { JSONStreamParser, displayJSONMessage, type JSONMessage } from '../stream';

export interface BuildFlags {
  tag?: string[];
  file?: string;
  buildArg?: string[];
  label?: string[];
  target?: string;
  noCache?: boolean;
  quiet?: boolean;
  pull?: boolean;
}

/** go-units HumanSize: four significant digits, decimal units. */
function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${Number(n.toPrecision(4))}${units[i]}`;
}

type AddEntry = (header: Partial<tar.Header> & { name: string }, body?: Buffer) => Promise<void>;

/** A tar made in memory (build contexts are sent whole, with their length). */
async function tarBuffer(fill: (add: AddEntry) => Promise<void>): Promise<Buffer> {
  const pack = tar.pack();
  const collected = (async () => {
    const chunks: Buffer[] = [];
    for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  })();
  const add: AddEntry = (header, body) => new Promise((res, rej) => pack.entry(header as tar.Header, body ?? Buffer.alloc(0), (e) => (e ? rej(e) : res())));
  await fill(add);
  pack.finalize();
  return collected;
}

/** The context as a tar: owners 0:0 as the docker CLI sends them, ignored paths left out (the Dockerfile and .dockerignore always kept). */
async function contextTar(dir: string, dockerfile: string): Promise<Buffer> {
  let patterns: IgnorePattern[] = [];
  try {
    patterns = parseIgnoreFile(readFileSync(join(dir, '.dockerignore'), 'utf8'));
  } catch {
    // no .dockerignore
  }
  const keep = new Set(['.dockerignore', dockerfile]);
  const walk = async (add: AddEntry, rel: string): Promise<void> => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      const path = join(dir, child);
      const st = lstatSync(path);
      const ignored = !keep.has(child) && isIgnored(child, patterns);
      const base = { name: child, mode: st.mode & 0o7777, uid: 0, gid: 0, mtime: st.mtime };
      if (st.isDirectory()) {
        // A directory is still walked when an exception may bring back something inside it.
        if (!ignored) await add({ ...base, name: `${child}/`, type: 'directory' });
        if (!ignored || patterns.some((p) => p.exclusion)) await walk(add, child);
      } else if (ignored) continue;
      else if (st.isSymbolicLink()) await add({ ...base, type: 'symlink', linkname: readlinkSync(path) });
      else if (st.isFile()) await add({ ...base, type: 'file', size: st.size }, readFileSync(path));
    }
  };
  return tarBuffer((add) => walk(add, ''));
}

function looksLikeArchive(b: Buffer): boolean {
  if (b.length >= 262 && b.subarray(257, 262).toString('latin1') === 'ustar') return true;
  return (b[0] === 0x1f && b[1] === 0x8b) || b.subarray(0, 3).toString('latin1') === 'BZh' || b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
}

async function stdinContext(cli: Cli, dockerfile: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of cli.in) chunks.push(Buffer.from(c as Buffer));
  const data = Buffer.concat(chunks);
  if (looksLikeArchive(data)) return data;
  // A Dockerfile alone: a context holding only it.
  return tarBuffer((add) => add({ name: dockerfile, mode: 0o600, uid: 0, gid: 0, mtime: new Date() }, data));
}

function keyValues(list: string[] | undefined, nullWithoutValue: boolean): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const kv of list ?? []) {
    const eq = kv.indexOf('=');
    // `--build-arg NAME` takes NAME's value from the client's environment, as the docker CLI does.
    if (eq < 0) out[kv] = nullWithoutValue ? (process.env[kv] ?? null) : '';
    else out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

export async function buildCommand(cli: Cli, path: string, flags: BuildFlags): Promise<void> {
  for (const t of flags.tag ?? []) parseNormalizedNamed(t);
  let body: Buffer;
  let dockerfile = flags.file ?? '';
  if (path === '-') {
    body = await stdinContext(cli, dockerfile || 'Dockerfile');
    if (!flags.quiet) cli.out.write(`Sending build context to Docker daemon  ${humanSize(body.length)}\r\r\n`);
  } else {
    const dir = resolve(path);
    if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`unable to prepare context: path "${path}" not found`);
    const dfPath = dockerfile ? resolve(dockerfile) : join(dir, 'Dockerfile');
    if (!statSync(dfPath, { throwIfNoEntry: false })) throw new Error(`unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${dfPath}: no such file or directory`);
    const rel = relative(dir, dfPath);
    if (rel.startsWith('..')) throw new Error('berth build: the Dockerfile must be inside the build context');
    dockerfile = rel;
    body = await contextTar(dir, rel);
    if (!flags.quiet) cli.out.write(`Sending build context to Docker daemon  ${humanSize(body.length)}\r\r\n`);
  }
  const query = {
    t: flags.tag,
    dockerfile: dockerfile || undefined,
    buildargs: flags.buildArg?.length ? JSON.stringify(keyValues(flags.buildArg, true)) : undefined,
    labels: flags.label?.length ? JSON.stringify(keyValues(flags.label, false)) : undefined,
    target: flags.target || undefined,
    nocache: flags.noCache ? '1' : undefined,
    q: flags.quiet ? '1' : undefined,
    pull: flags.pull ? '1' : undefined,
    rm: '1',
  };
  const res = await cli.api.request('POST', '/build', { query, body, headers: { 'Content-Type': 'application/x-tar' } });
  const parser = new JSONStreamParser();
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    for (const m of parser.push(chunk.toString('utf8'))) {
      const jm = m as JSONMessage;
      // A failed RUN ends the command with its exit code, as `docker build` does.
      if (jm.errorDetail || jm.error) throw new StatusError(jm.errorDetail?.code || 1, jm.errorDetail?.message || jm.error);
      const text = displayJSONMessage(jm);
      if (text !== undefined) cli.out.write(text);
    }
  }
}
