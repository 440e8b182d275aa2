// Times as the docker CLI prints them: go-units HumanDuration ("About a minute") and Go's
// time.Time.String() ("2006-01-02 15:04:05 -0700 MST").

/** go-units HumanDuration for a duration in milliseconds. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3_600_000) / 24 / 365)} years`;
}

/** "N units ago" for a unix timestamp in seconds, as `docker ps`/`docker images` print CREATED. */
export function timeAgo(unixSeconds: number, nowMs: number = Date.now()): string {
  return humanDuration(nowMs - unixSeconds * 1000) + ' ago';
}

const pad = (n: number, w = 2): string => String(Math.abs(n)).padStart(w, '0');

function zoneAbbreviation(d: Date, offsetMin: number): string {
  try {
    const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
    if (part && /^[A-Z]{2,5}$/.test(part.value)) return part.value === 'GMT' && offsetMin === 0 ? 'UTC' : part.value;
  } catch {
    // No Intl time zone data: fall back to the numeric form Go uses for unnamed zones.
  }
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return abs % 60 === 0 ? `${sign}${pad(Math.trunc(abs / 60))}` : `${sign}${pad(Math.trunc(abs / 60))}${pad(abs % 60)}`;
}

/** Go's time.Unix(sec, 0).String() in the local zone: "2023-07-05 10:11:12 +0000 UTC". */
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const offsetMin = -d.getTimezoneOffset();
  const sign = offsetMin < 0 ? '-' : '+';
  const off = `${sign}${pad(Math.trunc(Math.abs(offsetMin) / 60))}${pad(Math.abs(offsetMin) % 60)}`;
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${date} ${time} ${off} ${zoneAbbreviation(d, offsetMin)}`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Go's time.ANSIC layout ("Mon Jan _2 15:04:05 2006") for an RFC 3339 string; other input is returned as-is. */
export function ansic(rfc3339: string): string {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(rfc3339)) return rfc3339;
  const ms = Date.parse(rfc3339);
  if (Number.isNaN(ms)) return rfc3339;
  // Go keeps the zone of the parsed string; render in that zone.
  const m = /(Z|[+-]\d{2}:\d{2})$/.exec(rfc3339);
  const offMin = !m || m[1] === 'Z' ? 0 : (m[1][0] === '-' ? -1 : 1) * (Number(m[1].slice(1, 3)) * 60 + Number(m[1].slice(4, 6)));
  const d = new Date(ms + offMin * 60_000);
  const day = String(d.getUTCDate()).padStart(2, ' ');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${day} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration ("1h30m", "42m", "1.5s") in milliseconds; throws Go's messages. */
export function parseGoDurationStrict(s: string): number {
  const orig = s;
  const invalid = (): Error => new Error(`time: invalid duration ${JSON.stringify(orig)}`);
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let total = 0;
  while (s !== '') {
    const num = /^(\d*)(\.\d*)?/.exec(s)!;
    if (num[0] === '' || num[0] === '.') throw invalid();
    s = s.slice(num[0].length);
    const unit = /^[^\d.]*/.exec(s)![0];
    if (unit === '') throw new Error(`time: missing unit in duration ${JSON.stringify(orig)}`);
    const mult = DURATION_UNITS[unit];
    if (mult === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${JSON.stringify(orig)}`);
    total += parseFloat(num[0]) * mult;
    s = s.slice(unit.length);
  }
  return neg ? -total : total;
}

/** Like parseGoDurationStrict, but undefined when the string is not a duration. */
export function parseGoDuration(s: string): number | undefined {
  try {
    return parseGoDurationStrict(s);
  } catch {
    return undefined;
  }
}

/**
 * The docker CLI's timetypes.GetTimestamp for --since/--until: a Go duration is taken relative
 * to now, a date or RFC 3339 time becomes "seconds.nanoseconds", and anything else (a unix
 * timestamp) goes to the daemon unchanged.
 */
export function getTimestamp(value: string, nowMs: number = Date.now()): string {
  const d = parseGoDuration(value);
  if (d !== undefined) {
    const t = nowMs - d;
    return formatSecondsNanos(t);
  }
  if (/^\d+(\.\d+)?$/.test(value)) return value;
  let s = value;
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) s += 'T00:00:00';
  // Without a zone JS, like Go here, reads the time as local.
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) return value;
  return formatSecondsNanos(ms);
}

function formatSecondsNanos(ms: number): string {
  const sec = Math.floor(ms / 1000);
  const nanos = Math.round((ms - sec * 1000) * 1e6);
  return `${sec}.${String(nanos).padStart(9, '0')}`;
}
