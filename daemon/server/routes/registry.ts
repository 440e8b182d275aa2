// The registry side of the API: pull (POST /images/create?fromImage=), push, POST /auth for
// `docker login`, and GET /images/search.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDigest, familiar, familiarRepository, parseReference, withTag, type Reference } from '../../images/reference';
import type { ImageRecord } from '../../images/store';
import { type AuthConfig, decodeAuthHeader } from '../../registry/auth';
import { DOCKER_HUB, endpointsFor } from '../../registry/endpoints';
import { login } from '../../registry/login';
import { parsePlatform } from '../../registry/manifest';
import { listTags, pullImage } from '../../registry/pull';
import { pushImages } from '../../registry/push';
import { searchIndex } from '../../registry/search';
import { parseFilters } from '../app';
import { ApiError, badRequest, notFound } from '../errors';
import type { JsonStream } from '../json-stream';
import type { ImageDeps } from './images';

type Query = Record<string, string | string[] | undefined>;
type Req = FastifyRequest<{ Querystring: Query }>;

const str = (v: string | string[] | undefined): string => (Array.isArray(v) ? v[0] : v) ?? '';

/** The reference a pull asks for: fromImage with the `tag` parameter, which may be a digest. */
export function pullReference(fromImage: string, tag: string): Reference {
  const ref = parseReference(fromImage);
  if (!tag) return ref;
  if (isDigest(tag)) return { ...ref, tag: undefined, digest: tag };
  return withTag(ref, tag);
}

/** Streams a pull (every tag of the repository without a tag); errors before the first message are plain HTTP errors, as Docker sends them. */
export async function postPull(req: Req, out: JsonStream, deps: ImageDeps): Promise<FastifyReply> {
  const ref = pullReference(str(req.query.fromImage), str(req.query.tag));
  const platform = str(req.query.platform) ? parsePlatform(str(req.query.platform)) : undefined;
  const auth = decodeAuthHeader(req.headers['x-registry-auth']);
  const common = { auth, platform, registry: deps.registry, store: deps.images, origins: deps.origins, log: deps.log, emit: (m: Record<string, unknown>) => out.write(m) };
  try {
    const all = !ref.tag && !ref.digest;
    const refs = all ? (await listTags({ ref, auth, registry: deps.registry, log: deps.log })).map((tag) => ({ ...ref, tag })) : [ref];
    if (refs.length === 0) throw notFound(`repository ${familiarRepository(ref)} has no tags`);
    let changed = false;
    for (const r of refs) {
      const result = await pullImage({ ...common, ref: r });
      changed ||= result.changed;
      out.write({ status: `Digest: ${result.digest}` });
      deps.events.emit('image', 'pull', familiar(r), { name: familiar(r) });
    }
    // Docker names the repository alone after an all-tags pull.
    out.write({ status: `Status: ${changed ? 'Downloaded newer image' : 'Image is up to date'} for ${familiar(ref)}` });
  } catch (e) {
    deps.log.info({ err: e, ref: familiar(ref) }, 'pull failed');
    if (!out.started) throw e instanceof ApiError ? e : new ApiError(500, (e as Error).message);
    out.error(e as Error);
  }
  return out.end();
}

/** POST /images/{name}/push?tag=: one tag, or every tag of the repository when none is given. */
export async function postPush(name: string, req: Req, out: JsonStream, deps: ImageDeps): Promise<FastifyReply> {
  const parsed = parseReference(name);
  const tag = str(req.query.tag);
  const ref = tag ? withTag(parsed, tag) : parsed;
  const repo: Reference = { domain: ref.domain, path: ref.path };
  const missing = (): ApiError => notFound(`An image does not exist locally with the tag: ${familiarRepository(repo)}`);
  let tags: Array<{ tag: string; image: ImageRecord }>;
  if (ref.tag) {
    const image = deps.images.resolve(familiar(ref));
    if (!image) throw missing();
    tags = [{ tag: ref.tag, image }];
  } else {
    const prefix = `${familiarRepository(repo)}:`;
    tags = deps.images
      .list()
      .flatMap((image) => image.repoTags.filter((t) => t.startsWith(prefix) && !t.slice(prefix.length).includes('/')).map((t) => ({ tag: t.slice(prefix.length), image })))
      .sort((a, b) => (a.tag < b.tag ? -1 : 1));
    if (tags.length === 0) throw missing();
  }
  const auth = decodeAuthHeader(req.headers['x-registry-auth']);
  try {
    await pushImages({ repo, tags, auth, registry: deps.registry, store: deps.images, origins: deps.origins, log: deps.log, emit: (m) => out.write(m) });
    for (const t of tags) deps.events.emit('image', 'push', familiar({ ...repo, tag: t.tag }), { name: familiar({ ...repo, tag: t.tag }) });
  } catch (e) {
    deps.log.info({ err: e, ref: familiar(ref) }, 'push failed');
    out.error(e as Error);
  }
  return out.end();
}

/** The registry a login names: scheme and path dropped, Docker Hub's index URL for the default. */
function loginDomain(serveraddress: string): string {
  const host = serveraddress.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return !host || host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

/** GET /images/search against the index of the term's registry (Docker Hub's by default). */
async function search(req: Req, deps: ImageDeps): Promise<unknown[]> {
  const term = str(req.query.term);
  const limitText = str(req.query.limit);
  const limit = limitText ? Number(limitText) : 25;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw badRequest(`limit ${limitText} is outside the range of [1, 100]`);
  const filters = parseFilters(str(req.query.filters));
  for (const key of Object.keys(filters)) if (!['is-automated', 'is-official', 'stars'].includes(key)) throw badRequest(`invalid filter '${key}'`);
  const slash = term.indexOf('/');
  const first = slash > 0 ? term.slice(0, slash) : '';
  const custom = first && (/[.:]/.test(first) || first === 'localhost') && first !== 'index.docker.io';
  const domain = custom ? first : DOCKER_HUB;
  const q = custom ? term.slice(slash + 1) : term;
  const base = domain === DOCKER_HUB ? 'https://index.docker.io' : endpointsFor(domain, deps.registry)[0].url;
  const results = await searchIndex(base, q, limit);
  const want = (key: string): boolean | undefined => (filters[key] ? filters[key].includes('true') : undefined);
  const stars = Math.max(0, ...(filters.stars ?? []).map(Number));
  return results.filter((r) => {
    const official = want('is-official');
    const automated = want('is-automated');
    return (official === undefined || r.is_official === official) && (automated === undefined || r.is_automated === automated) && r.star_count >= stars;
  });
}

export function registerRegistryRoutes(app: FastifyInstance, deps: ImageDeps): void {
  app.post('/auth', async (req: FastifyRequest<{ Body: AuthConfig | undefined }>) => {
    const auth = req.body ?? {};
    const domain = loginDomain(auth.serveraddress ?? '');
    await login(domain, auth, deps.registry, deps.log);
    return { IdentityToken: '', Status: 'Login Succeeded' };
  });
  app.get('/images/search', async (req: Req) => search(req, deps));
}
