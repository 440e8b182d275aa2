// `docker pull`: manifest (a list or index resolved to the platform), config, then the layers the
// store lacks, downloaded concurrently and extracted in order, with Docker's progress messages.
// The image becomes visible only once every layer is in place; a failure drops what it added.
import { createReadStream, rmSync } from 'fs';
import type { Logger } from 'pino';
import { ApiError, notFound } from '../server/errors';
import { chainIds, parseConfig, sha256 } from '../images/config';
import { CHUNK } from '../images/extract';
import { progressMessage, withProgress } from '../images/progress';
import { type Reference, familiar, familiarRepository, repositoryName } from '../images/reference';
import type { ImageStore } from '../images/store';
import type { AuthConfig } from './auth';
import { downloadBlob, getBlob, getManifest, type FetchedManifest } from './blobs';
import { type RegistryConfig, endpointsFor } from './endpoints';
import { RegistryError } from './errors';
import { type Descriptor, type ImageManifest, type Platform, hostPlatform, layerCompression, parseManifest, selectManifest } from './manifest';
import type { BlobOrigins } from './origins';
import { RegistrySession } from './session';

const CONCURRENT_DOWNLOADS = 3;
const REPORT_MS = 100;

export type Emit = (message: Record<string, unknown>) => void;

export interface PullOptions {
  /** A normalised reference with a tag or a digest. */
  ref: Reference;
  auth: AuthConfig;
  platform?: Platform;
  registry: RegistryConfig;
  store: ImageStore;
  origins: BlobOrigins;
  log: Logger;
  emit: Emit;
}

export interface PullResult {
  id: string;
  /** The manifest digest the reference resolved to (a list's, when it was one). */
  digest: string;
  changed: boolean;
}

const short = (digest: string): string => digest.replace(/^sha256:/, '').slice(0, 12);

/** Docker's translatePullError: registry error codes as the messages `docker pull` prints, with 404s. */
export function pullError(e: unknown, ref: Reference): Error {
  if (!(e instanceof RegistryError)) return e as Error;
  const name = familiarRepository(ref);
  if (e.code === 'MANIFEST_UNKNOWN') return notFound(`manifest for ${familiar(ref)} not found: ${e.message}`);
  if (e.code === 'NAME_UNKNOWN') return notFound(`repository ${name} not found: ${e.message}`);
  if (e.code === 'DENIED') return notFound(`pull access denied for ${name}, repository does not exist or may require 'docker login': ${e.message}`);
  if (e.code === 'UNAUTHORIZED') return new ApiError(401, e.message);
  return e;
}

interface Resolved {
  session: RegistrySession;
  /** The manifest the reference names (maybe a list). */
  top: FetchedManifest;
  manifest: ImageManifest;
}

/** The image manifest for the platform, through the first endpoint that has it (mirrors first). */
async function resolve(o: PullOptions): Promise<Resolved> {
  const endpoints = endpointsFor(o.ref.domain, o.registry);
  const reference = o.ref.digest ?? o.ref.tag ?? 'latest';
  let lastError: unknown;
  for (const ep of endpoints) {
    const session = new RegistrySession(ep, o.ref.path, o.auth, [`repository:${o.ref.path}:pull`], o.log);
    try {
      const top = await getManifest(session, reference);
      let parsed = parseManifest(top.bytes, top.contentType);
      if (parsed.kind === 'index') {
        const chosen = selectManifest(parsed, o.platform ?? hostPlatform());
        const inner = await getManifest(session, chosen.digest);
        parsed = parseManifest(inner.bytes, inner.contentType);
        if (parsed.kind !== 'image') throw new Error(`manifest ${chosen.digest} of the index is not an image manifest`);
      }
      return { session, top, manifest: parsed };
    } catch (e) {
      lastError = e;
      // A mirror that fails or lacks the image falls back to the next endpoint, as in Docker.
      if (!ep.mirror) break;
      o.log.info({ mirror: ep.url, err: e }, 'registry mirror failed, trying the next endpoint');
    }
  }
  throw pullError(lastError, o.ref);
}

/** The repository's tags (`docker pull --all-tags`), from the first endpoint that answers. */
export async function listTags(o: Pick<PullOptions, 'ref' | 'auth' | 'registry' | 'log'>): Promise<string[]> {
  let lastError: unknown;
  for (const ep of endpointsFor(o.ref.domain, o.registry)) {
    const session = new RegistrySession(ep, o.ref.path, o.auth, [`repository:${o.ref.path}:pull`], o.log);
    try {
      const res = await session.request('GET', `/v2/${o.ref.path}/tags/list`);
      const body = (await res.body.json()) as { tags?: string[] | null };
      return [...(body.tags ?? [])].sort();
    } catch (e) {
      lastError = e;
      if (!ep.mirror) break;
    }
  }
  throw pullError(lastError, o.ref);
}

/** Reports byte counts no more often than every 100 ms, and the final count. */
function throttled(id: string, action: string, total: number, emit: Emit): (n: number) => void {
  let last = 0;
  return (n) => {
    const now = Date.now();
    if (n !== total && now - last < REPORT_MS) return;
    last = now;
    emit(progressMessage({ id, action, current: n, total, last: n === total }));
  };
}

export async function pullImage(o: PullOptions): Promise<PullResult> {
  const { session, top, manifest } = await resolve(o);
  const { store, emit } = o;
  const tagOrDigest = o.ref.digest ?? o.ref.tag ?? 'latest';
  // Docker names the repository by its path on the registry here.
  emit({ status: `Pulling from ${o.ref.path}`, id: tagOrDigest });

  const configBytes = await getBlob(session, manifest.config.digest).catch((e: unknown) => {
    throw pullError(e, o.ref);
  });
  const config = parseConfig(configBytes);
  if ((config.os || 'linux') !== 'linux') throw new Error(`image operating system "${config.os}" cannot be used on this platform`);
  if (config.rootfs.diff_ids.length !== manifest.layers.length) throw new Error('layers from manifest don\'t match image configuration');
  for (const l of manifest.layers) layerCompression(l.mediaType);

  const refs: Reference[] = [{ domain: o.ref.domain, path: o.ref.path, digest: top.digest }];
  if (o.ref.tag && !o.ref.digest) refs.unshift({ ...o.ref });
  const id = `sha256:${sha256(configBytes)}`;
  if (store.get(id)) {
    // The image is here already: only its references may change.
    const { changed } = await store.addImage(configBytes, refs);
    return { id, digest: top.digest, changed };
  }

  const chains = chainIds(config.rootfs.diff_ids);
  const present = chains.map((c) => store.hasChain(c));
  const pinned: string[] = chains.filter((_c, i) => present[i]);
  store.pin(pinned);
  const tmp = store.makeTemp('pull');
  const abort = new AbortController();
  // The first failure is the one to report: the downloads it aborts fail after it.
  let firstError: unknown;
  let ok = false;
  try {
    manifest.layers.forEach((l, i) => emit({ status: present[i] ? 'Already exists' : 'Pulling fs layer', progressDetail: {}, id: short(l.digest) }));
    const wanted = manifest.layers.map((l, i) => ({ l, i })).filter(({ i }) => !present[i]);
    wanted.slice(CONCURRENT_DOWNLOADS).forEach(({ l }) => emit({ status: 'Waiting', progressDetail: {}, id: short(l.digest) }));

    // Downloads run CONCURRENT_DOWNLOADS at a time; each layer's promise resolves to its file.
    const downloads = new Map<number, Promise<string>>();
    let next = 0;
    const slots: Array<() => void> = [];
    let running = 0;
    const acquire = (): Promise<void> =>
      running < CONCURRENT_DOWNLOADS ? (running++, Promise.resolve()) : new Promise<void>((r) => slots.push(() => (running++, r())));
    const releaseSlot = (): void => {
      running--;
      slots.shift()?.();
    };
    for (const { l, i } of wanted) {
      const file = `${tmp}/${next++}`;
      const p = acquire().then(async () => {
        try {
          await downloadLayer(session, l, file, emit, abort.signal);
          return file;
        } finally {
          releaseSlot();
        }
      });
      p.catch((e: unknown) => {
        firstError ??= e;
        abort.abort();
      });
      downloads.set(i, p);
    }

    let parent = '';
    for (const [i, l] of manifest.layers.entries()) {
      if (!present[i]) {
        const file = await (downloads.get(i) as Promise<string>);
        const input = withProgress(createReadStream(file, { highWaterMark: CHUNK }), l.size, short(l.digest), 'Extracting', (p) => {
          if (!p.last) emit(progressMessage(p));
        });
        await store.addLayer(input, parent, config.rootfs.diff_ids[i], { path: file, digest: l.digest, size: l.size });
        pinned.push(chains[i]);
        emit({ status: 'Pull complete', progressDetail: {}, id: short(l.digest) });
      }
      parent = chains[i];
    }
    const { changed } = await store.addImage(configBytes, refs);
    ok = true;
    for (const l of manifest.layers) o.origins.add(l.digest, o.ref.domain, o.ref.path);
    o.log.info({ image: id, ref: repositoryName(o.ref), digest: top.digest }, 'image pulled');
    return { id, digest: top.digest, changed };
  } catch (e) {
    abort.abort();
    throw pullError(firstError ?? e, o.ref);
  } finally {
    await store.release(pinned, !ok);
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function downloadLayer(session: RegistrySession, l: Descriptor, file: string, emit: Emit, signal: AbortSignal): Promise<void> {
  const id = short(l.digest);
  const report = throttled(id, 'Downloading', l.size, emit);
  await downloadBlob(session, l.digest, l.size, file, report, signal);
  emit({ status: 'Verifying Checksum', progressDetail: {}, id });
  emit({ status: 'Download complete', progressDetail: {}, id });
}
