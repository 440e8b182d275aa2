// /images/*: list, inspect, history, delete, tag, load, import. Names may contain slashes,
// so the per-image routes are wildcards dispatched on their last segment.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Readable } from 'stream';
import { loadArchive } from '../../images/archive';
import { importTar } from '../../images/import';
import { parseReference } from '../../images/reference';
import { imageHistory, imageInspect, imageSummary } from '../../images/shapes';
import type { ImageRecord, ImageStore } from '../../images/store';
import { parseFilters, qbool } from '../app';
import { ApiError, badRequest, notFound } from '../errors';

export interface ImageDeps {
  images: ImageStore;
  log: Logger;
  /** IDs of containers (any state) created from the image. */
  usedBy(imageId: string): string[];
  /** IDs of running containers created from the image. */
  runningUsers(imageId: string): string[];
}

type Req = FastifyRequest<{ Params: { '*': string }; Querystring: Record<string, string | string[]> }>;

function str(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Writes a JSON-lines progress stream as Docker's jsonmessage format. */
function jsonStream(reply: FastifyReply, messages: object[]): void {
  reply.hijack();
  reply.raw.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.43' });
  for (const m of messages) reply.raw.write(JSON.stringify(m) + '\r\n');
  reply.raw.end();
}

function matchesFilters(img: ImageRecord, f: Record<string, string[]>, images: ImageStore): boolean {
  const any = (key: string, test: (v: string) => boolean): boolean => !f[key] || f[key].some(test);
  const createdOf = (ref: string): number => {
    const other = images.resolve(ref);
    if (!other) throw notFound(`No such image: ${ref}`);
    return Date.parse(other.created);
  };
  return (
    any('dangling', (v) => (v === 'true' || v === '1') === (img.repoTags.length === 0)) &&
    any('reference', (v) => img.repoTags.some((t) => globMatch(v, t) || globMatch(v, t.replace(/:[^:/]+$/, '')))) &&
    any('label', (v) => {
      const [k, val] = v.split('=', 2);
      const labels = img.config.config?.Labels ?? {};
      return val === undefined ? k in labels : labels[k] === val;
    }) &&
    any('before', (v) => Date.parse(img.created) < createdOf(v)) &&
    any('since', (v) => Date.parse(img.created) > createdOf(v))
  );
}

/** Docker's reference filter: shell-style patterns where `*` does not cross `/`. */
function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
  return re.test(value);
}

export function registerImageRoutes(app: FastifyInstance, deps: ImageDeps): void {
  const { images } = deps;
  const find = (name: string): ImageRecord => {
    const img = images.resolve(name);
    if (!img) throw notFound(`No such image: ${name}`);
    return img;
  };

  app.get('/images/json', async (req: FastifyRequest<{ Querystring: Record<string, string> }>) => {
    const filters = parseFilters(req.query.filters);
    for (const key of Object.keys(filters)) {
      if (!['dangling', 'reference', 'label', 'before', 'since'].includes(key)) throw badRequest(`invalid filter '${key}'`);
    }
    return images
      .list()
      .filter((i) => matchesFilters(i, filters, images))
      .sort((a, b) => Date.parse(b.created) - Date.parse(a.created))
      .map(imageSummary);
  });

  app.get('/images/*', async (req: Req) => {
    const path = req.params['*'];
    if (path.endsWith('/json')) {
      const img = find(path.slice(0, -'/json'.length));
      return imageInspect(img, images.layerDirs(img.id));
    }
    if (path.endsWith('/history')) return imageHistory(find(path.slice(0, -'/history'.length)));
    throw notFound('page not found');
  });

  app.delete('/images/*', async (req: Req) => {
    const name = req.params['*'];
    return images.exclusive(async () =>
      images.remove(name, { force: qbool(str(req.query.force)), noprune: qbool(str(req.query.noprune)) }, { all: deps.usedBy, running: deps.runningUsers }),
    );
  });

  app.post('/images/*', async (req: Req, reply) => {
    const path = req.params['*'];
    if (!path.endsWith('/tag')) throw notFound('page not found');
    const img = find(path.slice(0, -'/tag'.length));
    const repo = str(req.query.repo);
    if (!repo) throw badRequest('repository name must have at least one component');
    const tag = str(req.query.tag);
    const ref = parseReference(tag ? `${repo}:${tag}` : repo);
    if (ref.digest) throw badRequest('refusing to create a tag with a digest reference');
    images.tag(img.id, tag ? `${repo}:${tag}` : repo);
    return reply.code(201).send();
  });

  app.post('/images/load', async (req: Req, reply) => {
    const lines = await images.exclusive(() => loadArchive(images, req.raw));
    deps.log.info({ loaded: lines }, 'images loaded');
    jsonStream(
      reply,
      lines.map((l) => ({ stream: `${l}\n` })),
    );
  });

  app.post('/images/create', async (req: Req, reply) => {
    const fromImage = str(req.query.fromImage);
    const fromSrc = str(req.query.fromSrc);
    if (fromImage) {
      throw new ApiError(501, `pulling from registries is not supported by berth yet: load ${fromImage} with "docker load" instead`);
    }
    if (!fromSrc) throw badRequest('either fromImage or fromSrc must be given');
    const repo = str(req.query.repo);
    const tag = str(req.query.tag);
    if (repo) parseReference(tag ? `${repo}:${tag}` : repo);
    let body: Readable = req.raw;
    if (fromSrc !== '-') {
      let url: URL;
      try {
        url = new URL(fromSrc);
      } catch {
        throw badRequest(`invalid URL ${fromSrc}`);
      }
      const res = await fetch(url, { signal: AbortSignal.timeout(30_000) }).catch((e: Error) => {
        throw new ApiError(500, `Get "${fromSrc}": ${e.message}`);
      });
      if (!res.ok || !res.body) throw new ApiError(500, `Get "${fromSrc}": ${res.status} ${res.statusText}`);
      body = Readable.fromWeb(res.body as import('stream/web').ReadableStream);
    }
    const id = await images.exclusive(() =>
      importTar(images, body, { repo, tag, changes: list(req.query.changes), message: str(req.query.message), source: fromSrc }),
    );
    jsonStream(reply, [{ status: id }]);
  });
}
