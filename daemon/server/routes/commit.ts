// POST /commit (a container's changes as a new image) and GET /containers/{id}/export (its
// flattened filesystem). Both read the container's layer dirs directly: nothing is mounted.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ContainerRecord } from '../../containers/record';
import type { EventBus } from '../../events/bus';
import { commitConfig } from '../../images/commit';
import type { ImageContainerConfig } from '../../images/config';
import { familiar } from '../../images/reference';
import { type ImageStore, repoTagReference } from '../../images/store';
import { mergedTree, runtimeMade, upperDiff } from '../../images/tree';

export interface CommitDeps {
  images: ImageStore;
  log: Logger;
  events: EventBus;
  /** The container by name or ID prefix; Docker's 404 when there is none. */
  findContainer(ref: string): ContainerRecord;
  /** The container's overlay upper dir. */
  upperDir(c: ContainerRecord): string;
  pause(c: ContainerRecord): Promise<void>;
  unpause(c: ContainerRecord): Promise<void>;
}

type Query = Record<string, string | string[] | undefined>;
const str = (v: string | string[] | undefined): string => (Array.isArray(v) ? v[0] : v) ?? '';
const boolValue = (v: string | string[] | undefined): boolean => !['', '0', 'no', 'false', 'none'].includes(str(v).trim().toLowerCase());

export function registerCommitRoutes(app: FastifyInstance, deps: CommitDeps): void {
  app.post('/commit', async (req: FastifyRequest<{ Querystring: Query; Body: ImageContainerConfig | null | undefined }>, reply) => {
    const c = deps.findContainer(str(req.query.container));
    const repo = str(req.query.repo);
    const ref = repo ? repoTagReference(repo, str(req.query.tag) || undefined) : undefined;
    const changes = ([] as string[]).concat(req.query.changes ?? []).flatMap((ch) => ch.split('\n')).filter((l) => l.trim());
    const pause = req.query.pause === undefined || boolValue(req.query.pause);
    const paused = pause && c.State.Running && !c.State.Paused;
    const request = {
      containerId: c.Id,
      containerConfig: c.Config as unknown as ImageContainerConfig,
      config: req.body && typeof req.body === 'object' && Object.keys(req.body).length ? req.body : null,
      changes,
      author: str(req.query.author),
      comment: str(req.query.comment),
    };
    if (paused) await deps.pause(c);
    let id: string;
    try {
      // The container's image, also when it was deleted (with force) while the container kept it.
      const parent = deps.images.configOf(c.Image);
      const parentId = parent ? c.Image : '';
      id = await deps.images.commitDiff(parentId, upperDiff(deps.upperDir(c), runtimeMade), (diffId) => commitConfig(parent, request, diffId, new Date()), ref ? [ref] : []);
    } finally {
      if (paused) await deps.unpause(c);
    }
    deps.events.emit('image', 'commit', id, { comment: request.comment, imageID: id, imageRef: ref ? familiar(ref) : '' });
    return reply.code(201).send({ Id: id });
  });

  app.get('/containers/:id/export', async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const c = deps.findContainer(req.params.id);
    const layers = [deps.upperDir(c), ...deps.images.layerDirs(c.Image).reverse()];
    deps.events.emit('container', 'export', c.Id, { image: c.Config.Image, name: c.Name.replace(/^\//, '') });
    return reply.code(200).type('application/x-tar').send(mergedTree(layers));
  });
}
