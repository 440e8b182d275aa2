import { createHash } from 'crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import pino from 'pino';
import { Readable } from 'stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyChanges } from '../../daemon/images/changes';
import { chainIds } from '../../daemon/images/config';
import { imageInspect, imageSummary } from '../../daemon/images/shapes';
import { ImageStore } from '../../daemon/images/store';
import { busyboxLayerEntries, makeArchive, makeLayerTar } from '../helpers/busybox-image';

const log = pino({ level: 'silent' });
const nobody = (): string[] => [];
const keep = { force: false, noprune: false };

describe('image store', () => {
  let dataRoot: string;
  let store: ImageStore;
  beforeEach(async () => {
    dataRoot = mkdtempSync(join(tmpdir(), 'berth-images-'));
    store = await ImageStore.open(dataRoot, log);
  });
  afterEach(() => rmSync(dataRoot, { recursive: true, force: true }));

  const layerDirsOnDisk = (): string[] => readdirSync(join(dataRoot, 'layers')).filter((n) => !n.startsWith('.') && n !== 'tmp');
  const load = (archive: Buffer): Promise<{ loaded: string[] }> => store.load(Readable.from([archive]));

  it('computes OCI chain IDs', () => {
    const a = `sha256:${'a'.repeat(64)}`;
    const b = `sha256:${'b'.repeat(64)}`;
    expect(chainIds([a, b])).toEqual([a, `sha256:${createHash('sha256').update(`${a} ${b}`).digest('hex')}`]);
  });

  for (const oci of [false, true]) {
    it(`loads a ${oci ? 'Docker 25 (OCI layout)' : 'Docker 24'} archive, sharing layers between images`, async () => {
      const base = await makeLayerTar(busyboxLayerEntries());
      const extra = await makeLayerTar([{ name: 'extra.txt', content: 'more' }]);
      const { archive, ids } = await makeArchive(
        [
          { layers: [base], repoTags: ['busybox:latest'] },
          { layers: [base, extra], repoTags: ['me/app:1', 'me/app:2'], config: { config: { Cmd: ['cat', '/extra.txt'] } } },
        ],
        { oci },
      );
      const { loaded } = await load(archive);
      expect(loaded).toEqual(['Loaded image: busybox:latest', 'Loaded image: me/app:1', 'Loaded image: me/app:2']);
      const app = store.resolve('me/app:2');
      expect(app?.id).toBe(ids[1]);
      expect(app?.repoTags).toEqual(['me/app:1', 'me/app:2']);
      const dirs = store.layerDirs(ids[1]);
      expect(dirs[0]).toBe(store.layerDirs(ids[0])[0]);
      expect(new Set([...store.layerDirs(ids[0]), ...dirs]).size).toBe(2);
      expect(readFileSync(join(dirs[1], 'extra.txt'), 'utf8')).toBe('more');
      expect(existsSync(join(dirs[0], 'bin/busybox'))).toBe(true);
      expect(store.resolve(ids[0].slice(7, 19))?.id).toBe(ids[0]);
      expect(store.resolve('docker.io/library/busybox')?.id).toBe(ids[0]);
      expect(store.resolve('nosuch')).toBeUndefined();
      // State survives reopening.
      const again = await ImageStore.open(dataRoot, log);
      expect(again.resolve('me/app:1')?.id).toBe(ids[1]);
    });
  }

  it('keeps nothing from an archive whose layer does not match its diffID', async () => {
    const good = await makeLayerTar([{ name: 'ok', content: 'ok' }]);
    const { archive } = await makeArchive([{ layers: [good], repoTags: ['bad:1'], config: { rootfs: { type: 'layers', diff_ids: [`sha256:${'0'.repeat(64)}`] } } }]);
    await expect(load(archive)).rejects.toThrow(/invalid diffID/);
    expect(store.list()).toEqual([]);
    expect(layerDirsOnDisk()).toEqual([]);
  });

  it('keeps nothing from a truncated or foreign archive', async () => {
    const { archive } = await makeArchive([{ layers: [await makeLayerTar(busyboxLayerEntries())], repoTags: ['cut:1'] }]);
    await expect(load(archive.subarray(0, archive.length / 2))).rejects.toThrow();
    await expect(load(Buffer.from('not a tar at all, just text'.repeat(40)))).rejects.toThrow();
    await expect(load(await makeLayerTar([{ name: 'hello', content: 'x' }]))).rejects.toThrow(/manifest.json/);
    expect(store.list()).toEqual([]);
    expect(layerDirsOnDisk()).toEqual([]);
  });

  it('imports a tarball with changes', async () => {
    const tar = await makeLayerTar([{ name: 'hello.txt', content: 'hi' }]);
    const id = await store.importTar(Readable.from([tar]), {
      repo: 'imported',
      tag: 'v1',
      changes: ['CMD ["cat", "/hello.txt"]', 'ENV A=1 B="two words"', 'WORKDIR /srv', 'EXPOSE 80 53/udp', 'USER nobody', 'LABEL k=v'],
    });
    const img = store.resolve('imported:v1');
    expect(img?.id).toBe(id);
    expect(img?.config.config).toMatchObject({
      Cmd: ['cat', '/hello.txt'],
      Env: ['A=1', 'B=two words'],
      WorkingDir: '/srv',
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      User: 'nobody',
      Labels: { k: 'v' },
    });
    expect(img?.config.history?.[0].comment).toBe('Imported from -');
    expect(readFileSync(join(store.layerDirs(id)[0], 'hello.txt'), 'utf8')).toBe('hi');
    expect(() => applyChanges({}, ['RUN echo no'])).toThrow('RUN is not a valid change command');
    expect(applyChanges({}, ['CMD echo hi']).Cmd).toEqual(['/bin/sh', '-c', 'echo hi']);
  });

  it('untags by name, deletes by ID, and refuses what Docker refuses', async () => {
    const { archive, ids } = await makeArchive([{ layers: [await makeLayerTar([{ name: 'f', content: '1' }])], repoTags: ['one:latest', 'two:latest'] }]);
    await load(archive);
    const short = ids[0].slice(7, 19);
    await expect(store.remove(short, keep, nobody)).rejects.toThrow(`conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
    expect(await store.remove('one', keep, nobody)).toEqual([{ Untagged: 'one:latest' }]);
    const stopped = (): string[] => ['c0ffee'.padEnd(64, '0')];
    await expect(store.remove('two', keep, stopped)).rejects.toThrow(
      `conflict: unable to remove repository reference "two" (must force) - container c0ffee000000 is using its referenced image ${short}`,
    );
    const running = (): string[] => ['abc'.padEnd(64, '0')];
    await expect(store.remove(short, { force: true, noprune: false }, running, running)).rejects.toThrow(
      `conflict: unable to delete ${short} (cannot be forced) - image is being used by running container abc000000000`,
    );
    const lines = await store.remove('two', keep, nobody);
    expect(lines[0]).toEqual({ Untagged: 'two:latest' });
    expect(lines[1]).toEqual({ Deleted: ids[0] });
    expect(store.list()).toEqual([]);
    expect(layerDirsOnDisk()).toEqual([]);
    await expect(store.remove('two', keep, nobody)).rejects.toThrow('No such image: two');
  });

  it('keeps a force-deleted image for the stopped container using it until it is gone', async () => {
    const { archive, ids } = await makeArchive([{ layers: [await makeLayerTar([{ name: 'f', content: '2' }])], repoTags: ['used:1'] }]);
    await load(archive);
    let users = ['d00d'.padEnd(64, '0')];
    const out = await store.remove(ids[0], { force: true, noprune: false }, () => users);
    expect(out).toEqual([{ Untagged: 'used:1' }, { Deleted: ids[0] }]);
    expect(store.list()).toEqual([]);
    expect(store.layerDirs(ids[0])).toHaveLength(1);
    expect(layerDirsOnDisk()).toHaveLength(1);
    users = [];
    await store.collect(() => users);
    expect(layerDirsOnDisk()).toEqual([]);
  });

  it('retagging leaves the previous image dangling', async () => {
    const a = await makeArchive([{ layers: [await makeLayerTar([{ name: 'a', content: 'a' }])], repoTags: ['app:latest'] }]);
    const b = await makeArchive([{ layers: [await makeLayerTar([{ name: 'b', content: 'b' }])], repoTags: ['app:latest'] }]);
    await load(a.archive);
    const second = await load(b.archive);
    expect(second.loaded[0]).toBe(`The image app:latest already exists, renaming the old one with ID ${a.ids[0]} to empty string`);
    expect(store.get(a.ids[0])?.repoTags).toEqual([]);
    expect(store.get(b.ids[0])?.repoTags).toEqual(['app:latest']);
  });

  it('describes images in Docker key order', async () => {
    const { archive, ids } = await makeArchive([{ layers: [await makeLayerTar([{ name: 'f', content: '1' }])], repoTags: ['shape:1'] }]);
    await load(archive);
    const img = store.get(ids[0]);
    if (!img) throw new Error('not loaded');
    expect(Object.keys(imageSummary(img))).toEqual(['Containers', 'Created', 'Id', 'Labels', 'ParentId', 'RepoDigests', 'RepoTags', 'SharedSize', 'Size', 'VirtualSize']);
    const inspect = imageInspect(img);
    expect(Object.keys(inspect)).toEqual(['Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'Created', 'Container', 'ContainerConfig', 'DockerVersion', 'Author', 'Config', 'Architecture', 'Os', 'Size', 'VirtualSize', 'GraphDriver', 'RootFS', 'Metadata']);
    expect(inspect.RootFS).toEqual({ Type: 'layers', Layers: img.config.rootfs.diff_ids });
  });
});
