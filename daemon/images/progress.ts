// Progress of a byte stream, reported as Docker's progress reader does, and shaped as the
// jsonmessage lines the docker CLI draws its progress bars from.
import { type Readable, Transform } from 'stream';
import { pipeline } from 'stream/promises';

export interface Progress {
  /** What the bar belongs to: a layer's short diffID, or '' for an import. */
  id: string;
  /** "Loading layer", "Importing". */
  action: string;
  current: number;
  /** Bytes expected; -1 when unknown. */
  total: number;
  /** The last report for this stream. */
  last: boolean;
}

const UPDATE_EVERY = 512 * 1024;
const RATE_MS = 100;

/**
 * A pass-through that reports progress: after each 1% (at most 512 kB) of data, no more often
 * than every 100 ms unless the stream is complete, and once more at its end.
 */
function progressReader(total: number, id: string, action: string, report: (p: Progress) => void): Transform {
  const every = total > 0 ? Math.min(UPDATE_EVERY, Math.floor(total / 100)) : UPDATE_EVERY;
  let current = 0;
  let lastUpdate = 0;
  let lastReport = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      current += chunk.length;
      if (current - lastUpdate > every) {
        lastUpdate = current;
        const now = Date.now();
        if (current === total || now - lastReport >= RATE_MS) {
          lastReport = now;
          report({ id, action, current, total, last: false });
        }
      }
      cb(null, chunk);
    },
    flush(cb) {
      report({ id, action, current, total, last: true });
      cb();
    },
  });
}

/** `input` passed through a progressReader, its errors carried along. */
export function withProgress(input: Readable, total: number, id: string, action: string, report: (p: Progress) => void): Readable {
  const counted = progressReader(total, id, action, report);
  pipeline(input, counted).catch((e: Error) => counted.destroy(e));
  return counted;
}

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** go-units HumanSize: decimal units, four significant digits (4.096kB, 1.235MB). */
export function humanSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${Number(size.toPrecision(4))}${UNITS[i]}`;
}

/** JSONProgress.String() as the daemon renders it (a 200-column terminal, no time estimate). */
function progressText(current: number, total: number): string {
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return humanSize(current).padStart(8);
  const done = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  const bar = `[${'='.repeat(done)}>${' '.repeat(50 - done)}] `;
  return current > total ? bar + humanSize(current).padStart(8) : `${bar}${humanSize(current).padStart(8)}/${humanSize(total)}`;
}

/** The jsonmessage line for a progress report, keys in Docker's order. */
export function progressMessage(p: Progress): Record<string, unknown> {
  const detail: Record<string, number> = {};
  if (p.current) detail.current = p.current;
  if (p.total) detail.total = p.total;
  const text = progressText(p.current, p.total);
  return { status: p.action, progressDetail: detail, ...(text ? { progress: text } : {}), ...(p.id ? { id: p.id } : {}) };
}
