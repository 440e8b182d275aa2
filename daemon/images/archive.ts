// Reading a docker-archive (what `docker save` writes): manifest.json naming each image's config
// and layer tars, at `<id>/layer.tar` (Docker 24) or `blobs/sha256/<hex>` (Docker 25 and later).
// Everything is checked before the store is touched, so a bad archive changes nothing.
import { createWriteStream, mkdirSync, readFileSync } from 'fs';
import { posix } from 'path';
import type { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import * as tar from 'tar-stream';
import { type OciImageConfig, parseConfig } from './config';
import { safeRelative } from './extract';
import { type Reference, parseReference } from './reference';

export interface ArchiveImage {
  configBytes: Buffer;
  config: OciImageConfig;
  /** The manifest's RepoTags, parsed; each has a tag. */
  repoTags: Reference[];
  /** Host paths of the layer tars, lowest first, one per diffID. */
  layers: string[];
}

interface ManifestItem {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

/** Unpacks the archive's members into `dir`; its links are returned as a map and never created. */
async function unpack(input: Readable, dir: string): Promise<Map<string, string>> {
  const links = new Map<string, string>();
  const extract = tar.extract();
  const consume = (async () => {
    try {
      for await (const entry of extract) {
        const h = entry.header;
        const rel = safeRelative(h.name);
        if (h.type === 'symlink') {
          const target = h.linkname ?? '';
          // Links resolve inside the archive, an absolute target from its top.
          links.set(rel, target.startsWith('/') ? target.slice(1) : posix.join(posix.dirname(rel), target));
        } else if (h.type === 'link') {
          links.set(rel, h.linkname ?? '');
        } else if ((h.type === 'file' || h.type === 'contiguous-file') && rel) {
          mkdirSync(`${dir}/${posix.dirname(rel)}`, { recursive: true });
          await pipeline(entry, createWriteStream(`${dir}/${rel}`, { flags: 'wx' }));
        }
        entry.resume();
      }
    } catch (e) {
      extract.destroy(e as Error);
      throw e;
    }
  })();
  await Promise.all([pipeline(input, extract), consume]);
  return links;
}

/** The host path of an archive member, following the archive's own links (never out of it). */
function member(dir: string, links: Map<string, string>, name: string): string {
  let rel = safeRelative(name);
  for (let hops = 0; links.has(rel); hops++) {
    if (hops > 16) throw new Error(`invalid archive: too many levels of links at ${name}`);
    rel = safeRelative(links.get(rel) as string);
  }
  return `${dir}/${rel}`;
}

function readMember(dir: string, links: Map<string, string>, name: string): Buffer {
  try {
    return readFileSync(member(dir, links, name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EISDIR') throw new Error(`open ${name}: no such file in the archive`);
    throw e;
  }
}

/** Unpacks the archive into `dir` (the caller removes it) and reads its manifest, with Docker's messages. */
export async function readArchive(input: Readable, dir: string): Promise<ArchiveImage[]> {
  const links = await unpack(input, dir);
  let manifestBytes: Buffer;
  try {
    manifestBytes = readMember(dir, links, 'manifest.json');
  } catch {
    throw new Error('invalid archive: no manifest.json (archives in the pre-1.10 legacy format cannot be loaded)');
  }
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as ManifestItem[] | null;
  if (manifest === null) throw new Error('invalid manifest, manifest cannot be null (but can be [])');
  if (!Array.isArray(manifest)) throw new Error('invalid manifest: not a list');
  return manifest.map((m) => {
    const configBytes = readMember(dir, links, String(m.Config));
    const config = parseConfig(configBytes);
    const os = config.os || 'linux';
    if (os !== 'linux') throw new Error(`cannot load ${os} image on linux`);
    const layerNames = Array.isArray(m.Layers) ? m.Layers : [];
    if (layerNames.length !== config.rootfs.diff_ids.length) {
      throw new Error(`invalid manifest, layers length mismatch: expected ${layerNames.length}, got ${config.rootfs.diff_ids.length}`);
    }
    const repoTags = (m.RepoTags ?? []).map((t) => {
      const ref = parseReference(t);
      if (!ref.tag || ref.digest) throw new Error(`invalid tag ${JSON.stringify(t)}`);
      return ref;
    });
    return { configBytes, config, repoTags, layers: layerNames.map((l) => member(dir, links, l)) };
  });
}
