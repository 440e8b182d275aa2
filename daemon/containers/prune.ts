// POST /containers/prune: stopped containers created before `until` and matching the labels.
import { badRequest } from '../server/errors';
import { parseTimestamp } from '../util/timestamps';
import type { ContainerRecord } from './record';

const ACCEPTED = ['until', 'label', 'label!'];

export function pruneFilter(f: Record<string, string[]>): (c: ContainerRecord) => boolean {
  for (const k of Object.keys(f)) if (!ACCEPTED.includes(k)) throw badRequest(`invalid filter '${k}'`);
  const untils = (f.until ?? []).map((v) => parseTimestamp(v));
  if (untils.length > 1) throw badRequest('more than one until filter specified');
  const hasLabel = (c: ContainerRecord, v: string): boolean => {
    const i = v.indexOf('=');
    return i < 0 ? v in c.Config.Labels : c.Config.Labels[v.slice(0, i)] === v.slice(i + 1);
  };
  return (c) =>
    !c.State.Running &&
    !c.State.Paused &&
    (untils.length === 0 || Date.parse(c.Created) < untils[0]) &&
    (f.label ?? []).every((v) => hasLabel(c, v)) &&
    !(f['label!'] ?? []).some((v) => hasLabel(c, v));
}
