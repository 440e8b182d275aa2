// The local image store. Under the data root:
//   image/blobs/sha256/<hex>   config blobs as received; the image ID is the sha256 of the bytes
//   image/repositories.json    normalised reference -> image ID
//   image/metadata.json        per image: last tag time; `retained` for an image deleted while a
//                              container still uses it (hidden, kept until no container does)
//   image/pending.json         journal of a load or import being committed (rolled back at open)
//   layers/<chain hex>/        see layers.ts; used by the images that have the chain, no count kept
// Writers run one at a time; every file is replaced atomically.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, createReadStream } from 'fs';
import { isDeepStrictEqual } from 'util';
import type { Readable } from 'stream';
import type { Logger } from 'pino';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic';
import { shortId } from '../util/ids';
import { ApiError, conflict, notFound } from '../server/errors';
import { readArchive } from './archive';
import { applyChanges } from './changes';
import { chainIds, type OciImageConfig, parseConfig, sha256 } from './config';
import { CHUNK } from './extract';
import { importConfig } from './import';
import { type KeptFile, type LayerSource, LayerStore } from './layers';
import { type Progress, withProgress } from './progress';
import { type Reference, asImageId, familiar, familiarName, isDigest, parseReference, referenceString, repositoryName, tagNameOnly, withTag } from './reference';

export interface ImageLayer {
  diffId: string;
  chainId: string;
  /** Bytes of file content in this layer alone. */
  size: number;
  /** The extracted filesystem. */
  dir: string;
}

export interface ImageRecord {
  /** sha256:<hex> */
  id: string;
  config: OciImageConfig;
  /** Familiar `name:tag` forms, in Docker's order (by full reference). */
  repoTags: string[];
  repoDigests: string[];
  /** All layers' content. */
  size: number;
  /** The config's `created`, as written there ('' when absent). */
  created: string;
  /** When the image was last tagged through the API ('' never). */
  lastTagTime: string;
  /** The image it was built on by this daemon's builder ('' for pulled, loaded and imported ones). */
  parent: string;
  /** Lowest first. */
  layers: ImageLayer[];
}

export interface ImportOptions {
  repo?: string;
  tag?: string;
  changes?: string[];
  message?: string;
}

export interface RemoveOptions {
  force: boolean;
  /** Docker's noprune: the untagged images a build left under the deleted one are kept. */
  noprune: boolean;
}

export type DeleteResponseItem = { Untagged: string } | { Deleted: string };

/** Container IDs using an image. */
export type ImageUsers = (imageId: string) => string[];

interface ImageMeta {
  lastTagTime?: string;
  retained?: boolean;
  /** Set by the builder: the image a build step was committed on (Docker's parent link, its build cache). */
  parent?: string;
}

interface Journal {
  /** Images whose blobs this commit writes. */
  created: string[];
  /** repositories.json as the commit leaves it. */
  refs: Record<string, string>;
}

interface Conflict {
  hard: boolean;
  used: boolean;
  message: string;
}

const hex = (digest: string): string => digest.replace(/^sha256:/, '');

/** The key a reference is stored under: a digest wins over a tag, a bare name means `latest`. */
function storeKey(ref: Reference): string {
  return referenceString(ref.digest ? { ...ref, tag: undefined } : tagNameOnly(ref));
}

export class ImageStore {
  private readonly blobs: string;
  private readonly refsFile: string;
  private readonly metaFile: string;
  private readonly journalFile: string;
  private readonly tmpRoot: string;
  private readonly layerStore: LayerStore;
  /** Every image present, retained ones included. */
  private readonly configs = new Map<string, OciImageConfig>();
  private refs = new Map<string, string>();
  private meta: Record<string, ImageMeta> = {};
  /** Chains a pull or commit has added and not yet committed to an image: no delete removes them. */
  private readonly pinned = new Map<string, number>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    dataRoot: string,
    private readonly log: Logger,
  ) {
    this.blobs = `${dataRoot}/image/blobs/sha256`;
    this.refsFile = `${dataRoot}/image/repositories.json`;
    this.metaFile = `${dataRoot}/image/metadata.json`;
    this.journalFile = `${dataRoot}/image/pending.json`;
    this.tmpRoot = `${dataRoot}/image/tmp`;
    this.layerStore = new LayerStore(`${dataRoot}/layers`);
  }

  static async open(dataRoot: string, log: Logger): Promise<ImageStore> {
    const s = new ImageStore(dataRoot, log);
    mkdirSync(s.blobs, { recursive: true });
    rmSync(s.tmpRoot, { recursive: true, force: true });
    mkdirSync(s.tmpRoot, { recursive: true });
    s.layerStore.open();
    s.rollBackInterruptedCommit();
    s.refs = new Map(Object.entries(readJson<Record<string, string>>(s.refsFile, {})));
    s.meta = readJson<Record<string, ImageMeta>>(s.metaFile, {});
    for (const name of readdirSync(s.blobs)) {
      // Half-written blobs from a crash (writeFileAtomic's temp names).
      if (name.includes('.tmp-')) {
        rmSync(`${s.blobs}/${name}`, { force: true });
        continue;
      }
      const id = `sha256:${name}`;
      try {
        const config = parseConfig(readFileSync(`${s.blobs}/${name}`));
        const missing = chainIds(config.rootfs.diff_ids).find((c) => !s.layerStore.meta(c));
        if (missing) log.warn({ image: id, layer: missing }, 'image skipped: a layer is missing');
        else s.configs.set(id, config);
      } catch (e) {
        log.warn({ image: id, err: e }, 'image skipped: unreadable config');
      }
    }
    // References to images that are not there and layers no image has: leftovers of a crash.
    const before = s.refs.size;
    for (const [ref, id] of s.refs) if (!s.visible(id)) s.refs.delete(ref);
    if (s.refs.size !== before) s.saveRefs();
    s.layerStore.remove(s.unusedChains(s.layerStore.chains()));
    return s;
  }

  // ---- reading ----

  list(): ImageRecord[] {
    return [...this.configs.keys()].filter((id) => this.visible(id)).map((id) => this.record(id));
  }

  /** A present image by full ID, with or without `sha256:`. */
  get(id: string): ImageRecord | undefined {
    const full = id.startsWith('sha256:') ? id : `sha256:${id}`;
    return this.visible(full) ? this.record(full) : undefined;
  }

  /**
   * Docker's image lookup: a full ID (with or without sha256:), a name[:tag] or name@digest
   * (normalised), else a unique ID prefix. Undefined when absent; an invalid reference throws
   * Docker's 400.
   */
  resolve(refOrId: string): ImageRecord | undefined {
    const id = asImageId(refOrId);
    if (id || isDigest(refOrId)) return id ? this.get(id) : undefined;
    const ref = parseReference(refOrId);
    const byRef = this.refs.get(storeKey(ref));
    if (byRef && this.visible(byRef)) return this.record(byRef);
    const prefix = refOrId.replace(/^sha256:/, '');
    if (!/^[a-f0-9]+$/.test(prefix)) return undefined;
    const matches = [...this.configs.keys()].filter((i) => this.visible(i) && hex(i).startsWith(prefix));
    return matches.length === 1 ? this.record(matches[0]) : undefined;
  }

  /** The image's layer directories, lowest first; also for an image deleted while a container uses it. */
  layerDirs(id: string): string[] {
    const config = this.configs.get(id.startsWith('sha256:') ? id : `sha256:${id}`);
    return config ? chainIds(config.rootfs.diff_ids).map((c) => this.layerStore.dir(c)) : [];
  }

  /** An image's config, also for one deleted while a container still uses it (commit needs it). */
  configOf(id: string): OciImageConfig | undefined {
    return this.configs.get(id.startsWith('sha256:') ? id : `sha256:${id}`);
  }

  /** The config blob exactly as stored (its sha256 is the image ID). */
  configBytes(id: string): Buffer {
    return readFileSync(`${this.blobs}/${hex(id)}`);
  }

  hasChain(chainId: string): boolean {
    return this.layerStore.meta(chainId) !== undefined;
  }

  /** Whether the builder made the image (it has a parent link, '' for a step on scratch). */
  isBuilt(id: string): boolean {
    return this.meta[id]?.parent !== undefined;
  }

  /** Present images built on `id` (the builder's parent links). */
  children(id: string): string[] {
    return Object.entries(this.meta)
      .filter(([child, m]) => m.parent === id && this.visible(child))
      .map(([child]) => child);
  }

  /** The kept blob of a layer (see layers.ts), for push and save. */
  layerSource(chainId: string): { path: string; source: LayerSource } | undefined {
    const path = this.layerStore.sourcePath(chainId);
    const source = this.layerStore.meta(chainId)?.source;
    return path && source ? { path, source } : undefined;
  }

  // ---- writing ----

  /**
   * One layer of an image being assembled (pull, commit), checked against `diffId` when given.
   * The chain stays pinned, safe from deletes, until `release`.
   */
  addLayer(input: Readable, parentChain: string, diffId?: string, kept?: KeptFile): Promise<{ created: boolean; chainId: string; diffId: string }> {
    return this.exclusive(async () => {
      const verify = diffId
        ? (actual: string): void => {
            if (actual !== diffId) throw new Error(`filesystem layer verification failed for digest ${diffId}: got ${actual}`);
          }
        : undefined;
      const { meta, created } = await this.layerStore.add(input, parentChain, verify, kept);
      this.pinned.set(meta.chainId, (this.pinned.get(meta.chainId) ?? 0) + 1);
      return { created, chainId: meta.chainId, diffId: meta.diffId };
    });
  }

  /**
   * `docker commit`: the diff as a new layer on the parent image's (none when `parentId` is ''),
   * the config `build` makes for its diffID, `refs` pointed at the result. An empty diff keeps no layer.
   */
  async commitDiff(parentId: string, diff: Readable, build: (diffId: string) => Buffer, refs: Reference[], opts: { recordParent?: boolean } = {}): Promise<string> {
    const parent = parentId ? this.configs.get(parentId) : undefined;
    if (parentId && !parent) throw notFound(`No such image: ${parentId}`);
    const parentChains = parent ? chainIds(parent.rootfs.diff_ids) : [];
    this.pin(parentChains);
    const pinned = [...parentChains];
    try {
      const layer = await this.addLayer(diff, parentChains[parentChains.length - 1] ?? '');
      pinned.push(layer.chainId);
      const { id } = await this.addImage(build(layer.diffId), refs, opts.recordParent ? parentId : undefined);
      this.log.info({ image: id }, 'image committed');
      return id;
    } finally {
      // Drops the new layer again when the image does not use it (an empty diff) or was not made.
      await this.release(pinned, true);
    }
  }

  /** A private scratch directory under the data root (same filesystem as the layers); the caller removes it. */
  makeTemp(prefix: string): string {
    return mkdtempSync(`${this.tmpRoot}/${prefix}-`);
  }

  /** Pins present chains (an image being assembled reuses them) until `release`. */
  pin(chains: string[]): void {
    for (const c of chains) this.pinned.set(c, (this.pinned.get(c) ?? 0) + 1);
  }

  /** Unpins chains from addLayer; with `drop` (a failed pull), those no image uses are removed. */
  release(chains: string[], drop: boolean): Promise<void> {
    return this.exclusive(async () => {
      for (const c of chains) {
        const n = (this.pinned.get(c) ?? 0) - 1;
        if (n > 0) this.pinned.set(c, n);
        else this.pinned.delete(c);
      }
      if (drop) this.layerStore.remove(this.unusedChains(chains));
    });
  }

  /**
   * Stores an assembled image whose layers are all present and points `refs` at it; `changed`
   * tells whether the image is new or the first of them pointed elsewhere (Docker's "Downloaded newer image").
   */
  addImage(configBytes: Buffer, refs: Reference[], parent?: string): Promise<{ id: string; changed: boolean }> {
    return this.exclusive(async () => {
      const config = parseConfig(configBytes);
      const missing = chainIds(config.rootfs.diff_ids).find((c) => !this.layerStore.meta(c));
      if (missing) throw new Error(`layer ${missing} of the image is missing`);
      const id = `sha256:${sha256(configBytes)}`;
      // As Docker's pull status: only the first (requested) reference counts, not the digest added beside a tag.
      const changed = !this.visible(id) || (refs.length > 0 && this.refs.get(storeKey(refs[0])) !== id);
      this.commit([{ bytes: configBytes, config, tags: refs }]);
      if (parent !== undefined && this.meta[id]?.parent === undefined) {
        this.meta[id] = { ...this.meta[id], parent };
        this.saveMeta();
      }
      return { id, changed };
    });
  }

  /**
   * `docker load`: every image of a docker-archive, layers checked against the configs' diffIDs.
   * Returns Docker's output lines; on any error nothing of the archive is kept.
   */
  load(tar: Readable, opts: { onProgress?: (p: Progress) => void } = {}): Promise<{ loaded: string[] }> {
    return this.exclusive(async () => {
      const dir = mkdtempSync(`${this.tmpRoot}/load-`);
      const created: string[] = [];
      try {
        const images = await readArchive(tar, dir);
        const uses = new Map<string, number>();
        for (const img of images) for (const l of img.layers) uses.set(l, (uses.get(l) ?? 0) + 1);
        for (const img of images) {
          const chains = chainIds(img.config.rootfs.diff_ids);
          for (const [i, diffId] of img.config.rootfs.diff_ids.entries()) {
            if (this.layerStore.meta(chains[i])) continue;
            const path = img.layers[i];
            const input = layerInput(path, opts.onProgress && ((p) => opts.onProgress?.({ ...p, id: hex(diffId).slice(0, 12) })));
            // A tar only this layer uses is moved in as its source rather than copied.
            const kept = uses.get(path) === 1 ? { path, size: statSync(path).size } : undefined;
            const added = await this.layerStore.add(
              input,
              i ? chains[i - 1] : '',
              (actual) => {
                if (actual !== diffId) throw new Error(`invalid diffID for layer ${i}: expected ${JSON.stringify(diffId)}, got ${JSON.stringify(actual)}`);
              },
              kept,
            );
            if (added.created) created.push(added.meta.chainId);
          }
        }
        return { loaded: this.commitLoad(images.map((i) => ({ bytes: i.configBytes, config: i.config, tags: i.repoTags }))) };
      } catch (e) {
        this.layerStore.remove(this.unusedChains(created));
        throw e;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  /** `docker import`: a filesystem tarball (plain or gzip) as a one-layer image; returns its ID. */
  async importTar(tar: Readable, opts: ImportOptions): Promise<string> {
    // Bad references and changes are refused before the body is read, as Docker does.
    const ref = opts.repo ? repoTagReference(opts.repo, opts.tag) : undefined;
    const config = applyChanges({}, opts.changes ?? []);
    return this.exclusive(async () => {
      const { meta, created } = await this.layerStore.add(tar, '');
      try {
        const bytes = importConfig(meta.diffId, config, opts.message || 'Imported from -', new Date());
        const [id] = this.commit([{ bytes, config: parseConfig(bytes), tags: ref ? [ref] : [] }]);
        if (ref) this.setTagTime(id);
        this.log.info({ image: id }, 'image imported');
        return id;
      } catch (e) {
        if (created) this.layerStore.remove(this.unusedChains([meta.chainId]));
        throw e;
      }
    });
  }

  /** Records `name@digest` for an image (after a push), as Docker's RepoDigests. */
  addDigestReference(id: string, ref: Reference): Promise<void> {
    return this.exclusive(async () => {
      if (!this.visible(id) || !ref.digest) return;
      this.refs.set(storeKey(ref), id);
      this.saveRefs();
    });
  }

  /** Points `newRef` (a tag; a bare name means latest) at the image; a tag taken from another image leaves that one dangling. */
  tag(idOrRef: string, newRef: string): void {
    const img = this.resolve(idOrRef);
    if (!img) throw notFound(`No such image: ${familiarName(idOrRef)}`);
    const ref = parseReference(newRef);
    if (ref.digest) throw new ApiError(400, 'refusing to create a tag with a digest reference');
    if (familiar({ ...ref, tag: undefined }) === 'sha256') throw new ApiError(400, 'refusing to create an ambiguous tag using digest algorithm as name');
    this.refs.set(storeKey(ref), img.id);
    this.saveRefs();
    this.setTagTime(img.id);
    this.log.info({ image: img.id, ref: storeKey(ref) }, 'image tagged');
  }

  /**
   * Docker's image delete: a name untags (deleting the image with its last reference), an ID
   * deletes. `usedBy` gives the containers (any state) created from an image, `running` the
   * running ones. Conflicts are Docker's 409s; an image deleted with force while a stopped
   * container uses it is hidden but kept for that container until `collect` finds it unused.
   */
  remove(refOrId: string, opts: RemoveOptions, usedBy: ImageUsers, running: ImageUsers = () => []): Promise<DeleteResponseItem[]> {
    return this.exclusive(async () => {
      this.collectNow(usedBy);
      const img = this.resolve(refOrId);
      if (!img) throw notFound(`No such image: ${familiarName(refOrId)}`);
      const id = img.id;
      const out: DeleteResponseItem[] = [];
      let refs = this.refsOf(id);
      let quiet = false;
      if (!isIdPrefix(id, refOrId)) {
        if (!opts.force && isSingleReference(refs) && usedBy(id).length > 0) {
          throw conflict(`conflict: unable to remove repository reference ${JSON.stringify(refOrId)} (must force) - container ${shortId(usedBy(id)[0])} is using its referenced image ${shortId(id)}`);
        }
        const parsed = tagNameOnly(parseReference(refOrId));
        this.refs.delete(storeKey(parsed));
        out.push({ Untagged: familiar(parsed) });
        refs = this.refsOf(id);
        // With the repository's last tag gone, its digest references go too.
        if (!parsed.digest && !refs.some((r) => !r.digest && repositoryName(r) === repositoryName(parsed))) {
          for (const r of refs.filter((x) => x.digest && repositoryName(x) === repositoryName(parsed))) {
            this.refs.delete(storeKey(r));
            out.push({ Untagged: familiar(r) });
          }
          refs = this.refsOf(id);
        }
        if (refs.length > 0) {
          this.saveRefs();
          return out;
        }
        quiet = true;
      } else if (isSingleReference(refs)) {
        const c = this.deleteConflict(id, { running: true, stopped: !opts.force, references: false }, usedBy, running);
        if (c) throw conflict(conflictMessage(id, c));
        for (const r of refs) {
          this.refs.delete(storeKey(r));
          out.push({ Untagged: familiar(r) });
        }
      }
      const c = this.deleteConflict(id, { running: true, stopped: !opts.force, references: !opts.force }, usedBy, running);
      if (c) {
        this.saveRefs();
        // After untagging by name, an image still in use or with images built on it simply stays.
        if (quiet && (this.refsOf(id).length > 0 || this.children(id).length > 0 || c.used)) return out;
        throw conflict(conflictMessage(id, c));
      }
      for (const r of this.refsOf(id)) {
        this.refs.delete(storeKey(r));
        out.push({ Untagged: familiar(r) });
      }
      this.saveRefs();
      out.push({ Deleted: id });
      let parent = this.meta[id]?.parent;
      if (usedBy(id).length > 0) {
        this.meta[id] = { retained: true, parent };
        this.saveMeta();
      } else {
        for (const chain of this.deleteImage(id)) out.push({ Deleted: chain });
      }
      this.log.info({ image: id }, 'image deleted');
      // As Docker: the untagged build steps under it go too, unless something else holds them.
      while (!opts.noprune && parent && this.visible(parent) && this.refsOf(parent).length === 0 && this.children(parent).length === 0 && usedBy(parent).length === 0) {
        const next = this.meta[parent]?.parent;
        out.push({ Deleted: parent });
        for (const chain of this.deleteImage(parent)) out.push({ Deleted: chain });
        parent = next;
      }
      return out;
    });
  }

  /**
   * `docker image prune`: images no container uses that `select` accepts (dangling ones only
   * unless `all`), each untagged and deleted; with the bytes of the layers that went.
   */
  async prune(all: boolean, select: (img: ImageRecord) => boolean, usedBy: ImageUsers): Promise<{ items: DeleteResponseItem[]; reclaimed: number }> {
    const items: DeleteResponseItem[] = [];
    let reclaimed = 0;
    const sizes = new Map(this.list().flatMap((i) => i.layers.map((l) => [l.chainId, l.size] as const)));
    // Images with children (build steps under another image) go with the last of them, as Docker's prune of heads.
    for (const img of this.list()) {
      if (usedBy(img.id).length > 0 || (!all && (img.repoTags.length > 0 || img.repoDigests.length > 0)) || this.children(img.id).length > 0 || !select(img)) continue;
      try {
        const out = await this.remove(img.id, { force: true, noprune: false }, usedBy);
        items.push(...out);
        for (const i of out) if ('Deleted' in i) reclaimed += sizes.get(i.Deleted) ?? 0;
      } catch (e) {
        // An image removed by a concurrent request meanwhile is simply not pruned.
        this.log.info({ image: img.id, err: e }, 'prune skipped an image');
      }
    }
    return { items, reclaimed };
  }

  /** Drops images deleted while in use once no container uses them; call after removing a container. */
  collect(usedBy: ImageUsers): Promise<void> {
    return this.exclusive(async () => this.collectNow(usedBy));
  }

  // ---- internals ----

  /** Writers one at a time: a load reusing a layer must not race a delete removing it. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private visible(id: string): boolean {
    return this.configs.has(id) && !this.meta[id]?.retained;
  }

  private record(id: string): ImageRecord {
    const config = this.configs.get(id) as OciImageConfig;
    const refs = this.refsOf(id);
    const layers = chainIds(config.rootfs.diff_ids).map((chainId, i) => ({
      diffId: config.rootfs.diff_ids[i],
      chainId,
      size: this.layerStore.meta(chainId)?.size ?? 0,
      dir: this.layerStore.dir(chainId),
    }));
    return {
      id,
      config,
      repoTags: refs.filter((r) => r.tag).map(familiar),
      repoDigests: refs.filter((r) => r.digest).map(familiar),
      size: layers.reduce((n, l) => n + l.size, 0),
      created: config.created ?? '',
      lastTagTime: this.meta[id]?.lastTagTime ?? '',
      parent: this.meta[id]?.parent ?? '',
      layers,
    };
  }

  /** The image's references, sorted by their full form as Docker's reference store sorts them. */
  private refsOf(id: string): Reference[] {
    return [...this.refs.entries()]
      .filter(([, v]) => v === id)
      .map(([k]) => k)
      .sort()
      .map((k) => parseReference(k));
  }

  private deleteConflict(id: string, check: { running: boolean; stopped: boolean; references: boolean }, usedBy: ImageUsers, running: ImageUsers): Conflict | undefined {
    const active = running(id);
    if (this.children(id).length > 0) return { hard: true, used: false, message: 'image has dependent child images' };
    if (check.running && active.length > 0) return { hard: true, used: true, message: `image is being used by running container ${shortId(active[0])}` };
    if (check.references && this.refsOf(id).length > 0) return { hard: false, used: false, message: 'image is referenced in multiple repositories' };
    const stopped = usedBy(id).filter((c) => !active.includes(c));
    if (check.stopped && stopped.length > 0) return { hard: false, used: true, message: `image is being used by stopped container ${shortId(stopped[0])}` };
    return undefined;
  }

  /** Removes the image's blob and the layers no other image has; returns those layers' chain IDs, top first. */
  private deleteImage(id: string): string[] {
    const config = this.configs.get(id) as OciImageConfig;
    this.configs.delete(id);
    if (this.meta[id]) {
      delete this.meta[id];
      this.saveMeta();
    }
    rmSync(`${this.blobs}/${hex(id)}`, { force: true });
    const gone = this.unusedChains(chainIds(config.rootfs.diff_ids).reverse());
    this.layerStore.remove(gone);
    return gone;
  }

  private collectNow(usedBy: ImageUsers): void {
    for (const [id, m] of Object.entries(this.meta)) {
      if (m.retained && usedBy(id).length === 0) this.deleteImage(id);
    }
  }

  /** Those of `chains` that no present image (retained ones included) has. */
  private unusedChains(chains: string[]): string[] {
    const used = new Set<string>(this.pinned.keys());
    for (const config of this.configs.values()) for (const c of chainIds(config.rootfs.diff_ids)) used.add(c);
    return chains.filter((c) => !used.has(c));
  }

  /**
   * Stores config blobs (their layers present) and points their tags at them. The journal lets
   * open() undo a commit that a crash interrupted before repositories.json was replaced.
   */
  private commit(images: Array<{ bytes: Buffer; config: OciImageConfig; tags: Reference[] }>): string[] {
    const ids = images.map((i) => `sha256:${sha256(i.bytes)}`);
    const refs = new Map(this.refs);
    images.forEach((img, i) => img.tags.forEach((t) => refs.set(storeKey(t), ids[i])));
    const created = [...new Set(ids.filter((id) => !this.configs.has(id)))];
    writeJsonAtomic(this.journalFile, { created, refs: Object.fromEntries(refs) } satisfies Journal);
    images.forEach((img, i) => {
      if (created.includes(ids[i])) writeFileAtomic(`${this.blobs}/${hex(ids[i])}`, img.bytes.toString('utf8'));
      this.configs.set(ids[i], img.config);
      // Loading an image again brings it back if it had been deleted while in use.
      if (this.meta[ids[i]]?.retained) delete this.meta[ids[i]];
    });
    this.refs = refs;
    this.saveRefs();
    this.saveMeta();
    rmSync(this.journalFile, { force: true });
    return ids;
  }

  /** commit() for `docker load`, with Docker's output lines (including its quirks). */
  private commitLoad(images: Array<{ bytes: Buffer; config: OciImageConfig; tags: Reference[] }>): string[] {
    const lines: string[] = [];
    const idLines: string[] = [];
    const refs = new Map(this.refs);
    let lastTagged = 0;
    for (const img of images) {
      const id = `sha256:${sha256(img.bytes)}`;
      idLines.push(`Loaded image ID: ${id}`);
      for (const t of img.tags) {
        const previous = refs.get(storeKey(t));
        if (previous && previous !== id) lines.push(`The image ${familiar(t)} already exists, renaming the old one with ID ${previous} to empty string`);
        refs.set(storeKey(t), id);
        lines.push(`Loaded image: ${familiar(t)}`);
      }
      lastTagged = img.tags.length;
    }
    this.commit(images);
    this.log.info({ images: images.length }, 'images loaded');
    // Docker lists the IDs only when the archive's last image had no tag.
    return lastTagged === 0 ? [...lines, ...idLines] : lines;
  }

  private setTagTime(id: string): void {
    this.meta[id] = { ...this.meta[id], lastTagTime: new Date().toISOString() };
    this.saveMeta();
  }

  private saveRefs(): void {
    writeJsonAtomic(this.refsFile, Object.fromEntries([...this.refs.entries()].sort(([a], [b]) => (a < b ? -1 : 1))));
  }

  private saveMeta(): void {
    writeJsonAtomic(this.metaFile, this.meta);
  }

  private rollBackInterruptedCommit(): void {
    const journal = readJson<Journal | null>(this.journalFile, null);
    if (!journal) return;
    if (!isDeepStrictEqual(readJson(this.refsFile, {}), journal.refs)) {
      for (const id of journal.created) rmSync(`${this.blobs}/${hex(id)}`, { force: true });
      this.log.warn({ images: journal.created }, 'rolled back an interrupted image commit');
    }
    rmSync(this.journalFile, { force: true });
  }
}

/** A layer tar from the unpacked archive, reporting "Loading layer" progress when asked. */
function layerInput(path: string, onProgress?: (p: Progress) => void): Readable {
  const file = createReadStream(path, { highWaterMark: CHUNK });
  return onProgress ? withProgress(file, statSync(path).size, '', 'Loading layer', onProgress) : file;
}

function readJson<T>(path: string, fallback: T): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw e;
  }
}

/** httputils.RepoTagReference: the repository and tag of an import or tag request. */
export function repoTagReference(repo: string, tag?: string): Reference {
  const ref = parseReference(repo);
  if (ref.digest) throw new ApiError(400, 'cannot import digest reference');
  return tag ? withTag(ref, tag) : tagNameOnly(ref);
}

/** Whether `s` names the image by (a prefix of) its ID rather than by a reference. */
function isIdPrefix(id: string, s: string): boolean {
  return id.startsWith(s) || hex(id).startsWith(s);
}

/** All references in one repository, with at most one tag. */
function isSingleReference(refs: Reference[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  const tags = refs.filter((r) => !r.digest);
  if (tags.length > 1) return false;
  const digestRepos = new Set(refs.filter((r) => r.digest).map(repositoryName));
  const single = tags[0] ?? refs[0];
  return digestRepos.size === 1 && digestRepos.has(repositoryName(single));
}

function conflictMessage(id: string, c: Conflict): string {
  return `conflict: unable to delete ${shortId(id)} (${c.hard ? 'cannot be forced' : 'must be forced'}) - ${c.message}`;
}
