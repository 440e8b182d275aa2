// The since/until and filters of `GET /events`, matched as dockerd's events filter does.
import { badRequest } from '../server/errors';
import type { EventMessage } from './bus';

const KEYS = ['container', 'daemon', 'event', 'image', 'label', 'network', 'plugin', 'scope', 'type', 'volume', 'node', 'service', 'secret', 'config'];
const TYPES = ['container', 'image', 'network', 'volume', 'daemon', 'plugin', 'node', 'service', 'secret', 'config'];

/**
 * A timestamp as the docker CLI sends it (`seconds[.nanoseconds]`), in nanoseconds since the epoch;
 * undefined when absent. RFC 3339 is accepted too, as curl users write it.
 */
export function parseEventTime(v: string | undefined, name: string): bigint | undefined {
  if (v === undefined || v === '') return undefined;
  const m = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (m) return BigInt(m[1]) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
  const ms = Date.parse(v);
  if (!Number.isNaN(ms) && /^\d{4}-\d\d-\d\d/.test(v)) return BigInt(ms) * 1_000_000n;
  throw badRequest(`invalid value for ${name}: ${v}`);
}

export function validateEventFilters(f: Record<string, string[]>): void {
  for (const k of Object.keys(f)) if (!KEYS.includes(k)) throw badRequest(`invalid filter '${k}'`);
  for (const t of f.type ?? []) if (!TYPES.includes(t)) throw badRequest(`invalid filter 'type=${t}'`);
}

/** Every filter key must match one of its values; `label` values must all match (as Docker's). */
export function eventMatches(ev: EventMessage, f: Record<string, string[]>): boolean {
  const attrs = ev.Actor.Attributes;
  const any = (key: string, test: (v: string) => boolean): boolean => !f[key]?.length || f[key].some(test);
  // Docker's fuzzy match: the actor's ID or name, whole or a prefix of it.
  const actor = (v: string): boolean => ev.Actor.ID.startsWith(v) || (attrs.name ?? '').startsWith(v);
  return (
    any('type', (v) => ev.Type === v) &&
    any('event', (v) => actionMatches(ev.Action, v)) &&
    any('container', actor) &&
    any('network', actor) &&
    any('volume', actor) &&
    any('daemon', actor) &&
    any('scope', (v) => v === ev.scope) &&
    any('image', (v) => imageMatches(ev, v)) &&
    (f.label ?? []).every((v) => {
      const i = v.indexOf('=');
      return i < 0 ? v in attrs : attrs[v.slice(0, i)] === v.slice(i + 1);
    })
  );
}

/** `exec_start: sh -c x` matches `exec_start`, as Docker's filter matches the action before the colon. */
function actionMatches(action: string, want: string): boolean {
  if (action === want) return true;
  const colon = action.indexOf(':');
  return colon > 0 && !want.includes(':') && action.slice(0, colon) === want;
}

/** The actor's ID or its image (a container's) or name (an image's), with or without the tag. */
function imageMatches(ev: EventMessage, want: string): boolean {
  const name = ev.Actor.Attributes[ev.Type === 'image' ? 'name' : 'image'] ?? '';
  const strip = (s: string) => s.replace(/:[^:/]+$/, '');
  return [ev.Actor.ID, name, strip(ev.Actor.ID), strip(name)].some((n) => n !== '' && n === want);
}
