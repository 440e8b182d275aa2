// The filters of `GET /containers/json` (docker ps --filter), as dockerd's list applies them.
import { badRequest } from '../server/errors';
import type { ContainerRecord } from './record';
import { ZERO_TIME } from './record';

const ACCEPTED = ['ancestor', 'before', 'exited', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'publish', 'since', 'status', 'volume', 'expose'];
const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** What a filter reads besides the record: the list entry's networks and mounts. */
export interface Summary {
  NetworkSettings?: { Networks?: Record<string, { NetworkID?: string }> };
  Mounts?: Array<{ Name?: string; Destination?: string; Source?: string }>;
}

export interface ListContext {
  /** Containers, newest first (the order of the list). */
  ordered: ContainerRecord[];
  find(ref: string): ContainerRecord;
  /** The image ID a reference names, undefined when there is no such image. */
  imageId(ref: string): string | undefined;
}

export function validateListFilters(f: Record<string, string[]>): void {
  for (const k of Object.keys(f)) if (!ACCEPTED.includes(k)) throw badRequest(`invalid filter '${k}'`);
  for (const s of f.status ?? []) if (!STATUSES.includes(s)) throw badRequest(`invalid filter 'status=${s}'`);
  for (const e of f.exited ?? []) if (!/^-?\d+$/.test(e)) throw badRequest(`invalid filter 'exited=${e}'`);
  for (const h of f.health ?? []) if (!['starting', 'healthy', 'unhealthy', 'none'].includes(h)) throw badRequest(`Unrecognised filter value for health: ${h}`);
}

/** Whether the list shows stopped containers without `all`: status, before and since ask for them. */
export function impliesAll(f: Record<string, string[]>): boolean {
  return Boolean(f.status || f.before || f.since);
}

export function listFilter(f: Record<string, string[]>, ctx: ListContext): (c: ContainerRecord, s: Summary) => boolean {
  validateListFilters(f);
  const index = (ref: string): number => ctx.ordered.findIndex((c) => c.Id === ctx.find(ref).Id);
  // Newest first: "before X" is after X's place in the list, "since X" before it.
  const before = f.before?.length ? index(f.before[0]) : undefined;
  const since = f.since?.length ? index(f.since[0]) : undefined;
  const ancestors = (f.ancestor ?? []).map((a) => ctx.imageId(a)).filter((id): id is string => !!id);
  const any = (key: string, test: (v: string) => boolean): boolean => !f[key]?.length || f[key].some(test);
  return (c, s) => {
    const at = ctx.ordered.findIndex((o) => o.Id === c.Id);
    const networks = Object.entries(s.NetworkSettings?.Networks ?? {});
    return (
      any('id', (v) => c.Id.startsWith(v)) &&
      any('name', (v) => c.Name === v || c.Name.slice(1) === v || safeRegex(v)?.test(c.Name.slice(1)) === true) &&
      any('status', (v) => c.State.Status === v) &&
      any('label', (v) => {
        const i = v.indexOf('=');
        return i < 0 ? v in c.Config.Labels : c.Config.Labels[v.slice(0, i)] === v.slice(i + 1);
      }) &&
      any('exited', (v) => !c.State.Running && c.State.StartedAt !== ZERO_TIME && c.State.ExitCode === Number(v)) &&
      any('health', (v) => (c.State.Health?.Status ?? 'none') === v) &&
      (!f.ancestor?.length || ancestors.includes(c.Image)) &&
      (before === undefined || at > before) &&
      (since === undefined || at < since) &&
      any('network', (v) => networks.some(([name, ep]) => name === v || (!!ep.NetworkID && ep.NetworkID.startsWith(v)))) &&
      any('volume', (v) => (s.Mounts ?? []).some((m) => m.Name === v || m.Destination === v || m.Source === v))
    );
  };
}

function safeRegex(source: string): RegExp | undefined {
  try {
    return new RegExp(source);
  } catch {
    return undefined;
  }
}
