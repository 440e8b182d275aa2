// `docker save`: a docker-archive (manifest.json, repositories) that is at the same time an OCI
// image layout (oci-layout, index.json, blobs/sha256/...), as Docker 25 and later write it.
// Layers go in uncompressed, byte for byte the tars whose sha256 are the config's diffIDs.
import { createHash } from 'crypto';
import { createReadStream, createWriteStream, statSync } from 'fs';
import { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import { createGunzip } from 'zlib';
import * as tar from 'tar-stream';
import { chainIds } from './config';
import { CHUNK } from './extract';
import { type Reference, familiar, familiarRepository, referenceString } from './reference';
import type { ImageRecord, ImageStore } from './store';

export interface SaveItem {
  image: ImageRecord;
  /** Tagged references to record (none for an image named by ID). */
  tags: Reference[];
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
const EPOCH = new Date(0);
const hex = (d: string): string => d.replace(/^sha256:/, '');
const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Every layer's uncompressed tar on disk (a gzip source decompressed into `tmp`); fails before anything is sent. */
export async function prepareLayers(store: ImageStore, items: SaveItem[], tmp: string): Promise<Map<string, { path: string; size: number }>> {
  const out = new Map<string, { path: string; size: number }>();
  for (const { image } of items) {
    const chains = chainIds(image.config.rootfs.diff_ids);
    for (const [i, diffId] of image.config.rootfs.diff_ids.entries()) {
      if (out.has(diffId)) continue;
      const src = store.layerSource(chains[i]);
      if (!src) throw new Error(`layer ${diffId} has no stored content to save (it was stored by an older berth); pull or load the image again`);
      if (!src.source.gzip) {
        out.set(diffId, { path: src.path, size: src.source.size });
        continue;
      }
      const path = `${tmp}/${hex(diffId)}`;
      await pipeline(createReadStream(src.path, { highWaterMark: CHUNK }), createGunzip({ chunkSize: CHUNK }), createWriteStream(path));
      out.set(diffId, { path, size: statSync(path).size });
    }
  }
  return out;
}

export function saveArchive(store: ImageStore, items: SaveItem[], layers: Map<string, { path: string; size: number }>): Readable {
  const pack = tar.pack();
  const add = (name: string, body: Buffer | { path: string; size: number } | null): Promise<void> =>
    new Promise((resolve, reject) => {
      const dir = body === null;
      const size = dir ? 0 : Buffer.isBuffer(body) ? body.length : body.size;
      const header = { name, type: dir ? 'directory' : 'file', size, mode: dir ? 0o755 : 0o644, mtime: EPOCH, uid: 0, gid: 0 } as tar.Header;
      const entry = pack.entry(header, (err) => (err ? reject(err) : resolve()));
      if (dir) entry.end(undefined as unknown as Buffer);
      else if (Buffer.isBuffer(body)) entry.end(body);
      else createReadStream(body.path).on('error', (e) => entry.destroy(e)).pipe(entry);
    });

  const write = async (): Promise<void> => {
    const written = new Set<string>();
    const blob = async (digest: string, body: Buffer | { path: string; size: number }): Promise<string> => {
      const name = `blobs/sha256/${hex(digest)}`;
      if (!written.has(name)) await add(name, body);
      written.add(name);
      return name;
    };
    await add('blobs/', null);
    await add('blobs/sha256/', null);
    const manifestJson: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
    const index: Array<Record<string, unknown>> = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const { image, tags } of items) {
      const layerNames: string[] = [];
      const descriptors: Array<Record<string, unknown>> = [];
      for (const diffId of image.config.rootfs.diff_ids) {
        const l = layers.get(diffId) as { path: string; size: number };
        layerNames.push(await blob(diffId, l));
        descriptors.push({ mediaType: OCI_LAYER, digest: diffId, size: l.size });
      }
      const config = store.configBytes(image.id);
      const configName = await blob(image.id, config);
      const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: image.id, size: config.length }, layers: descriptors }));
      const manifestDigest = sha256(manifest);
      await blob(manifestDigest, manifest);
      const desc = { mediaType: OCI_MANIFEST, digest: manifestDigest, size: manifest.length };
      if (tags.length === 0) index.push(desc);
      for (const t of tags) {
        index.push({ ...desc, annotations: { 'io.containerd.image.name': referenceString(t), 'org.opencontainers.image.ref.name': t.tag ?? '' } });
        const top = image.config.rootfs.diff_ids[image.config.rootfs.diff_ids.length - 1];
        if (top) (repositories[familiarRepository(t)] ??= {})[t.tag ?? 'latest'] = hex(top);
      }
      manifestJson.push({ Config: configName, RepoTags: tags.length ? tags.map(familiar) : null, Layers: layerNames });
    }
    await add('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: index })));
    await add('manifest.json', Buffer.from(JSON.stringify(manifestJson)));
    await add('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
    if (Object.keys(repositories).length) await add('repositories', Buffer.from(JSON.stringify(repositories)));
  };
  write().then(
    () => pack.finalize(),
    (e: Error) => pack.destroy(e),
  );
  return pack as unknown as Readable;
}
