// Streams the Engine API sends: multiplexed stdout/stderr frames (attach, logs without a TTY)
// and newline-delimited JSON progress messages (pull, load, import).

export type StreamKind = 'stdin' | 'stdout' | 'stderr' | 'systemerr';

const KINDS: Record<number, StreamKind> = { 0: 'stdin', 1: 'stdout', 2: 'stderr', 3: 'systemerr' };

export class StreamError extends Error {}

/**
 * Splits the docker multiplexed stream into frames: an 8-byte header [type, 0, 0, 0,
 * uint32 big-endian size] and then `size` bytes of payload. Frames may arrive split across
 * or packed into chunks; `push` returns the complete frames seen so far.
 */
export class FrameDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Array<{ stream: StreamKind; payload: Buffer }> {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Array<{ stream: StreamKind; payload: Buffer }> = [];
    while (this.pending.length >= 8) {
      const kind = KINDS[this.pending[0]];
      if (kind === undefined) throw new StreamError(`Unrecognized input header: ${this.pending[0]}`);
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      frames.push({ stream: kind, payload: this.pending.subarray(8, 8 + size) });
      this.pending = this.pending.subarray(8 + size);
    }
    return frames;
  }

  /** Bytes of an incomplete frame still waiting for the rest. */
  get buffered(): number {
    return this.pending.length;
  }
}

/** Encodes one frame (used by tests and by anything that needs to fake a daemon stream). */
export function encodeFrame(stream: 'stdout' | 'stderr', payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = stream === 'stdout' ? 1 : 2;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

export interface JSONMessage {
  stream?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  id?: string;
  from?: string;
  time?: number;
  timeNano?: number;
  errorDetail?: { code?: number; message?: string };
  error?: string;
  aux?: unknown;
}

function rfc3339NanoFixed(ms: number, nanos?: number): string {
  const d = new Date(ms);
  const frac = nanos !== undefined ? String(nanos).padStart(9, '0') : String(d.getUTCMilliseconds() * 1e6).padStart(9, '0');
  return d.toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}

/**
 * One message as the docker CLI prints it to a non-terminal (jsonmessage.Display): progress
 * bars are left out, otherwise "[id: ][(from x) ]status" or the raw "stream" text.
 * Returns undefined when nothing is printed; throws for an error message.
 */
export function displayJSONMessage(jm: JSONMessage): string | undefined {
  if (jm.errorDetail || jm.error) throw new StreamError(jm.errorDetail?.message || jm.error || 'unknown error');
  if (jm.aux !== undefined) return undefined;
  if (jm.progressDetail && ((jm.progressDetail.current ?? 0) > 0 || (jm.progressDetail.total ?? 0) > 0)) return undefined;
  let out = '';
  if (jm.timeNano) out += rfc3339NanoFixed(Math.floor(jm.timeNano / 1e6), jm.timeNano % 1e9) + ' ';
  else if (jm.time) out += rfc3339NanoFixed(jm.time * 1000, 0) + ' ';
  if (jm.id) out += `${jm.id}: `;
  if (jm.from) out += `(from ${jm.from}) `;
  if (jm.progress) out += `${jm.status ?? ''} ${jm.progress}`;
  else if (jm.stream) out += jm.stream;
  else out += `${jm.status ?? ''}\n`;
  return out;
}

/** Splits a stream of concatenated JSON values (newline-delimited or not) into messages. */
export class JSONStreamParser {
  private buf = '';

  push(chunk: string): unknown[] {
    this.buf += chunk;
    const out: unknown[] = [];
    for (;;) {
      const trimmed = this.buf.replace(/^\s+/, '');
      if (trimmed === '') {
        this.buf = '';
        break;
      }
      const end = jsonValueEnd(trimmed);
      if (end < 0) {
        this.buf = trimmed;
        break;
      }
      out.push(JSON.parse(trimmed.slice(0, end)));
      this.buf = trimmed.slice(end);
    }
    return out;
  }

  /** Whatever is left at the end of the stream (a truncated value). */
  rest(): string {
    return this.buf.trim();
  }
}

/** Index just past the first complete JSON value in `s`, or -1 if it is incomplete. */
function jsonValueEnd(s: string): number {
  const first = s[0];
  if (first !== '{' && first !== '[') {
    const m = /^("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(s);
    if (!m) throw new StreamError(`invalid character '${first}' looking for beginning of value`);
    return m[0].length === s.length && first !== '"' ? -1 : m[0].length;
  }
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\') i++;
        i++;
      }
      if (i >= s.length) return -1;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}
