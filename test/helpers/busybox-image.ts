// Builds, at test time, a busybox image as `docker save` writes it: a docker-archive with
// manifest.json, repositories, the config JSON and one layer tar made from Debian's busybox-static.
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import { readFileSync, writeFileSync } from 'fs';
import * as tar from 'tar-stream';

export const BUSYBOX = '/bin/busybox';
const MTIME = new Date('2024-01-01T00:00:00Z');

export interface LayerEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device';
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  devmajor?: number;
  devminor?: number;
}

/** A tar built entry by entry, exactly as given (tests use it for hostile archives too). */
export async function makeTar(entries: LayerEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const content = e.content === undefined ? undefined : Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content);
    const header = {
      name: e.name,
      type,
      mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: MTIME,
      linkname: e.linkname,
      devmajor: e.devmajor,
      devminor: e.devminor,
      size: type === 'file' ? (content?.length ?? 0) : 0,
    };
    await new Promise<void>((resolve, reject) => pack.entry(header, type === 'file' ? (content ?? Buffer.alloc(0)) : '', (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export function busyboxLayerEntries(): LayerEntry[] {
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => a && a !== 'busybox');
  return [
    { name: 'bin/', type: 'directory' },
    { name: 'bin/busybox', content: readFileSync(BUSYBOX), mode: 0o755 },
    ...applets.map((a): LayerEntry => ({ name: `bin/${a}`, type: 'symlink', linkname: 'busybox', mode: 0o777 })),
    { name: 'dev/', type: 'directory' },
    { name: 'etc/', type: 'directory' },
    {
      name: 'etc/passwd',
      content: 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nberthuser:x:1000:1000:berth user:/home/berthuser:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
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

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export interface ArchiveImage {
  layers: Buffer[];
  config?: Record<string, unknown>;
  repoTags: string[];
}

/** A docker-archive holding the given images; returns it with the image IDs. */
export async function makeArchive(images: ArchiveImage[]): Promise<{ archive: Buffer; ids: string[] }> {
  const entries: LayerEntry[] = [];
  const manifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
  const repositories: Record<string, Record<string, string>> = {};
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const img of images) {
    const diffIds = img.layers.map((l) => `sha256:${sha256(l)}`);
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
        created: MTIME.toISOString(),
        history: [{ created: MTIME.toISOString(), created_by: '/bin/sh -c #(nop) ADD busybox in /' }],
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: diffIds },
        ...img.config,
      }),
    );
    const configHex = sha256(config);
    ids.push(`sha256:${configHex}`);
    entries.push({ name: `${configHex}.json`, content: config });
    const layerNames = img.layers.map((l) => {
      const h = sha256(l);
      if (!seen.has(h)) {
        seen.add(h);
        entries.push({ name: `${h}/`, type: 'directory' }, { name: `${h}/layer.tar`, content: l }, { name: `${h}/VERSION`, content: '1.0' });
      }
      return `${h}/layer.tar`;
    });
    manifest.push({ Config: `${configHex}.json`, RepoTags: img.repoTags, Layers: layerNames });
    for (const t of img.repoTags) {
      const i = t.lastIndexOf(':');
      (repositories[t.slice(0, i)] ??= {})[t.slice(i + 1)] = layerNames[layerNames.length - 1].split('/')[0];
    }
  }
  entries.push({ name: 'manifest.json', content: JSON.stringify(manifest) }, { name: 'repositories', content: JSON.stringify(repositories) });
  return { archive: await makeTar(entries), ids };
}

export async function makeBusyboxArchive(outTar: string, opts: { repoTag?: string } = {}): Promise<{ imageId: string }> {
  const layer = await makeTar(busyboxLayerEntries());
  const { archive, ids } = await makeArchive([{ layers: [layer], repoTags: [opts.repoTag ?? 'busybox:latest'] }]);
  writeFileSync(outTar, archive);
  return { imageId: ids[0] };
}
