// The registry side of /images: pull (POST /images/create?fromImage=) and its progress stream.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDigest, familiar, parseReference, withTag, type Reference } from '../../images/reference';
import { decodeAuthHeader } from '../../registry/auth';
import { parsePlatform } from '../../registry/manifest';
import { pullImage } from '../../registry/pull';
import { ApiError, badRequest } from '../errors';
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

/** Streams a pull; errors before the first message are plain HTTP errors, as Docker sends them. */
export async function postPull(req: Req, out: JsonStream, deps: ImageDeps): Promise<FastifyReply> {
  const ref = pullReference(str(req.query.fromImage), str(req.query.tag));
  if (!ref.tag && !ref.digest) throw badRequest('pulling every tag of a repository (docker pull --all-tags) is not supported by berth; name a tag');
  const platform = str(req.query.platform) ? parsePlatform(str(req.query.platform)) : undefined;
  const auth = decodeAuthHeader(req.headers['x-registry-auth']);
  try {
    const result = await pullImage({ ref, auth, platform, registry: deps.registry, store: deps.images, log: deps.log, emit: (m) => out.write(m) });
    out.write({ status: `Digest: ${result.digest}` });
    out.write({ status: `Status: ${result.changed ? 'Downloaded newer image' : 'Image is up to date'} for ${familiar(ref)}` });
    deps.events.emit('image', 'pull', familiar(ref), { name: familiar(ref) });
  } catch (e) {
    deps.log.info({ err: e, ref: familiar(ref) }, 'pull failed');
    if (!out.started) throw e instanceof ApiError ? e : new ApiError(500, (e as Error).message);
    out.error(e as Error);
  }
  return out.end();
}
