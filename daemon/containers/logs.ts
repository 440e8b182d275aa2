// The json-file log driver: one JSON object per line of output, as Docker writes <id>-json.log.
import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'fs';
import { nowNano } from './record';

export type StreamName = 'stdout' | 'stderr';

export interface LogEntry {
  log: string;
  stream: StreamName;
  time: string;
}

/** Docker splits partial lines at 16 KiB. */
const MAX_PARTIAL = 16 * 1024;

export class JsonLogWriter {
  private readonly out: WriteStream;
  private readonly partial: Record<StreamName, string> = { stdout: '', stderr: '' };

  constructor(path: string) {
    this.out = createWriteStream(path, { flags: 'a' });
  }

  write(stream: StreamName, chunk: Buffer): void {
    let text = this.partial[stream] + chunk.toString('utf8');
    let nl: number;
    while ((nl = text.indexOf('\n')) >= 0) {
      this.emit(stream, text.slice(0, nl + 1));
      text = text.slice(nl + 1);
    }
    while (text.length >= MAX_PARTIAL) {
      this.emit(stream, text.slice(0, MAX_PARTIAL));
      text = text.slice(MAX_PARTIAL);
    }
    this.partial[stream] = text;
  }

  close(): Promise<void> {
    for (const s of ['stdout', 'stderr'] as const) {
      if (this.partial[s]) this.emit(s, this.partial[s]);
      this.partial[s] = '';
    }
    return new Promise((resolve) => this.out.end(resolve));
  }

  private emit(stream: StreamName, log: string): void {
    this.out.write(JSON.stringify({ log, stream, time: nowNano() }) + '\n');
  }
}

export interface LogQuery {
  stdout: boolean;
  stderr: boolean;
  /** Number of last lines, or -1 for all. */
  tail: number;
  /** Unix seconds (fractional); 0 = unbounded. */
  since: number;
  until: number;
}

export function readLogs(path: string, q: LogQuery): LogEntry[] {
  if (!existsSync(path)) return [];
  const entries = readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogEntry)
    .filter((e) => (e.stream === 'stdout' ? q.stdout : q.stderr))
    .filter((e) => {
      const t = Date.parse(e.time) / 1000;
      return (!q.since || t >= q.since) && (!q.until || t <= q.until);
    });
  return q.tail >= 0 ? entries.slice(Math.max(entries.length - q.tail, 0)) : entries;
}

/** The 8-byte header of Docker's multiplexed stream: stream type, three zero bytes, big-endian size. */
export function frame(stream: StreamName, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream === 'stdout' ? 1 : 2;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}
