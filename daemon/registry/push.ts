// `docker push`: each layer as a gzip blob (skipped when the registry has it, mounted from another
// repository of the same registry when one is known to hold it, uploaded otherwise), then the
// config and a schema2 manifest per tag, with Docker's progress messages.
import { createReadStream, createWriteStream, rmSync, statSync } from 'fs';
import { createHash } from 'crypto';
import { Transform } from 'stream';
import { pipeline } from 'stream/promises';
import { createGzip } from 'zlib';
import type { Logger } from 'pino';
import { chainIds } from '../images/config';
import { CHUNK } from '../images/extract';
import { progressMessage, withProgress } from '../images/progress';
import { type Reference, familiar, repositoryName } from '../images/reference';
import type { ImageRecord, ImageStore } from '../images/store';
import type { AuthConfig } from './auth';
import { sha256Digest } from './blobs';
import { type RegistryConfig, endpointsFor } from './endpoints';
import { MEDIA } from './manifest';
import type { BlobOrigins } from './origins';
import { RegistrySession } from './session';

const CONCURRENT_UPLOADS = 5;

export type Emit = (message: Record<string, unknown>) => void;

export interface PushOptions {
  /** The repository and the tags to push, each with its image. */
  repo: Reference;
  tags: Array<{ tag: string; image: ImageRecord }>;
  auth: AuthConfig;
  registry: RegistryConfig;
  store: ImageStore;
  origins: BlobOrigins;
  log: Logger;
  emit: Emit;
}

interface Blob {
  digest: string;
  size: number;
  path: string;
}

const short = (digest: string): string => digest.replace(/^sha256:/, '').slice(0, 12);

/** The layer as a gzip blob: the kept source when it is gzip, else compressed into `tmp`. */
async function gzipBlob(store: ImageStore, chain: string, tmp: string): Promise<Blob> {
  const src = store.layerSource(chain);
  if (!src) throw new Error(`layer ${chain} has no stored content to push (it was stored by an older berth); pull or load the image again`);
  if (src.source.gzip) return { digest: src.source.digest, size: src.source.size, path: src.path };
  const path = `${tmp}/${chain.slice(7)}.gz`;
  const hash = createHash('sha256');
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  await pipeline(createReadStream(src.path, { highWaterMark: CHUNK }), createGzip({ chunkSize: CHUNK }), count, createWriteStream(path));
  return { digest: `sha256:${hash.digest('hex')}`, size: statSync(path).size, path };
}

async function exists(s: RegistrySession, digest: string): Promise<boolean> {
  const res = await s.request('HEAD', `/v2/${s.repo}/blobs/${digest}`, { ok: [200, 404] });
  await res.body.dump();
  return res.statusCode === 200;
}

/** Cross-repository mount; false when the registry started an upload instead (that upload is cancelled). */
async function mount(s: RegistrySession, digest: string, from: string): Promise<boolean> {
  const res = await s.request('POST', `/v2/${s.repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, { ok: [201, 202] });
  await res.body.dump();
  if (res.statusCode === 201) return true;
  const location = res.headers.location;
  if (location) await s.request('DELETE', new URL(String(location), s.url('/')).toString(), { ok: [204, 404, 405] }).then((r) => r.body.dump(), () => undefined);
  return false;
}

/** Monolithic upload: POST for an upload URL, then PUT the bytes with the digest. */
async function upload(s: RegistrySession, blob: { digest: string; size: number; body: () => NodeJS.ReadableStream | Buffer }): Promise<void> {
  const start = await s.request('POST', `/v2/${s.repo}/blobs/uploads/`, { ok: [202] });
  await start.body.dump();
  const location = start.headers.location;
  if (!location) throw new Error('the registry started an upload without a Location');
  const url = new URL(String(location), s.url('/'));
  url.searchParams.set('digest', blob.digest);
  const body = blob.body();
  const res = await s.request('PUT', url.toString(), {
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
    body: body as Buffer,
    ok: [201, 204],
  });
  await res.body.dump();
}

export async function pushImages(o: PushOptions): Promise<void> {
  const { store, emit } = o;
  const domain = o.repo.domain;
  const [ep] = endpointsFor(domain, { ...o.registry, registryMirrors: [] }).slice(-1);
  emit({ status: `The push refers to repository [${repositoryName(o.repo)}]` });
  const tmp = store.makeTemp('push');
  try {
    for (const { tag, image } of o.tags) {
      const chains = chainIds(image.config.rootfs.diff_ids);
      // Mount sources go into the token's scope up front.
      const from = new Set<string>();
      const sources = chains.map((c) => store.layerSource(c));
      for (const s of sources) if (s?.source.gzip) for (const r of o.origins.repos(s.source.digest, domain)) if (r !== o.repo.path) from.add(r);
      const session = new RegistrySession(ep, o.repo.path, o.auth, [`repository:${o.repo.path}:pull,push`, ...[...from].map((r) => `repository:${r}:pull`)], o.log);

      // Top layer first, as Docker lists them.
      const order = chains.map((c, i) => ({ c, i, id: short(image.config.rootfs.diff_ids[i]) })).reverse();
      order.forEach(({ id }) => emit({ status: 'Preparing', progressDetail: {}, id }));
      order.slice(CONCURRENT_UPLOADS).forEach(({ id }) => emit({ status: 'Waiting', progressDetail: {}, id }));
      const layers: Blob[] = new Array<Blob>(chains.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < order.length) {
          const { c, i, id } = order[next++];
          const blob = await gzipBlob(store, c, tmp);
          layers[i] = blob;
          if (await exists(session, blob.digest)) {
            emit({ status: 'Layer already exists', progressDetail: {}, id });
          } else {
            const mountFrom = o.origins.repos(blob.digest, domain).find((r) => r !== o.repo.path);
            if (mountFrom && (await mount(session, blob.digest, mountFrom))) {
              emit({ status: `Mounted from ${mountFrom}`, progressDetail: {}, id });
            } else {
              await upload(session, {
                digest: blob.digest,
                size: blob.size,
                body: () =>
                  withProgress(createReadStream(blob.path, { highWaterMark: CHUNK }), blob.size, id, 'Pushing', (p) => {
                    if (!p.last) emit(progressMessage(p));
                  }),
              });
              emit({ status: 'Pushed', progressDetail: {}, id });
            }
          }
          o.origins.add(blob.digest, domain, o.repo.path);
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENT_UPLOADS, order.length) }, worker));

      const configBytes = store.configBytes(image.id);
      const configDigest = sha256Digest(configBytes);
      if (!(await exists(session, configDigest))) await upload(session, { digest: configDigest, size: configBytes.length, body: () => configBytes });
      // Docker marshals its schema2 manifests with a three-space indent.
      const manifest = Buffer.from(
        JSON.stringify(
          {
            schemaVersion: 2,
            mediaType: MEDIA.dockerManifest,
            config: { mediaType: MEDIA.dockerConfig, size: configBytes.length, digest: configDigest },
            layers: layers.map((l) => ({ mediaType: MEDIA.dockerLayer, size: l.size, digest: l.digest })),
          },
          null,
          3,
        ),
      );
      const res = await session.request('PUT', `/v2/${o.repo.path}/manifests/${tag}`, { headers: { 'content-type': MEDIA.dockerManifest }, body: manifest, ok: [201, 200] });
      await res.body.dump();
      const digest = sha256Digest(manifest);
      await store.addDigestReference(image.id, { domain, path: o.repo.path, digest });
      emit({ status: `${tag}: digest: ${digest} size: ${manifest.length}` });
      emit({ progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: manifest.length } });
      o.log.info({ image: image.id, ref: familiar({ ...o.repo, tag }), digest }, 'image pushed');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
