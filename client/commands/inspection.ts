// Inspection and state commands: pause, unpause, rename, top, diff, events, container prune, stats.
import { StatusError, joinErrors, println, type Cli } from '../cli';
import { makeContext, renderRows, type RowContext } from '../format/context';
import { bytesSize, humanSize, humanSizeWithPrecision } from '../format/size';
import { tabulate } from '../format/table';
import { MARSHAL } from '../format/template';
import { getTimestamp } from '../format/time';
import { truncateID } from '../format/reference';
import { parseFilters } from '../opts';
import { confirm } from './volumes';

const path = (name: string, op: string): string => `/containers/${encodeURIComponent(name)}/${op}`;

/** pause/unpause: each name as given on success, every failure reported at the end. */
async function eachContainer(cli: Cli, names: string[], op: string): Promise<void> {
  const errors: Error[] = [];
  for (const name of names) {
    try {
      await cli.api.request('POST', path(name, op));
      println(cli.out, name);
    } catch (e) {
      errors.push(e as Error);
    }
  }
  joinErrors(errors);
}

export const pauseCommand = (cli: Cli, names: string[]): Promise<void> => eachContainer(cli, names, 'pause');
export const unpauseCommand = (cli: Cli, names: string[]): Promise<void> => eachContainer(cli, names, 'unpause');

export async function renameCommand(cli: Cli, oldName: string, newName: string): Promise<void> {
  if (!oldName.trim() || !newName.trim()) throw new Error('Error: Neither old nor new names may be empty');
  try {
    await cli.api.request('POST', path(oldName, 'rename'), { query: { name: newName.trim() } });
  } catch (e) {
    throw new Error(`${(e as Error).message}\nError: failed to rename container named ${oldName}`);
  }
}

export async function topCommand(cli: Cli, container: string, psArgs: string[]): Promise<void> {
  const r = await cli.api.json<{ Titles: string[]; Processes: string[][] | null }>('GET', path(container, 'top'), { query: { ps_args: psArgs.length ? psArgs.join(' ') : undefined } });
  const text = [r.Titles.join('\t'), ...(r.Processes ?? []).map((p) => p.join('\t'))].join('\n') + '\n';
  // The docker CLI's tabwriter for top: minwidth 20.
  cli.out.write(tabulate(text, 20, 1, 3));
}

const KINDS = ['C', 'A', 'D'];

export async function diffCommand(cli: Cli, container: string): Promise<void> {
  const changes = await cli.api.json<Array<{ Path: string; Kind: number }> | null>('GET', path(container, 'changes'));
  for (const c of changes ?? []) println(cli.out, `${KINDS[c.Kind]} ${c.Path}`);
}

// ---------------------------------------------------------------------------------------------
// events

interface EventMessage {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  scope?: string;
  time: number;
  timeNano: number;
}

/** JSON numbers lose precision past 2^53: timeNano is read from the text itself. */
function exactNano(raw: string): bigint | undefined {
  const m = /"timeNano":(\d+)/.exec(raw);
  return m ? BigInt(m[1]) : undefined;
}

/** time.Unix(0, ns).Format(RFC3339NanoFixed) in the local zone. */
function nanoTime(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const offsetMin = -new Date(ms).getTimezoneOffset();
  const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  const zone = offsetMin === 0 ? 'Z' : `${offsetMin > 0 ? '+' : '-'}${String(Math.floor(Math.abs(offsetMin) / 60)).padStart(2, '0')}:${String(Math.abs(offsetMin) % 60).padStart(2, '0')}`;
  return `${local}.${frac}${zone}`;
}

/** The docker CLI's prettyPrintEvent. */
export function prettyEvent(ev: EventMessage, nano = ev.timeNano ? BigInt(Math.round(ev.timeNano)) : undefined): string {
  let s = nano ? `${nanoTime(nano)} ` : ev.time ? `${nanoTime(BigInt(ev.time) * 1_000_000_000n)} ` : '';
  s += `${ev.Type} ${ev.Action} ${ev.Actor.ID}`;
  const attrs = ev.Actor.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length) s += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return s;
}

/** The message's own bytes with json.Marshal's HTML escaping, as the docker CLI re-encodes it. */
function goEscape(raw: string): string {
  return raw.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/** An event as a template sees it: Go's field names; `json` gives the message as received. */
function eventContext(ev: EventMessage, raw: string): RowContext {
  return {
    Status: ev.status ?? '',
    ID: ev.id ?? '',
    From: ev.from ?? '',
    Type: ev.Type,
    Action: ev.Action,
    Actor: { ID: ev.Actor.ID, Attributes: ev.Actor.Attributes ?? {} },
    Scope: ev.scope ?? '',
    Time: ev.time,
    TimeNano: ev.timeNano,
    [MARSHAL]: () => raw,
  };
}

export async function eventsCommand(cli: Cli, flags: { since?: string; until?: string; filter?: string[]; format?: string }): Promise<void> {
  const format = flags.format === 'json' ? '{{json .}}' : flags.format;
  // A bad template fails before anything is asked of the daemon.
  if (format) renderRows(format, [], {});
  const res = await cli.api.request('GET', '/events', {
    query: { since: flags.since ? getTimestamp(flags.since) : undefined, until: flags.until ? getTimestamp(flags.until) : undefined, filters: parseFilters(flags.filter ?? []) },
  });
  let buf = '';
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    buf += chunk.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.trim()) continue;
      const ev = JSON.parse(line) as EventMessage;
      if (format) cli.out.write(renderRows(format, [eventContext(ev, goEscape(line.trim()))], {}));
      else println(cli.out, prettyEvent(ev, exactNano(line)));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// container prune

export async function containerPruneCommand(cli: Cli, flags: { force?: boolean; filter?: string[] }): Promise<void> {
  if (!flags.force && !(await confirm(cli, 'WARNING! This will remove all stopped containers.'))) return;
  const r = await cli.api.json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', { query: { filters: parseFilters(flags.filter ?? []) } });
  const deleted = r.ContainersDeleted ?? [];
  if (deleted.length) println(cli.out, `Deleted Containers:\n${deleted.map((d) => d + '\n').join('')}`);
  println(cli.out, `Total reclaimed space: ${humanSize(r.SpaceReclaimed)}`);
}

// ---------------------------------------------------------------------------------------------
// stats

interface StatsJSON {
  read: string;
  name: string;
  id: string;
  pids_stats?: { current?: number };
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op: string; value: number }> | null };
  cpu_stats: { cpu_usage: { total_usage: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number };
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
}

export interface StatsRow {
  container: string;
  id: string;
  name: string;
  cpu: number;
  mem: number;
  memLimit: number;
  memPerc: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
}

/** The docker CLI's numbers (calculateCPUPercentUnix, calculateMemUsageUnixNoCache, ...). */
export function statsRow(container: string, s: StatsJSON): StatsRow {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
  const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 0;
  const cpu = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0;
  const ms = s.memory_stats;
  const usage = ms.usage ?? 0;
  // v1 counts total_inactive_file, v2 inactive_file: page cache the kernel can drop.
  const cache = ms.stats?.total_inactive_file ?? ms.stats?.inactive_file ?? 0;
  const mem = cache < usage ? usage - cache : usage;
  const limit = ms.limit ?? 0;
  let netRx = 0;
  let netTx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    netRx += n.rx_bytes;
    netTx += n.tx_bytes;
  }
  let blockRead = 0;
  let blockWrite = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = e.op[0]?.toLowerCase();
    if (op === 'r') blockRead += e.value;
    else if (op === 'w') blockWrite += e.value;
  }
  return { container, id: s.id, name: s.name.replace(/^\//, ''), cpu, mem, memLimit: limit, memPerc: limit ? (mem / limit) * 100 : 0, netRx, netTx, blockRead, blockWrite, pids: s.pids_stats?.current ?? 0 };
}

export const STATS_HEADERS: Record<string, string> = {
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

const DEFAULT_STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

function statsContext(r: StatsRow, trunc: boolean): RowContext {
  const pair = (a: number, b: number): string => `${humanSizeWithPrecision(a, 3)} / ${humanSizeWithPrecision(b, 3)}`;
  return makeContext('formatter.statsContext', {
    Container: () => r.container,
    ID: () => (trunc ? truncateID(r.id) : r.id),
    Name: () => r.name || '--',
    CPUPerc: () => `${r.cpu.toFixed(2)}%`,
    MemUsage: () => `${bytesSize(r.mem)} / ${bytesSize(r.memLimit)}`,
    MemPerc: () => `${r.memPerc.toFixed(2)}%`,
    NetIO: () => pair(r.netRx, r.netTx),
    BlockIO: () => pair(r.blockRead, r.blockWrite),
    PIDs: () => String(r.pids),
  });
}

export interface StatsFlags {
  all?: boolean;
  noStream?: boolean;
  noTrunc?: boolean;
  format?: string;
}

export async function statsCommand(cli: Cli, containers: string[], flags: StatsFlags): Promise<void> {
  const format = !flags.format || flags.format === 'table' ? DEFAULT_STATS_TABLE : flags.format;
  renderRows(format, [], STATS_HEADERS);
  let names = containers;
  if (names.length === 0) {
    const list = await cli.api.json<Array<{ Id: string }>>('GET', '/containers/json', { query: { all: flags.all || undefined } });
    names = list.map((c) => c.Id);
  }
  const render = (rows: StatsRow[]): string => renderRows(format, rows.map((r) => statsContext(r, !flags.noTrunc)), STATS_HEADERS);
  if (flags.noStream) {
    const errors: Error[] = [];
    const rows: StatsRow[] = [];
    await Promise.all(
      names.map(async (name, i) => {
        try {
          rows[i] = statsRow(name, await cli.api.json<StatsJSON>('GET', path(name, 'stats'), { query: { stream: false } }));
        } catch (e) {
          errors.push(e as Error);
        }
      }),
    );
    if (errors.length) joinErrors(errors);
    cli.out.write(render(rows.filter(Boolean)));
    return;
  }
  // Live: one stream per container, the table redrawn every second as the docker CLI does.
  const latest = new Map<string, StatsRow>();
  const streams = names.map(async (name) => {
    const res = await cli.api.request('GET', path(name, 'stats'), { query: { stream: true } });
    let buf = '';
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        latest.set(name, statsRow(name, JSON.parse(buf.slice(0, nl)) as StatsJSON));
        buf = buf.slice(nl + 1);
      }
    }
  });
  const failed = Promise.all(streams).then(
    () => undefined,
    (e: Error) => e,
  );
  for (;;) {
    const done = await Promise.race([failed, new Promise<'tick'>((r) => setTimeout(() => r('tick'), 1000))]);
    if (done !== 'tick') {
      if (done) throw new StatusError(1, done.message);
      return;
    }
    const rows = names.map((n) => latest.get(n)).filter((r): r is StatsRow => !!r);
    // Home, each line cleared to its end, the rest of the screen erased: no flicker, as the docker CLI redraws.
    const lines = render(rows).split('\n').filter((l) => l !== '');
    cli.out.write(`\x1b[H${lines.map((l) => `${l} \x1b[K\n`).join('')}\x1b[J`);
  }
}
