// Times as the docker CLI and dockerd accept them in filters (`until`, `since`): a Go duration
// before now ("10m", "1h30m"), RFC 3339 (with or without zone, date only), or Unix seconds.
import { badRequest } from '../server/errors';

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

/** Go's time.ParseDuration, in milliseconds; undefined when the text is not a duration. */
export function parseGoDuration(v: string): number | undefined {
  if (!/^([0-9.]+(ns|us|µs|ms|s|m|h))+$/.test(v)) return v === '0' ? 0 : undefined;
  let ms = 0;
  for (const m of v.matchAll(/([0-9.]+)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * UNITS[m[2]];
  return ms;
}

/** Milliseconds since the epoch. */
export function parseTimestamp(v: string, now = Date.now()): number {
  const d = parseGoDuration(v);
  if (d !== undefined) return now - d;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  if (/^\d{4}-\d\d-\d\d/.test(v)) {
    // No zone means local time in Go's parser as in JavaScript's.
    const ms = Date.parse(v);
    if (!Number.isNaN(ms)) return ms;
  }
  throw badRequest(`failed to parse value as time or duration: "${v}"`);
}
