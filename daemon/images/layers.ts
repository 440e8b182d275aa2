// Extracted layers, one directory per chain ID, shared by every image that has the chain.
// A layer appears by renaming a finished temp dir and disappears by renaming into one, so a
// crash never leaves a half-made or half-removed layer under its real name.
import { randomBytes } from 'crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'fs';
import type { Readable } from 'stream';
import { writeJsonAtomic } from '../util/atomic';
import { chainOf } from './config';
import { extractLayer } from './extract';

export interface LayerMeta {
  diffId: string;
  chainId: string;
  /** The parent's chain ID, '' for a base layer. */
  parent: string;
  /** Bytes of file content in this layer alone. */
  size: number;
}

const hex = (digest: string): string => digest.replace(/^sha256:/, '');

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

  chains(): string[] {
    return [...this.metas.keys()];
  }

  /**
   * Extracts a layer tar on top of `parentChain`; `verify` may refuse its diffID before it becomes
   * visible. An already present chain is kept and the new copy dropped.
   */
  async add(input: Readable, parentChain: string, verify?: (diffId: string) => void): Promise<{ meta: LayerMeta; created: boolean }> {
    const tmp = `${this.root}/tmp-${randomBytes(8).toString('hex')}`;
    mkdirSync(`${tmp}/diff`, { recursive: true });
    try {
      const { diffId, size } = await extractLayer(input, `${tmp}/diff`);
      verify?.(diffId);
      const chainId = chainOf(parentChain, diffId);
      const existing = this.metas.get(chainId);
      if (existing) {
        rmSync(tmp, { recursive: true, force: true });
        return { meta: existing, created: false };
      }
      const meta: LayerMeta = { diffId, chainId, parent: parentChain, size };
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
