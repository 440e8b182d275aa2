// /images/*: list, inspect, history, delete, tag, load, import, as Docker 24 serves them.
// Names may contain slashes, so the per-image routes are wildcards dispatched on their last segment.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { rmSync } from 'fs';
import type { Logger } from 'pino';
import { Readable } from 'stream';
import type { ReadableStream } from 'stream/web';
import { filterImages } from '../../images/filters';
import { type Progress, progressMessage, withProgress } from '../../images/progress';
import { asImageId, familiar, familiarName, familiarRepository, parseReference, type Reference } from '../../images/reference';
import { prepareLayers, saveArchive, type SaveItem } from '../../images/save';
import { imageHistory, imageInspect, imageSummary, unixSeconds } from '../../images/shapes';
import { type ImageRecord, type ImageStore, repoTagReference } from '../../images/store';
import { parseFilters } from '../app';
import { ApiError, badRequest, notFound } from '../errors';
import { JsonStream } from '../json-stream';
import type { EventBus } from '../../events/bus';
import type { RegistryConfig } from '../../registry/endpoints';
import type { BlobOrigins } from '../../registry/origins';
import { postPull, postPush, registerRegistryRoutes } from './registry';

export interface ImageDeps {
  images: ImageStore;
  log: Logger;
  /** IDs of containers (any state) created from the image. */
  usedBy(imageId: string): string[];
  /** IDs of running containers created from the image. */
  runningUsers(imageId: string): string[];
  registry: RegistryConfig;
  origins: BlobOrigins;
  events: EventBus;
}

type Query = Record<string, string | string[] | undefined>;
type Req = FastifyRequest<{ Params: { '*': string }; Querystring: Query }>;

function str(v: string | string[] | undefined): string {
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

/** httputils.BoolValue: anything but '', 0, no, false, none (any case) is true. */
function boolValue(v: string | string[] | undefined): boolean {
  return !['', '0', 'no', 'false', 'none'].includes(str(v).trim().toLowerCase());
}

function apiVersionBelow(req: FastifyRequest, version: string): boolean {
  const v = (req.raw as { apiVersion?: string }).apiVersion;
  if (!v) return false;
  const [a1, a2] = v.split('.').map(Number);
  const [b1, b2] = version.split('.').map(Number);
  return a1 < b1 || (a1 === b1 && a2 < b2);
}

/** An import source URL fetched as Docker's GetWithStatusError does, with its messages and codes. */
async function download(src: string): Promise<{ body: Readable; size: number }> {
  let res: Response;
  try {
    res = await fetch(src);
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new ApiError(cause?.code === 'ENOTFOUND' ? 404 : 500, `Get ${JSON.stringify(src)}: ${cause?.message ?? (e as Error).message}`);
  }
  if (res.status >= 400) {
    const text = (await res.text().catch(() => '')).trim();
    const code = [400, 401, 403, 404].includes(res.status) ? res.status : 500;
    throw new ApiError(code, `failed to GET ${src} with status ${res.status} ${res.statusText}: ${text}`);
  }
  if (!res.body) throw new ApiError(500, `failed to GET ${src}: empty body`);
  return { body: Readable.fromWeb(res.body as ReadableStream), size: Number(res.headers.get('content-length') ?? -1) };
}

/** A prune `until`: Unix seconds, an RFC 3339 time, or a Go duration back from now (24h, 90m). */
function untilSeconds(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const d = /^(\d+(?:\.\d+)?)(h|m|s)$/.exec(v);
  if (d) return Date.now() / 1000 - Number(d[1]) * { h: 3600, m: 60, s: 1 }[d[2] as 'h' | 'm' | 's'];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw badRequest(`failed to parse value as time or duration: "${v}"`);
  return t / 1000;
}

/** `label=k`, `label=k=v` must all match; `label!=...` must all not. */
function labelsMatch(labels: Record<string, string>, want: string[], not: string[]): boolean {
  const has = (f: string): boolean => {
    const i = f.indexOf('=');
    return i < 0 ? f in labels : labels[f.slice(0, i)] === f.slice(i + 1);
  };
  return want.every(has) && !not.some(has);
}

export function registerImageRoutes(app: FastifyInstance, deps: ImageDeps): void {
  const { images } = deps;
  const find = (name: string): ImageRecord => {
    const img = images.resolve(name);
    if (!img) throw notFound(`No such image: ${familiarName(name)}`);
    return img;
  };

  app.get('/images/json', async (req: FastifyRequest<{ Querystring: Query }>) => {
    // Without `all`, untagged images that others were built on (a build's steps) are left out, as Docker does.
    const all = boolValue(req.query.all);
    const listed = images.list().filter((img) => all || img.repoTags.length > 0 || img.repoDigests.length > 0 || images.children(img.id).length === 0);
    const selected = filterImages(listed, parseFilters(str(req.query.filters)), (ref) => images.resolve(ref));
    // API 1.43 sends empty lists for an untagged image; older versions Docker's placeholders.
    const placeholders = apiVersionBelow(req, '1.43');
    return selected.map((img) =>
      imageSummary(placeholders && img.repoTags.length === 0 && img.repoDigests.length === 0 ? { ...img, repoTags: ['<none>:<none>'], repoDigests: ['<none>@<none>'] } : img),
    );
  });

  /** GET /images/get and /images/{name}/get: every archive layer made ready before the first byte, so a failure is a plain HTTP error. */
  const save = async (names: string[], reply: FastifyReply): Promise<FastifyReply> => {
    const items: SaveItem[] = [];
    for (const name of names) {
      const image = find(name);
      const asId = asImageId(name) !== undefined || image.id.slice(7).startsWith(name.replace(/^sha256:/, ''));
      let tags: Reference[] = [];
      if (!asId) {
        const ref = parseReference(name);
        if (ref.tag) tags = [ref];
        else if (!ref.digest) {
          // A bare repository name saves every tag of it.
          const prefix = `${familiarRepository(ref)}:`;
          for (const img of images.list()) {
            const own = img.repoTags.filter((t) => t.startsWith(prefix) && !t.slice(prefix.length).includes('/')).map((t) => parseReference(t));
            if (own.length) items.push({ image: img, tags: own });
          }
          continue;
        }
      }
      const same = items.find((i) => i.image.id === image.id);
      if (same) same.tags.push(...tags.filter((t) => !same.tags.some((x) => familiar(x) === familiar(t))));
      else items.push({ image, tags });
    }
    const tmp = images.makeTemp('save');
    let layers;
    try {
      layers = await prepareLayers(images, items, tmp);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    const archive = saveArchive(images, items, layers);
    const cleanup = (): void => rmSync(tmp, { recursive: true, force: true });
    archive.once('close', cleanup);
    archive.once('error', cleanup);
    for (const { image } of items) deps.events.emit('image', 'save', image.id, { name: image.repoTags[0] ?? image.id });
    return reply.code(200).type('application/x-tar').send(archive);
  };

  app.get('/images/get', async (req: Req, reply) => {
    const names = ([] as string[]).concat(req.query.names ?? []).filter(Boolean);
    if (names.length === 0) throw badRequest('no images given to save');
    return save(names, reply);
  });

  app.get('/images/*', async (req: Req, reply) => {
    const path = req.params['*'];
    if (path.endsWith('/get')) return save([path.slice(0, -'/get'.length)], reply);
    if (path.endsWith('/json')) return imageInspect(find(path.slice(0, -'/json'.length)));
    if (path.endsWith('/history')) return imageHistory(find(path.slice(0, -'/history'.length)), (id) => images.get(id));
    throw notFound('page not found');
  });

  app.post('/images/prune', async (req: Req) => {
    const filters = parseFilters(str(req.query.filters));
    for (const key of Object.keys(filters)) if (!['dangling', 'until', 'label', 'label!'].includes(key)) throw badRequest(`invalid filter '${key}'`);
    const dangling = filters.dangling ?? ['true'];
    const all = dangling.includes('false') || dangling.includes('0');
    const until = filters.until?.length ? Math.min(...filters.until.map(untilSeconds)) : undefined;
    const { items, reclaimed } = await images.prune(
      all,
      (img) => (until === undefined || unixSeconds(img.created) < until) && labelsMatch(img.config.config?.Labels ?? {}, filters.label ?? [], filters['label!'] ?? []),
      deps.usedBy,
    );
    for (const item of items) deps.events.emit('image', 'Untagged' in item ? 'untag' : 'delete', 'Untagged' in item ? item.Untagged : item.Deleted, {});
    return { ImagesDeleted: items.length ? items : null, SpaceReclaimed: reclaimed };
  });

  app.delete('/images/*', async (req: Req) => {
    const name = req.params['*'];
    if (!name.trim()) throw badRequest('image name cannot be blank');
    const items = await images.remove(name, { force: boolValue(req.query.force), noprune: boolValue(req.query.noprune) }, deps.usedBy, deps.runningUsers);
    for (const item of items) if ('Untagged' in item) deps.events.emit('image', 'untag', item.Untagged, { name: item.Untagged });
    // The first Deleted is the image; the ones after it are its layers.
    const deleted = items.find((i): i is { Deleted: string } => 'Deleted' in i);
    if (deleted) deps.events.emit('image', 'delete', deleted.Deleted, { name: deleted.Deleted });
    return items;
  });

  registerRegistryRoutes(app, deps);

  app.post('/images/*', async (req: Req, reply) => {
    const path = req.params['*'];
    if (path.endsWith('/push')) return postPush(path.slice(0, -'/push'.length), req, new JsonStream(reply), deps);
    if (!path.endsWith('/tag')) throw notFound('page not found');
    const repo = str(req.query.repo);
    if (!repo) throw badRequest('repository name must have at least one component');
    const ref = repoTagReference(repo, str(req.query.tag) || undefined);
    let img: ImageRecord | undefined;
    try {
      img = find(path.slice(0, -'/tag'.length));
    } catch (e) {
      // Docker answers 404 for any failure to find the source image, invalid names included.
      throw notFound((e as Error).message);
    }
    images.tag(img.id, familiar(ref));
    deps.events.emit('image', 'tag', img.id, { name: familiar(ref) });
    return reply.code(201).send();
  });

  app.post('/images/load', async (req: Req, reply) => {
    // Docker's default is quiet; the docker CLI asks for progress only on a terminal.
    const quiet = req.query.quiet === undefined ? true : boolValue(req.query.quiet);
    const out = new JsonStream(reply);
    try {
      const { loaded } = await images.load(req.raw, { onProgress: quiet ? undefined : (p: Progress) => out.write(progressMessage(p)) });
      for (const line of loaded) {
        out.write({ stream: `${line}\n` });
        const name = /^Loaded image(?: ID)?: (.*)$/.exec(line)?.[1];
        if (name) deps.events.emit('image', 'load', name, { name });
      }
    } catch (e) {
      deps.log.info({ err: e }, 'image load failed');
      out.error(e as Error);
    }
    return out.end();
  });

  app.post('/images/create', async (req: Req, reply) => {
    const out = new JsonStream(reply);
    const fromImage = str(req.query.fromImage);
    if (fromImage) return postPull(req, out, deps);
    let src = str(req.query.fromSrc);
    if (!src) throw badRequest('either fromImage or fromSrc must be given');
    const repo = str(req.query.repo);
    const tag = str(req.query.tag);
    if (repo) repoTagReference(repo, tag || undefined);
    const message = str(req.query.message) || `Imported from ${src}`;
    const changes = ([] as string[]).concat(req.query.changes ?? []);
    let body: Readable = req.raw;
    if (src !== '-') {
      if (!src.includes('://')) src = `http://${src}`;
      const remote = await download(src);
      out.write({ status: `Downloading from ${src}` });
      body = withProgress(remote.body, remote.size, '', 'Importing', (p) => {
        out.write(progressMessage(p));
        // Docker's import progress output ends each bar with an empty message.
        if (p.last) out.write({});
      });
    }
    try {
      const id = await images.importTar(body, { repo: repo || undefined, tag: tag || undefined, changes, message });
      out.write({ status: id });
      deps.events.emit('image', 'import', id, { name: id });
    } catch (e) {
      if (!out.started) throw e;
      out.error(e as Error);
    }
    return out.end();
  });
}
