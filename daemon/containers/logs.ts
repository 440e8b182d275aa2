// The json-file log driver: one JSON object per line of output, as Docker writes <id>-json.log,
// with Docker's rotation (max-size, max-file: <id>-json.log.1 is the newest rotated file).
import { closeSync, existsSync, fstatSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'fs';
import { badRequest } from '../server/errors';
import { nowNano } from './record';

export type StreamName = 'stdout' | 'stderr';

export interface LogEntry {
  log: string;
  stream: StreamName;
  time: string;
}

/** Docker splits partial lines at 16 KiB. */
const MAX_PARTIAL = 16 * 1024;

const JSON_FILE_OPTS = ['max-size', 'max-file', 'compress', 'labels', 'labels-regex', 'env', 'env-regex', 'tag'];

export interface Rotation {
  /** Bytes; -1 = unbounded. */
  maxSize: number;
  maxFiles: number;
}

/** docker/go-units FromHumanSize: decimal units, "10m" = 10,000,000 bytes. */
function fromHumanSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(v.trim());
  if (!m) throw badRequest(`invalid size: '${v}'`);
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 }[m[2].toLowerCase() as 'k'];
  return Math.floor(Number(m[1]) * mult);
}

/**
 * HostConfig.LogConfig checked as dockerd does at create: json-file (the default) or none, and
 * only the options json-file knows. Returns the rotation it asks for.
 */
export function logRotation(logConfig: unknown): Rotation {
  const lc = (logConfig ?? {}) as { Type?: string; Config?: Record<string, string> | null };
  const type = lc.Type || 'json-file';
  if (type !== 'json-file' && type !== 'none') throw badRequest(`logger: no log driver named '${type}' is registered`);
  const cfg = lc.Config ?? {};
  let maxSize = -1;
  let maxFiles = 1;
  for (const [k, v] of Object.entries(cfg)) {
    if (!JSON_FILE_OPTS.includes(k)) throw badRequest(`unknown log opt '${k}' for ${type} log driver`);
    if (k === 'max-size') {
      maxSize = fromHumanSize(v);
      if (maxSize <= 0) throw badRequest('max-size must be a positive number');
    }
    if (k === 'max-file') {
      maxFiles = /^-?\d+$/.test(v) ? Number(v) : NaN;
      if (Number.isNaN(maxFiles)) throw badRequest(`strconv.Atoi: parsing "${v}": invalid syntax`);
      if (maxFiles < 1) throw badRequest('max-file cannot be less than 1');
    }
  }
  return { maxSize, maxFiles };
}

export function logsDisabled(logConfig: unknown): boolean {
  return (logConfig as { Type?: string } | undefined)?.Type === 'none';
}

/**
 * Writes synchronously, one write per chunk of output: a reader that reads the file and then
 * subscribes in one synchronous stretch misses nothing and sees nothing twice.
 */
export class JsonLogWriter {
  private fd: number;
  private size: number;
  private readonly partial: Record<StreamName, string> = { stdout: '', stderr: '' };
  private readonly subscribers = new Set<(e: LogEntry) => void>();

  constructor(
    private readonly path: string,
    private readonly rotation: Rotation = { maxSize: -1, maxFiles: 1 },
  ) {
    this.fd = openSync(path, 'a');
    this.size = fstatSync(this.fd).size;
  }

  subscribe(fn: (e: LogEntry) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  write(stream: StreamName, chunk: Buffer): void {
    let text = this.partial[stream] + chunk.toString('utf8');
    const lines: string[] = [];
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      lines.push(text.slice(0, nl + 1));
      text = text.slice(nl + 1);
    }
    while (text.length >= MAX_PARTIAL) {
      lines.push(text.slice(0, MAX_PARTIAL));
      text = text.slice(MAX_PARTIAL);
    }
    this.partial[stream] = text;
    this.emit(stream, lines);
  }

  close(): void {
    for (const s of ['stdout', 'stderr'] as const) {
      if (this.partial[s]) this.emit(s, [this.partial[s]]);
      this.partial[s] = '';
    }
    closeSync(this.fd);
    this.subscribers.clear();
  }

  private emit(stream: StreamName, lines: string[]): void {
    if (lines.length === 0) return;
    const time = nowNano();
    const entries = lines.map((log) => ({ log, stream, time }));
    const { maxSize } = this.rotation;
    let batch = '';
    for (const e of entries) {
      const line = JSON.stringify(e) + '\n';
      // As Docker's: rotate before a write once the file has reached max-size.
      if (maxSize > 0 && this.size + Buffer.byteLength(batch) >= maxSize) {
        this.flush(batch);
        batch = '';
        this.rotate();
      }
      batch += line;
    }
    this.flush(batch);
    for (const fn of this.subscribers) for (const e of entries) fn(e);
  }

  private flush(batch: string): void {
    if (!batch) return;
    const buf = Buffer.from(batch);
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off);
    this.size += buf.length;
  }

  private rotate(): void {
    closeSync(this.fd);
    const n = this.rotation.maxFiles;
    if (n > 1) {
      for (let i = n - 1; i > 1; i--) if (existsSync(`${this.path}.${i - 1}`)) renameSync(`${this.path}.${i - 1}`, `${this.path}.${i}`);
      renameSync(this.path, `${this.path}.1`);
    } else {
      rmSync(this.path, { force: true });
    }
    this.fd = openSync(this.path, 'a');
    this.size = 0;
  }
}

export interface LogQuery {
  stdout: boolean;
  stderr: boolean;
  /** Number of last lines (of both streams, as Docker counts them), or -1 for all. */
  tail: number;
  /** Nanoseconds since the epoch; undefined = unbounded. */
  since?: bigint;
  until?: bigint;
}

/** An RFC 3339 time as the log files hold it, in nanoseconds since the epoch. */
export function timeNano(t: string): bigint {
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return 0n;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').slice(0, 9).padEnd(9, '0'));
}

/** The current file and the rotated ones still there, oldest first. */
export function logFiles(path: string): string[] {
  const rotated: string[] = [];
  for (let i = 1; existsSync(`${path}.${i}`); i++) rotated.unshift(`${path}.${i}`);
  return existsSync(path) ? [...rotated, path] : rotated;
}

export function readLogs(path: string, q: LogQuery): LogEntry[] {
  const lines: string[] = [];
  for (const f of logFiles(path)) for (const l of readFileSync(f, 'utf8').split('\n')) if (l) lines.push(l);
  const tailed = q.tail >= 0 ? lines.slice(Math.max(lines.length - q.tail, 0)) : lines;
  return tailed.map((l) => JSON.parse(l) as LogEntry).filter((e) => entryWanted(e, q));
}

export function entryWanted(e: LogEntry, q: LogQuery): boolean {
  if (!(e.stream === 'stdout' ? q.stdout : q.stderr)) return false;
  if (q.since === undefined && q.until === undefined) return true;
  const t = timeNano(e.time);
  return (q.since === undefined || t >= q.since) && (q.until === undefined || t <= q.until);
}

/** The 8-byte header of Docker's multiplexed stream: stream type, three zero bytes, big-endian size. */
export function frame(stream: StreamName, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream === 'stdout' ? 1 : 2;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}
