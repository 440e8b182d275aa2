// The local image store: config blobs by digest, layers extracted once by chain ID and shared,
// references (normalised `name:tag`) pointing at image IDs. Every change lands atomically.
import { createHash, randomBytes } from 'crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'fs';
import type { Readable } from 'stream';
import type { Logger } from 'pino';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic';
import { shortId } from '../util/ids';
import { conflict, notFound } from '../server/errors';
import { extractLayer } from './extract';
import { familiar, normalized, parseReference } from './reference';

/** The OCI image config (the parts berth reads); the blob is kept byte for byte as received. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  created?: string;
  author?: string;
  comment?: string;
  docker_version?: string;
  config?: {
    User?: string;
    ExposedPorts?: Record<string, object> | null;
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Volumes?: Record<string, object> | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    StopSignal?: string;
    OnBuild?: string[] | null;
  };
  rootfs: { type: string; diff_ids: string[] };
  history?: Array<{ created?: string; created_by?: string; comment?: string; empty_layer?: boolean; author?: string }>;
}

export interface ImageRecord {
  id: string;
  config: ImageConfig;
  /** Familiar `name:tag` forms, sorted. */
  repoTags: string[];
  repoDigests: string[];
  /** Sum of the layers' content. */
  size: number;
  created: string;
  lastTagTime: string;
}

interface LayerMeta {
  diffId: string;
  chainId: string;
  parent: string;
  size: number;
}

interface RefsFile {
  refs: Record<string, string>;
  tagTimes: Record<string, string>;
}

export type DeleteLine = { Untagged: string } | { Deleted: string };

/** OCI chain IDs: a base layer's is its diffID, each next one sha256("<parent chain> <diffID>"). */
export function chainOf(parentChain: string, diffId: string): string {
  return parentChain ? `sha256:${createHash('sha256').update(`${parentChain} ${diffId}`).digest('hex')}` : diffId;
}

export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(chainOf(out[out.length - 1] ?? '', d));
  return out;
}

const hex = (digest: string): string => digest.replace(/^sha256:/, '');

export class ImageStore {
  private readonly blobs: string;
  private readonly layers: string;
  private readonly refsFile: string;
  /** Scratch space for archives being read; emptied at open. */
  readonly tmpRoot: string;
  private refs: RefsFile = { refs: {}, tagTimes: {} };
  private readonly images = new Map<string, ImageRecord>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    dataRoot: string,
    private readonly log: Logger,
  ) {
    this.blobs = `${dataRoot}/image/blobs/sha256`;
    this.layers = `${dataRoot}/layers`;
    this.refsFile = `${dataRoot}/image/repositories.json`;
    this.tmpRoot = `${dataRoot}/image/tmp`;
  }

  static async open(dataRoot: string, log: Logger): Promise<ImageStore> {
    const s = new ImageStore(dataRoot, log);
    mkdirSync(s.blobs, { recursive: true });
    mkdirSync(s.layers, { recursive: true });
    rmSync(s.tmpRoot, { recursive: true, force: true });
    mkdirSync(s.tmpRoot, { recursive: true });
    // Half-made layers from an interrupted load or import.
    for (const name of readdirSync(s.layers)) if (name.startsWith('tmp-')) rmSync(`${s.layers}/${name}`, { recursive: true, force: true });
    if (existsSync(s.refsFile)) s.refs = JSON.parse(readFileSync(s.refsFile, 'utf8')) as RefsFile;
    for (const name of readdirSync(s.blobs)) {
      if (name.includes('.tmp-')) continue;
      const config = JSON.parse(readFileSync(`${s.blobs}/${name}`, 'utf8')) as ImageConfig;
      if (config.rootfs?.diff_ids) s.index(`sha256:${name}`, config);
    }
    return s;
  }

  private index(id: string, config: ImageConfig): void {
    const size = chainIds(config.rootfs.diff_ids).reduce((n, c) => n + (this.layerMeta(c)?.size ?? 0), 0);
    const created = config.created ?? new Date(0).toISOString();
    this.images.set(id, { id, config, repoTags: [], repoDigests: [], size, created, lastTagTime: '' });
    this.refreshTags();
  }

  private refreshTags(): void {
    for (const img of this.images.values()) {
      img.repoTags = [];
      img.repoDigests = [];
    }
    for (const [ref, id] of Object.entries(this.refs.refs)) {
      const img = this.images.get(id);
      if (!img) continue;
      const r = parseReference(ref);
      if (r.digest) img.repoDigests.push(familiar(r));
      else img.repoTags.push(familiar(r));
      img.lastTagTime = this.refs.tagTimes[ref] ?? img.lastTagTime;
    }
    for (const img of this.images.values()) img.repoTags.sort();
  }

  private saveRefs(): void {
    writeJsonAtomic(this.refsFile, this.refs);
    this.refreshTags();
  }

  private layerMeta(chainId: string): LayerMeta | undefined {
    const f = `${this.layers}/${hex(chainId)}/meta.json`;
    return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as LayerMeta) : undefined;
  }

  /** Runs writers one at a time: a failed load prunes unused layers, which must not race another load. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  list(): ImageRecord[] {
    return [...this.images.values()];
  }

  get(id: string): ImageRecord | undefined {
    return this.images.get(id.startsWith('sha256:') ? id : `sha256:${id}`);
  }

  /** Full ID (with or without sha256:), a reference, or a unique ID prefix; undefined when absent. */
  resolve(refOrId: string): ImageRecord | undefined {
    const byId = this.get(refOrId);
    if (byId) return byId;
    if (/^[0-9a-f]{64}$/.test(refOrId)) return undefined;
    let ref: string | undefined;
    try {
      ref = normalized(parseReference(refOrId));
    } catch (e) {
      if (!/^(sha256:)?[0-9a-f]+$/.test(refOrId)) throw e;
    }
    if (ref && this.refs.refs[ref]) return this.images.get(this.refs.refs[ref]);
    const prefix = refOrId.replace(/^sha256:/, '');
    if (/^[0-9a-f]+$/.test(prefix)) {
      const matches = this.list().filter((i) => hex(i.id).startsWith(prefix));
      if (matches.length === 1) return matches[0];
    }
    return undefined;
  }

  /** Absolute `diff` directories of the image's layers, lowest first. */
  layerDirs(id: string): string[] {
    const img = this.get(id);
    if (!img) return [];
    return chainIds(img.config.rootfs.diff_ids).map((c) => `${this.layers}/${hex(c)}/diff`);
  }

  /**
   * Extracts a layer tar unless its chain is already present; verifies the diffID when one is
   * expected. Returns the layer's chain ID and whether this call created it.
   */
  async addLayer(tar: Readable, parentChain: string, expectedDiffId?: string): Promise<{ chainId: string; diffId: string; created: boolean }> {
    if (expectedDiffId) {
      const chainId = chainOf(parentChain, expectedDiffId);
      if (this.layerMeta(chainId)) {
        tar.resume();
        return { chainId, diffId: expectedDiffId, created: false };
      }
    }
    const tmp = `${this.layers}/tmp-${randomBytes(6).toString('hex')}`;
    mkdirSync(`${tmp}/diff`, { recursive: true });
    try {
      const { diffId, size } = await extractLayer(tar, `${tmp}/diff`);
      if (expectedDiffId && diffId !== expectedDiffId) {
        throw Object.assign(new Error(`layer digest mismatch: expected ${expectedDiffId}, got ${diffId}`), { statusCode: 400 });
      }
      const chainId = chainOf(parentChain, diffId);
      const dest = `${this.layers}/${hex(chainId)}`;
      if (existsSync(dest)) {
        rmSync(tmp, { recursive: true, force: true });
        return { chainId, diffId, created: false };
      }
      writeJsonAtomic(`${tmp}/meta.json`, { diffId, chainId, parent: parentChain, size } satisfies LayerMeta);
      renameSync(tmp, dest);
      return { chainId, diffId, created: true };
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /** Stores a config blob (its layers must be present) and returns the image ID. */
  addImage(configBytes: Buffer): string {
    const id = `sha256:${createHash('sha256').update(configBytes).digest('hex')}`;
    const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    for (const c of chainIds(config.rootfs.diff_ids)) {
      if (!this.layerMeta(c)) throw new Error(`layer ${c} of image ${id} is missing`);
    }
    const file = `${this.blobs}/${hex(id)}`;
    if (!existsSync(file)) writeFileAtomic(file, configBytes.toString('utf8'));
    this.index(id, config);
    return id;
  }

  /** Points a reference at an image; a tag that pointed elsewhere leaves that image dangling. */
  tag(id: string, ref: string): void {
    const key = normalized(parseReference(ref));
    this.refs.refs[key] = id;
    this.refs.tagTimes[key] = new Date().toISOString();
    this.saveRefs();
    this.log.info({ image: id, ref: key }, 'image tagged');
  }

  /** Removes layers no image uses any more (a chain is used by every image that contains it). */
  removeUnusedLayers(): string[] {
    const used = new Set<string>();
    for (const img of this.images.values()) for (const c of chainIds(img.config.rootfs.diff_ids)) used.add(hex(c));
    const removed: string[] = [];
    for (const name of readdirSync(this.layers)) {
      if (name.startsWith('tmp-') || used.has(name)) continue;
      rmSync(`${this.layers}/${name}`, { recursive: true, force: true });
      removed.push(`sha256:${name}`);
    }
    return removed;
  }

  /** Docker's image delete: untag by name, delete by ID, conflicts with containers as Docker reports them. */
  remove(refOrId: string, opts: { force: boolean; noprune: boolean }, users: { all: (id: string) => string[]; running: (id: string) => string[] }): DeleteLine[] {
    const img = this.resolve(refOrId);
    if (!img) throw notFound(`No such image: ${refOrId}`);
    const short = shortId(img.id);
    const byName = !this.isIdRef(refOrId, img);
    const lines: DeleteLine[] = [];
    const running = users.running(img.id);
    const all = users.all(img.id);
    if (byName) {
      const key = normalized(parseReference(refOrId));
      const tagsLeft = Object.entries(this.refs.refs).filter(([k, v]) => v === img.id && k !== key && !parseReference(k).digest).length;
      if (tagsLeft === 0 && all.length > 0 && !opts.force) {
        throw conflict(`conflict: unable to remove repository reference "${refOrId}" (must force) - container ${shortId(all[0])} is using its referenced image ${short}`);
      }
      delete this.refs.refs[key];
      delete this.refs.tagTimes[key];
      lines.push({ Untagged: familiar(parseReference(key)) });
      const remaining = Object.values(this.refs.refs).filter((v) => v === img.id).length;
      if (remaining > 0 || all.length > 0) {
        this.saveRefs();
        return lines;
      }
    } else {
      if (running.length > 0) throw conflict(`conflict: unable to delete ${short} (cannot be forced) - image is being used by running container ${shortId(running[0])}`);
      const tags = Object.keys(this.refs.refs).filter((k) => this.refs.refs[k] === img.id);
      if (tags.filter((k) => !parseReference(k).digest).length > 1 && !opts.force) {
        throw conflict(`conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
      }
      if (all.length > 0 && !opts.force) throw conflict(`conflict: unable to delete ${short} (must be forced) - image is being used by stopped container ${shortId(all[0])}`);
      for (const k of tags) {
        delete this.refs.refs[k];
        delete this.refs.tagTimes[k];
        lines.push({ Untagged: familiar(parseReference(k)) });
      }
      if (all.length > 0) {
        this.saveRefs();
        return lines;
      }
    }
    this.saveRefs();
    this.images.delete(img.id);
    rmSync(`${this.blobs}/${hex(img.id)}`, { force: true });
    lines.push({ Deleted: img.id });
    if (!opts.noprune) for (const l of this.removeUnusedLayers()) lines.push({ Deleted: l });
    this.log.info({ image: img.id }, 'image deleted');
    return lines;
  }

  private isIdRef(ref: string, img: ImageRecord): boolean {
    const h = ref.replace(/^sha256:/, '');
    return /^[0-9a-f]+$/.test(h) && hex(img.id).startsWith(h) && !this.refs.refs[safeNormalized(ref)];
  }

}

function safeNormalized(ref: string): string {
  try {
    return normalized(parseReference(ref));
  } catch {
    return '';
  }
}
