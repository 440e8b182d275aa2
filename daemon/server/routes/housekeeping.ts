// rename and prune of containers.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EventBus } from '../../events/bus';
import type { ContainerManager } from '../../containers/manager';
import { pruneFilter } from '../../containers/prune';
import { dirSize } from '../../util/disk-usage';
import { parseFilters } from '../app';
import { badRequest } from '../errors';

type Req = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string> }>;

export function registerHousekeepingRoutes(app: FastifyInstance, deps: { containers: ContainerManager; bus: EventBus; rwDir(id: string): string }): void {
  const { containers, bus } = deps;

  app.post('/containers/:id/rename', async (req: Req, reply) => {
    const c = containers.find(req.params.id);
    if (!req.query.name) throw badRequest('Neither old nor new names may be empty');
    containers.rename(c, req.query.name);
    return reply.code(204).send();
  });

  app.post('/containers/prune', async (req: FastifyRequest<{ Querystring: Record<string, string> }>) => {
    const wanted = pruneFilter(parseFilters(req.query.filters));
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const c of containers.list().filter(wanted)) {
      const size = dirSize(deps.rwDir(c.Id));
      try {
        await containers.remove(c, { force: false });
      } catch {
        // Started or being removed meanwhile: not pruned, as dockerd skips it.
        continue;
      }
      deleted.push(c.Id);
      reclaimed += size;
    }
    bus.emit('container', 'prune', '', { reclaimed: String(reclaimed) });
    return { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  });
}
