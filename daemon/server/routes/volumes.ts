// /volumes/*: create, list (filters), inspect, remove, prune.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EventBus } from '../../events/bus';
import { dirSize } from '../../util/disk-usage';
import type { VolumeRecord, VolumeStore } from '../../volumes/store';
import { parseFilters, qbool } from '../app';
import { badRequest } from '../errors';

export interface VolumeDeps {
  volumes: VolumeStore;
  /** IDs of the containers, running or not, that refer to a volume. */
  usedBy(name: string): string[];
  events: EventBus;
}

type Req = FastifyRequest<{ Params: { name: string }; Querystring: Record<string, string> }>;

const LIST_FILTERS = ['dangling', 'name', 'label', 'driver'];
const PRUNE_FILTERS = ['label', 'label!', 'all'];

function checkFilters(f: Record<string, string[]>, accepted: string[]): void {
  for (const k of Object.keys(f)) if (!accepted.includes(k)) throw badRequest(`invalid filter '${k}'`);
}

function boolFilter(f: Record<string, string[]>, key: string): boolean | undefined {
  const values = f[key];
  if (!values?.length) return undefined;
  const out = values.map((v) => {
    if (['true', '1'].includes(v.toLowerCase())) return true;
    if (['false', '0'].includes(v.toLowerCase())) return false;
    throw badRequest(`invalid filter '${key}=${v}'`);
  });
  return out.includes(true);
}

/** "key" or "key=value" against a label map. */
function labelMatch(labels: Record<string, string> | null, spec: string): boolean {
  const i = spec.indexOf('=');
  const key = i < 0 ? spec : spec.slice(0, i);
  if (!labels || !(key in labels)) return false;
  return i < 0 || labels[key] === spec.slice(i + 1);
}

function matchName(name: string, pattern: string): boolean {
  try {
    return new RegExp(pattern).test(name);
  } catch {
    return name.includes(pattern);
  }
}

export function registerVolumeRoutes(app: FastifyInstance, deps: VolumeDeps): void {
  const { volumes } = deps;

  app.post('/volumes/create', async (req: FastifyRequest<{ Body: Record<string, unknown> | undefined }>, reply) => {
    const body = (req.body ?? {}) as { Name?: unknown; Driver?: unknown; DriverOpts?: unknown; Labels?: unknown };
    if (body.Name !== undefined && typeof body.Name !== 'string') throw badRequest('json: cannot unmarshal number into Go struct field CreateOptions.Name of type string');
    const v = volumes.create({
      name: body.Name as string | undefined,
      driver: typeof body.Driver === 'string' ? body.Driver : undefined,
      labels: (body.Labels as Record<string, string> | null | undefined) ?? null,
      options: (body.DriverOpts as Record<string, string> | null | undefined) ?? null,
    });
    return reply.code(201).send(volumes.view(v));
  });

  app.get('/volumes', async (req: FastifyRequest<{ Querystring: Record<string, string> }>) => {
    const f = parseFilters(req.query.filters);
    checkFilters(f, LIST_FILTERS);
    const dangling = boolFilter(f, 'dangling');
    const list = volumes.list().filter(
      (v) =>
        (dangling === undefined || (deps.usedBy(v.Name).length === 0) === dangling) &&
        (!f.name || f.name.some((n) => matchName(v.Name, n))) &&
        (!f.driver || f.driver.includes(v.Driver)) &&
        (!f.label || f.label.every((l) => labelMatch(v.Labels, l))),
    );
    return { Volumes: list.map((v) => volumes.view(v)), Warnings: null };
  });

  app.get('/volumes/:name', async (req: Req) => volumes.view(volumes.find(req.params.name)));

  app.delete('/volumes/:name', async (req: Req, reply) => {
    const name = req.params.name;
    volumes.remove(name, volumes.get(name) ? deps.usedBy(name) : [], { force: qbool(req.query.force) });
    return reply.code(204).send();
  });

  app.post('/volumes/prune', async (req: FastifyRequest<{ Querystring: Record<string, string> }>) => {
    const f = parseFilters(req.query.filters);
    checkFilters(f, PRUNE_FILTERS);
    // Since API 1.42 only anonymous volumes go, unless all=true.
    const all = boolFilter(f, 'all') === true;
    const deleted: string[] = [];
    let reclaimed = 0;
    const candidates = volumes.list().filter(
      (v: VolumeRecord) =>
        (all || volumes.isAnonymous(v)) &&
        (!f.label || f.label.every((l) => labelMatch(v.Labels, l))) &&
        (!f['label!'] || !f['label!'].some((l) => labelMatch(v.Labels, l))),
    );
    for (const v of candidates) {
      if (deps.usedBy(v.Name).length) continue;
      const size = dirSize(volumes.dataDir(v.Name));
      volumes.remove(v.Name, []);
      deleted.push(v.Name);
      reclaimed += size;
    }
    deps.events.emit('volume', 'prune', '', { reclaimed: String(reclaimed) });
    return { VolumesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  });
}
