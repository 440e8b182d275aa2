// `docker load`: a docker-archive (manifest.json, config JSON, one tar per layer) into the store.
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, createWriteStream, existsSync } from 'fs';
import { posix } from 'path';
import type { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import * as tar from 'tar-stream';
import { badRequest } from '../server/errors';
import { safeRelative } from './extract';
import { familiar, parseReference } from './reference';
import type { ImageConfig, ImageStore } from './store';

interface ManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

/** Unpacks the archive's own entries (not the layers) into `dir`; symlinks are kept as a map, never created. */
async function unpack(input: Readable, dir: string): Promise<Map<string, string>> {
  const links = new Map<string, string>();
  const extract = tar.extract();
  const consume = (async () => {
    for await (const entry of extract) {
      const h = entry.header;
      const rel = safeRelative(h.name, 'archive entry');
      if (h.type === 'symlink' || h.type === 'link') {
        links.set(rel, h.type === 'symlink' ? posix.join(posix.dirname(rel), h.linkname ?? '') : (h.linkname ?? ''));
        entry.resume();
      } else if (h.type === 'file' && rel) {
        mkdirSync(`${dir}/${posix.dirname(rel)}`, { recursive: true });
        await pipeline(entry, createWriteStream(`${dir}/${rel}`));
      } else entry.resume();
    }
  })();
  try {
    await Promise.all([pipeline(input, extract), consume]);
  } catch (e) {
    extract.destroy();
    throw badRequest(`invalid archive: ${(e as Error).message}`);
  }
  return links;
}

/** The path of an archive member, following the archive's own links inside the archive only. */
function member(dir: string, links: Map<string, string>, name: string): string {
  let rel = safeRelative(name, 'archive entry');
  for (let hops = 0; links.has(rel); hops++) {
    if (hops > 16) throw badRequest(`invalid archive: too many links at ${name}`);
    rel = safeRelative(links.get(rel) as string, 'archive link');
  }
  const path = `${dir}/${rel}`;
  if (!existsSync(path)) throw badRequest(`invalid archive: ${name} is missing`);
  return path;
}

/** Loads every image of the archive; returns Docker's "Loaded image: ..." lines. */
export async function loadArchive(store: ImageStore, input: Readable): Promise<string[]> {
  const dir = mkdtempSync(`${store.tmpRoot}/load-`);
  try {
    const links = await unpack(input, dir);
    let manifest: ManifestEntry[];
    try {
      manifest = JSON.parse(readFileSync(member(dir, links, 'manifest.json'), 'utf8')) as ManifestEntry[];
    } catch (e) {
      throw badRequest(`invalid archive: no valid manifest.json (${(e as Error).message})`);
    }
    if (!Array.isArray(manifest)) throw badRequest('invalid archive: manifest.json is not a list');
    const lines: string[] = [];
    try {
      for (const m of manifest) {
        const configBytes = readFileSync(member(dir, links, m.Config));
        const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
        const diffIds = config.rootfs?.diff_ids ?? [];
        if (diffIds.length !== m.Layers.length) throw badRequest(`invalid archive: ${m.Config} lists ${diffIds.length} layers, the manifest ${m.Layers.length}`);
        let parent = '';
        for (const [i, layer] of m.Layers.entries()) {
          const added = await store.addLayer(createReadStream(member(dir, links, layer)), parent, diffIds[i]);
          parent = added.chainId;
        }
        const id = store.addImage(configBytes);
        const tags = m.RepoTags ?? [];
        for (const t of tags) {
          store.tag(id, t);
          lines.push(`Loaded image: ${familiar(parseReference(t))}`);
        }
        if (tags.length === 0) lines.push(`Loaded image ID: ${id}`);
      }
    } catch (e) {
      // Layers this load extracted for an image that never arrived would otherwise linger.
      store.removeUnusedLayers();
      throw e;
    }
    return lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
