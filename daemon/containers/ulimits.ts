// --ulimit and the daemon's --default-ulimit: go-units' parse of "name=soft[:hard]", moby's merge of
// the daemon defaults under the container's own, and runc's translation into setrlimit resources.
import { badRequest } from '../server/errors';

/** Docker's Ulimit (go-units): soft and hard as int64, -1 unlimited. */
export interface Ulimit {
  Name: string;
  Hard: number;
  Soft: number;
}

/** What the init sets with prlimit before the command starts. */
export interface Rlimit {
  type: number;
  soft: number;
  hard: number;
}

/** The names go-units accepts in "name=soft:hard" ("as" it leaves out: it is unusable the way Docker starts a container). */
const PARSE_NAMES = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** runc's RLIMIT_ names and their numbers on Linux (asm-generic/resource.h). */
const RLIMIT_TYPES: Record<string, number> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

/** Go's strconv.ParseInt for a base-10 int64, with its error text. */
function parseInt64(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = BigInt(s);
  if (n > 9223372036854775807n || n < -9223372036854775808n) throw new Error(`strconv.ParseInt: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(n);
}

/** go-units' ParseUlimit: "name=soft[:hard]", hard defaulting to soft; its messages. */
export function parseUlimit(text: string): Ulimit {
  const eq = text.indexOf('=');
  if (eq < 0) throw new Error(`invalid ulimit argument: ${text}`);
  const name = text.slice(0, eq);
  const value = text.slice(eq + 1);
  if (!PARSE_NAMES.has(name)) throw new Error(`invalid ulimit type: ${name}`);
  const colon = value.indexOf(':');
  const hard = colon < 0 ? undefined : parseInt64(value.slice(colon + 1));
  const soft = parseInt64(colon < 0 ? value : value.slice(0, colon));
  const h = hard ?? soft;
  if (h !== -1) {
    if (soft === -1) throw new Error(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${h}`);
    if (soft > h) throw new Error(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${h}`);
  }
  return { Name: name, Soft: soft, Hard: h };
}

/** HostConfig.Ulimits as the API decodes it: a list of {Name, Soft, Hard}, or null. */
export function decodeUlimits(v: unknown): Ulimit[] | null {
  if (v === undefined || v === null) return null;
  const bad = (what: string, type: string): never => {
    throw badRequest(`json: cannot unmarshal ${what} into Go struct field ${type}`);
  };
  if (!Array.isArray(v)) return bad(typeof v === 'object' ? 'object' : typeof v, 'HostConfig.Ulimits of type []*units.Ulimit');
  return v.map((u: unknown) => {
    if (typeof u !== 'object' || u === null || Array.isArray(u)) return bad(Array.isArray(u) ? 'array' : typeof u, 'HostConfig.Ulimits of type units.Ulimit');
    const o = u as Record<string, unknown>;
    if (o.Name !== undefined && o.Name !== null && typeof o.Name !== 'string') bad(typeof o.Name, 'Ulimit.HostConfig.Ulimits.Name of type string');
    for (const k of ['Soft', 'Hard'] as const) {
      if (o[k] !== undefined && o[k] !== null && !Number.isInteger(o[k])) bad(typeof o[k], `Ulimit.HostConfig.Ulimits.${k} of type int64`);
    }
    return { Name: (o.Name as string | undefined) ?? '', Hard: (o.Hard as number | undefined) ?? 0, Soft: (o.Soft as number | undefined) ?? 0 };
  });
}

/**
 * moby's mergeUlimits: the container's own, then each daemon default whose key it does not name
 * (by name order: dockerd walks a Go map, in no fixed order). Null when there are none at all,
 * as inspect shows it.
 */
export function mergeUlimits(own: Ulimit[] | null | undefined, defaults: Record<string, Ulimit>): Ulimit[] | null {
  const list = [...(own ?? [])];
  const named = new Set(list.map((u) => u.Name));
  for (const key of Object.keys(defaults).sort()) if (!named.has(key)) list.push(defaults[key]);
  return list.length ? list : null;
}

/** runc's conversion of the OCI spec's rlimits ("RLIMIT_" + the upper-cased name); its error for a name it does not know. */
export function toRlimits(ulimits: Ulimit[] | null): Rlimit[] {
  return (ulimits ?? []).map((u) => {
    const key = `RLIMIT_${u.Name.toUpperCase()}`;
    const type = RLIMIT_TYPES[key];
    if (type === undefined) throw new Error(`wrong rlimit value: ${key}`);
    return { type, soft: u.Soft, hard: u.Hard };
  });
}
