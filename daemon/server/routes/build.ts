// POST /build (the classic builder, as Docker 24 serves it when the client asks for no BuildKit)
// and POST /build/prune (the dangling images builds left, the classic builder's cache).
import { rmSync } from 'fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Build, type BuildContainers, type BuildOptions, RunFailed } from '../../build/builder';
import { readDockerfile, receiveContext } from '../../build/context';
import type { EventBus } from '../../events/bus';
import { familiar, parseReference, tagNameOnly, type Reference } from '../../images/reference';
import type { ImageStore, ImageUsers } from '../../images/store';
import { shortId } from '../../util/ids';
import { badRequest } from '../errors';
import { JsonStream } from '../json-stream';

export interface BuildRouteDeps {
  images: ImageStore;
  containers: BuildContainers;
  pull(ref: string, auth: string | undefined, emit: (m: Record<string, unknown>) => void): Promise<void>;
  usedBy: ImageUsers;
  events: EventBus;
  log: Logger;
}

type Query = Record<string, string | string[] | undefined>;
const str = (v: string | string[] | undefined): string => (Array.isArray(v) ? v[0] : v) ?? '';
const list = (v: string | string[] | undefined): string[] => ([] as string[]).concat(v ?? []);
/** httputils.BoolValue. */
const boolValue = (v: string | string[] | undefined): boolean => !['', '0', 'no', 'false', 'none'].includes(str(v).trim().toLowerCase());

function jsonParam<T>(v: string, what: string): T | undefined {
  if (!v) return undefined;
  try {
    return JSON.parse(v) as T;
  } catch (e) {
    throw badRequest(`error reading ${what}: ${(e as Error).message}`);
  }
}

/** sanitizeRepoAndTags: each `t` a valid reference without digest, `latest` when untagged, duplicates once. */
function buildTags(ts: string[]): Reference[] {
  const out: Reference[] = [];
  for (const t of ts.filter(Boolean)) {
    const ref = parseReference(t);
    if (ref.digest) throw badRequest('build tag cannot contain a digest');
    const tagged = tagNameOnly(ref);
    if (!out.some((r) => familiar(r) === familiar(tagged))) out.push(tagged);
  }
  return out;
}

function options(q: Query): BuildOptions {
  if (str(q.remote)) throw badRequest('berth builds only from a context sent with the request: remote (Git or URL) contexts are not supported');
  const rm = str(q.rm);
  return {
    tags: buildTags(list(q.t)),
    dockerfile: str(q.dockerfile) || 'Dockerfile',
    buildArgs: jsonParam<Record<string, string | null>>(str(q.buildargs), 'build args') ?? {},
    labels: jsonParam<Record<string, string>>(str(q.labels), 'labels') ?? {},
    target: str(q.target),
    noCache: boolValue(q.nocache),
    remove: boolValue(q.forcerm) || rm === '' || boolValue(q.rm),
    forceRemove: boolValue(q.forcerm),
    pull: boolValue(q.pull),
  };
}

export function registerBuildRoutes(app: FastifyInstance, deps: BuildRouteDeps): void {
  app.post('/build', async (req: FastifyRequest<{ Querystring: Query }>, reply) => {
    const opts = options(req.query);
    const quiet = boolValue(req.query.q);
    const out = new JsonStream(reply);
    const held: object[] = [];
    const write = (m: object): void => (quiet ? void held.push(m) : out.write(m));
    const auth = typeof req.headers['x-registry-config'] === 'string' ? req.headers['x-registry-config'] : undefined;
    const dir = deps.images.makeTemp('context');
    try {
      await receiveContext(req.raw, dir);
      const text = readDockerfile(dir, opts.dockerfile);
      const build = new Build(
        { images: deps.images, containers: deps.containers, pull: (ref, emit) => deps.pull(ref, auth, emit), log: deps.log },
        opts,
        dir,
        {
          stdout: (text) => write({ stream: text }),
          stderr: (text) => write({ stream: `\u001b[91m${text}\u001b[0m` }),
          message: (m) => write(m),
        },
      );
      // A client that goes away (Ctrl-C) cancels the build, as with dockerd.
      const onClose = (): void => {
        if (!reply.raw.writableFinished) build.cancel();
      };
      reply.raw.once('close', onClose);
      const id = await build.run(text).finally(() => reply.raw.off('close', onClose));
      write({ stream: `Successfully built ${shortId(id)}\n` });
      for (const ref of opts.tags) {
        deps.images.tag(id, familiar(ref));
        deps.events.emit('image', 'tag', id, { name: familiar(ref) });
        write({ stream: `Successfully tagged ${familiar(ref)}\n` });
      }
      if (quiet) out.write({ stream: `${id}\n` });
      deps.log.info({ image: id, tags: opts.tags.map(familiar) }, 'image built');
    } catch (e) {
      deps.log.info({ err: (e as Error).message }, 'build failed');
      for (const m of held) out.write(m);
      if (!out.started) throw e;
      if (e instanceof RunFailed) out.write({ errorDetail: { code: e.code, message: e.message }, error: e.message });
      else out.error(e as Error);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return out.end();
  });

  // The classic builder's cache is its step images: those no tagged image or container still
  // needs (the dangling ones) are what a prune can remove.
  app.post('/build/prune', async () => {
    const { images } = deps;
    const built = new Set(images.list().filter((i) => images.isBuilt(i.id)).map((i) => i.id));
    const { items, reclaimed } = await images.prune(false, (img) => built.has(img.id), deps.usedBy);
    const deleted = items.flatMap((i) => ('Deleted' in i && built.has(i.Deleted) ? [i.Deleted] : []));
    deps.events.emit('builder', 'prune', '', { reclaimed: String(reclaimed) });
    return { CachesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
  });
}
