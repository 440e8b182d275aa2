// Builds, at test time, a busybox image as `docker save` writes it: a docker-archive with
// manifest.json, repositories, the config JSON and one layer tar made from Debian's busybox-static.
// Everything has fixed times and owners, so the image ID is the same on every run.
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import { readFileSync, writeFileSync } from 'fs';
import * as tar from 'tar-stream';

export const BUSYBOX = '/bin/busybox';
const MTIME = new Date('2024-01-01T00:00:00Z');
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface LayerEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  devmajor?: number;
  devminor?: number;
  mtime?: Date;
  /** PAX records, e.g. SCHILY.xattr.user.x. */
  pax?: Record<string, string>;
}

/** A tar built entry by entry, exactly as given (tests use it for hostile archives too). */
export async function makeLayerTar(entries: LayerEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const content = e.content === undefined ? Buffer.alloc(0) : Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content);
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? MTIME,
      linkname: e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      size: type === 'file' ? content.length : 0,
      pax: e.pax,
    };
    await new Promise<void>((resolve, reject) => pack.entry(header, type === 'file' ? content : '', (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** The busybox root filesystem: the binary, a symlink per applet, the usual directories and users. */
export function busyboxLayerEntries(): LayerEntry[] {
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => a && a !== 'busybox')
    .sort();
  return [
    { name: 'bin/', type: 'directory' },
    { name: 'bin/busybox', content: readFileSync(BUSYBOX), mode: 0o755 },
    ...applets.map((a): LayerEntry => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox', mode: 0o777 })),
    { name: 'dev/', type: 'directory' },
    { name: 'etc/', type: 'directory' },
    {
      name: 'etc/passwd',
      content:
        'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nberthuser:x:1000:1000:berth user:/home/berthuser:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
    },
    { name: 'etc/group', content: 'root:x:0:\ndaemon:x:1:\ntty:x:5:\nberthuser:x:1000:\nnogroup:x:65534:\n' },
    { name: 'home/', type: 'directory' },
    { name: 'home/berthuser/', type: 'directory', uid: 1000, gid: 1000 },
    { name: 'proc/', type: 'directory' },
    { name: 'root/', type: 'directory', mode: 0o700 },
    { name: 'sys/', type: 'directory' },
    { name: 'tmp/', type: 'directory', mode: 0o1777 },
    { name: 'usr/', type: 'directory' },
    { name: 'usr/bin/', type: 'directory' },
    { name: 'var/', type: 'directory' },
  ];
}

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

export interface ArchiveImage {
  layers: Buffer[];
  /** Merged over the default config; its `config` key over the default container config. */
  config?: Record<string, unknown>;
  repoTags: string[];
}

/** The config blob of an image with these layers, as Docker pulls busybox's (keys sorted). */
export function imageConfig(layers: Buffer[], extra: Record<string, unknown> = {}): Buffer {
  const created = MTIME.toISOString();
  const { config: extraContainerConfig, ...rest } = extra;
  return Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      config: { Env: [PATH_ENV], Cmd: ['sh'], ...(extraContainerConfig as object | undefined) },
      created,
      history: [
        ...layers.map(() => ({ created, created_by: '/bin/sh -c #(nop) ADD file:busybox in / ' })),
        { created, created_by: '/bin/sh -c #(nop)  CMD ["sh"]', empty_layer: true },
      ],
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${sha256(l)}`) },
      ...rest,
    }),
  );
}

/**
 * A docker-archive holding the images, in Docker 24's layout (`<id>/layer.tar` beside `<id>/json`
 * and `<id>/VERSION`, a repeated layer as a symlink to the first copy) or, with `oci`, Docker 25's
 * (`blobs/sha256/<hex>` for config and layers, plus index.json and oci-layout).
 */
export async function makeArchive(images: ArchiveImage[], opts: { oci?: boolean } = {}): Promise<{ archive: Buffer; ids: string[] }> {
  const entries: LayerEntry[] = [];
  const manifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
  const repositories: Record<string, Record<string, string>> = {};
  const names = new Set<string>();
  /** diffID hex -> where its tar first went. */
  const layerPaths = new Map<string, string>();
  const ids: string[] = [];
  if (opts.oci) entries.push({ name: 'blobs/', type: 'directory' }, { name: 'blobs/sha256/', type: 'directory' });
  for (const img of images) {
    const config = imageConfig(img.layers, img.config);
    const configHex = sha256(config);
    ids.push(`sha256:${configHex}`);
    const configName = opts.oci ? `blobs/sha256/${configHex}` : `${configHex}.json`;
    if (!names.has(configName)) entries.push({ name: configName, content: config });
    names.add(configName);
    let parent = '';
    const layerNames = img.layers.map((layer) => {
      const diffHex = sha256(layer);
      if (opts.oci) {
        const name = `blobs/sha256/${diffHex}`;
        if (!names.has(name)) entries.push({ name, content: layer });
        names.add(name);
        return name;
      }
      // Docker 24 names the directory by a v1 ID derived from the chain; any stable hex does here.
      const v1 = sha256(`${parent} ${diffHex}`);
      parent = v1;
      const name = `${v1}/layer.tar`;
      if (!names.has(name)) {
        const first = layerPaths.get(diffHex);
        entries.push(
          { name: `${v1}/`, type: 'directory' },
          { name: `${v1}/VERSION`, content: '1.0' },
          { name: `${v1}/json`, content: JSON.stringify({ id: v1, created: MTIME.toISOString(), os: 'linux' }) },
          first ? { name, type: 'symlink', linkname: `../${first}` } : { name, content: layer },
        );
        names.add(name);
        if (!first) layerPaths.set(diffHex, name);
      }
      return name;
    });
    manifest.push({ Config: configName, RepoTags: img.repoTags, Layers: layerNames });
    for (const t of img.repoTags) {
      const i = t.lastIndexOf(':');
      (repositories[t.slice(0, i)] ??= {})[t.slice(i + 1)] = layerNames[layerNames.length - 1]?.split('/')[0] ?? '';
    }
  }
  entries.push({ name: 'manifest.json', content: JSON.stringify(manifest) });
  if (opts.oci) {
    entries.push({ name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' }, { name: 'index.json', content: JSON.stringify({ schemaVersion: 2, manifests: [] }) });
  } else {
    entries.push({ name: 'repositories', content: JSON.stringify(repositories) });
  }
  return { archive: await makeLayerTar(entries), ids };
}

/** Writes the busybox image archive to `outTar`; returns its image ID. */
export async function makeBusyboxArchive(outTar: string, opts: { repoTag?: string; extraConfig?: Record<string, unknown> } = {}): Promise<{ imageId: string }> {
  const layer = await makeLayerTar(busyboxLayerEntries());
  const { archive, ids } = await makeArchive([{ layers: [layer], repoTags: [opts.repoTag ?? 'busybox:latest'], config: opts.extraConfig }]);
  writeFileSync(outTar, archive);
  return { imageId: ids[0] };
}
