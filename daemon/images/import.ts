// `docker import`: a filesystem tarball becomes a one-layer image, with optional config changes.
import type { Readable } from 'stream';
import { applyChanges } from './changes';
import type { ImageConfig, ImageStore } from './store';

export interface ImportOptions {
  repo?: string;
  tag?: string;
  changes: string[];
  message?: string;
  /** Shown in the history comment: "-" for a request body, else the URL. */
  source: string;
}

export async function importTar(store: ImageStore, input: Readable, opts: ImportOptions): Promise<string> {
  const config0 = applyChanges({}, opts.changes);
  const { diffId } = await store.addLayer(input, '');
  const created = new Date().toISOString();
  const config: ImageConfig = {
    architecture: 'amd64',
    config: config0,
    created,
    history: [{ created, comment: opts.message || `Imported from ${opts.source}` }],
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [diffId] },
  };
  const id = store.addImage(Buffer.from(JSON.stringify(config)));
  if (opts.repo) store.tag(id, opts.tag ? `${opts.repo}:${opts.tag}` : opts.repo);
  return id;
}
