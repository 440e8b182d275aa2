// Extracted layers, one directory per chain ID, shared by every image that has the chain.
// A layer appears by renaming a finished temp dir and disappears by renaming into one, so a
// crash never leaves a half-made or half-removed layer under its real name.
//   layers/<chain hex>/diff       the extracted filesystem (overlayfs whiteouts)
//   layers/<chain hex>/source     the layer blob as received (gzip from a registry, a plain tar
//                                 from an archive or commit), kept so push and save send the
//                                 exact bytes whose digests the image's config and manifests name
//   layers/<chain hex>/meta.json  LayerMeta
import { createHash, randomBytes } from 'crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'fs';
import { type Readable, Transform } from 'stream';
import { writeJsonAtomic } from '../util/atomic';
import { chainOf } from './config';
import { extractLayer } from './extract';

export interface LayerSource {
  /** sha256:<hex> of the source file's bytes (the diffID when it is not compressed). */
  digest: string;
  size: number;
  gzip: boolean;
}

export interface LayerMeta {
  diffId: string;
  chainId: string;
  /** The parent's chain ID, '' for a base layer. */
  parent: string;
  /** Bytes of file content in this layer alone. */
  size: number;
  /** Absent for layers stored before sources were kept. */
  source?: LayerSource;
}

/** A file holding exactly the bytes of the input, moved in as the source instead of copying the stream. */
export interface KeptFile {
  path: string;
  /** Its sha256 digest when already known (a verified registry blob). */
  digest?: string;
  size: number;
}

const hex = (digest: string): string => digest.replace(/^sha256:/, '');

/** Passes the stream through while writing it to `path` and hashing it. */
function tee(path: string): { stream: Transform; done: () => Promise<{ digest: string; size: number }> } {
  const hash = createHash('sha256');
  const out = createWriteStream(path, { flags: 'wx' });
  let size = 0;
  let flushed = false;
  const closed = new Promise<void>((resolve, reject) => {
    out.on('close', resolve);
    out.on('error', reject);
  });
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      if (out.write(chunk)) cb(null, chunk);
      else out.once('drain', () => cb(null, chunk));
    },
    flush(cb) {
      flushed = true;
      out.end();
      cb();
    },
  });
  // Extraction that gives up early destroys the stream: the file is abandoned with it.
  stream.on('close', () => {
    if (!flushed) out.destroy();
  });
  return { stream, done: async () => (await closed, { digest: `sha256:${hash.digest('hex')}`, size }) };
}

export class LayerStore {
  private readonly metas = new Map<string, LayerMeta>();

  constructor(private readonly root: string) {}

  /** Loads what is there after removing what an interrupted extraction or removal left. */
  open(): void {
    mkdirSync(this.root, { recursive: true });
    for (const name of readdirSync(this.root)) {
      if (name.startsWith('tmp-')) rmSync(`${this.root}/${name}`, { recursive: true, force: true });
      else if (existsSync(`${this.root}/${name}/meta.json`)) {
        const meta = JSON.parse(readFileSync(`${this.root}/${name}/meta.json`, 'utf8')) as LayerMeta;
        this.metas.set(meta.chainId, meta);
      }
    }
  }

  meta(chainId: string): LayerMeta | undefined {
    return this.metas.get(chainId);
  }

  /** The layer's extracted filesystem. */
  dir(chainId: string): string {
    return `${this.root}/${hex(chainId)}/diff`;
  }

  /** The layer blob as received, when kept. */
  sourcePath(chainId: string): string | undefined {
    return this.metas.get(chainId)?.source ? `${this.root}/${hex(chainId)}/source` : undefined;
  }

  chains(): string[] {
    return [...this.metas.keys()];
  }

  /**
   * Extracts a layer tar (plain or gzip) on top of `parentChain`; `verify` may refuse its diffID
   * before it becomes visible. An already present chain is kept and the new copy dropped.
   */
  async add(input: Readable, parentChain: string, verify?: (diffId: string) => void, kept?: KeptFile): Promise<{ meta: LayerMeta; created: boolean }> {
    const tmp = `${this.root}/tmp-${randomBytes(8).toString('hex')}`;
    mkdirSync(`${tmp}/diff`, { recursive: true });
    try {
      const copy = kept ? undefined : tee(`${tmp}/source`);
      if (copy) input.on('error', (e) => copy.stream.destroy(e));
      const { diffId, size, gzip } = await extractLayer(copy ? input.pipe(copy.stream) : input, `${tmp}/diff`);
      verify?.(diffId);
      const chainId = chainOf(parentChain, diffId);
      const existing = this.metas.get(chainId);
      if (existing) {
        rmSync(tmp, { recursive: true, force: true });
        return { meta: existing, created: false };
      }
      let source: LayerSource;
      if (copy) source = { ...(await copy.done()), gzip };
      else {
        const k = kept as KeptFile;
        renameSync(k.path, `${tmp}/source`);
        source = { digest: k.digest ?? (gzip ? await fileDigest(`${tmp}/source`) : diffId), size: k.size, gzip };
      }
      const meta: LayerMeta = { diffId, chainId, parent: parentChain, size, source };
      writeJsonAtomic(`${tmp}/meta.json`, meta);
      renameSync(tmp, `${this.root}/${hex(chainId)}`);
      this.metas.set(chainId, meta);
      return { meta, created: true };
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /** Removes the layers, each first renamed out of sight. */
  remove(chainIds: string[]): void {
    for (const chainId of chainIds) {
      if (!this.metas.delete(chainId)) continue;
      const doomed = `${this.root}/tmp-rm-${randomBytes(8).toString('hex')}`;
      renameSync(`${this.root}/${hex(chainId)}`, doomed);
      rmSync(doomed, { recursive: true, force: true });
    }
  }
}

async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}
