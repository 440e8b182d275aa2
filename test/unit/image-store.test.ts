import { createHash } from 'crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import pino from 'pino';
import { Readable } from 'stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadArchive } from '../../daemon/images/archive';
import { applyChanges } from '../../daemon/images/changes';
import { importTar } from '../../daemon/images/import';
import { imageInspect, imageSummary } from '../../daemon/images/shapes';
import { chainIds, ImageStore } from '../../daemon/images/store';
import { busyboxLayerEntries, makeArchive, makeTar } from '../helpers/busybox-image';

const log = pino({ level: 'silent' });
const noUsers = { all: () => [], running: () => [] };

describe('image store', () => {
  let dataRoot: string;
  let store: ImageStore;
  beforeEach(async () => {
    dataRoot = mkdtempSync(join(tmpdir(), 'berth-images-'));
    store = await ImageStore.open(dataRoot, log);
  });
  afterEach(() => rmSync(dataRoot, { recursive: true, force: true }));

  const layerDirsOnDisk = (): string[] => readdirSync(join(dataRoot, 'layers'));

  it('computes OCI chain IDs', () => {
    const a = `sha256:${'a'.repeat(64)}`;
    const b = `sha256:${'b'.repeat(64)}`;
    expect(chainIds([a, b])).toEqual([a, `sha256:${createHash('sha256').update(`${a} ${b}`).digest('hex')}`]);
  });

  it('loads a docker-archive, sharing layers between images', async () => {
    const base = await makeTar(busyboxLayerEntries());
    const extra = await makeTar([{ name: 'extra.txt', content: 'more' }]);
    const { archive, ids } = await makeArchive([
      { layers: [base], repoTags: ['busybox:latest'] },
      { layers: [base, extra], repoTags: ['me/app:1', 'me/app:2'], config: { config: { Cmd: ['cat', '/extra.txt'] } } },
    ]);
    const lines = await loadArchive(store, Readable.from([archive]));
    expect(lines).toEqual(['Loaded image: busybox:latest', 'Loaded image: me/app:1', 'Loaded image: me/app:2']);
    expect(layerDirsOnDisk()).toHaveLength(2);
    const app = store.resolve('me/app:2');
    expect(app?.id).toBe(ids[1]);
    expect(app?.repoTags).toEqual(['me/app:1', 'me/app:2']);
    const dirs = store.layerDirs(ids[1]);
    expect(dirs[0]).toBe(store.layerDirs(ids[0])[0]);
    expect(readFileSync(join(dirs[1], 'extra.txt'), 'utf8')).toBe('more');
    expect(existsSync(join(dirs[0], 'bin/busybox'))).toBe(true);
    expect(store.resolve(ids[0].slice(7, 19))?.id).toBe(ids[0]);
    expect(store.resolve('docker.io/library/busybox')?.id).toBe(ids[0]);
    expect(store.resolve('nosuch')).toBeUndefined();
    // state survives reopening
    const again = await ImageStore.open(dataRoot, log);
    expect(again.resolve('me/app:1')?.id).toBe(ids[1]);
  });

  it('keeps nothing from an archive whose layer does not match its diffID', async () => {
    const good = await makeTar([{ name: 'ok', content: 'ok' }]);
    const { archive } = await makeArchive([{ layers: [good], repoTags: ['bad:1'], config: { rootfs: { type: 'layers', diff_ids: [`sha256:${'0'.repeat(64)}`] } } }]);
    await expect(loadArchive(store, Readable.from([archive]))).rejects.toThrow(/layer digest mismatch/);
    expect(store.list()).toEqual([]);
    expect(layerDirsOnDisk()).toEqual([]);
  });

  it('keeps nothing from a truncated or foreign archive', async () => {
    const { archive } = await makeArchive([{ layers: [await makeTar(busyboxLayerEntries())], repoTags: ['cut:1'] }]);
    await expect(loadArchive(store, Readable.from([archive.subarray(0, archive.length / 2)]))).rejects.toMatchObject({ statusCode: 400 });
    await expect(loadArchive(store, Readable.from([Buffer.from('not a tar at all, just text'.repeat(40))]))).rejects.toMatchObject({ statusCode: 400 });
    const noManifest = await makeTar([{ name: 'hello', content: 'x' }]);
    await expect(loadArchive(store, Readable.from([noManifest]))).rejects.toThrow(/manifest.json/);
    expect(store.list()).toEqual([]);
    expect(layerDirsOnDisk()).toEqual([]);
  });

  it('imports a tarball with changes', async () => {
    const tar = await makeTar([{ name: 'hello.txt', content: 'hi' }]);
    const id = await importTar(store, Readable.from([tar]), {
      repo: 'imported',
      tag: 'v1',
      changes: ['CMD ["cat", "/hello.txt"]', 'ENV A=1 B="two words"', 'WORKDIR /srv', 'EXPOSE 80 53/udp', 'USER nobody', 'LABEL k=v'],
      source: '-',
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
    expect(() => applyChanges({}, ['RUN echo no'])).toThrow('RUN is not a valid change command');
    expect(applyChanges({}, ['CMD echo hi']).Cmd).toEqual(['/bin/sh', '-c', 'echo hi']);
  });

  it('untags by name, deletes by ID, and refuses what Docker refuses', async () => {
    const { archive, ids } = await makeArchive([{ layers: [await makeTar([{ name: 'f', content: '1' }])], repoTags: ['one:latest', 'two:latest'] }]);
    await loadArchive(store, Readable.from([archive]));
    const short = ids[0].slice(7, 19);
    expect(() => store.remove(short, { force: false, noprune: false }, noUsers)).toThrow(`conflict: unable to delete ${short} (must be forced) - image is referenced in multiple repositories`);
    expect(store.remove('one', { force: false, noprune: false }, noUsers)).toEqual([{ Untagged: 'one:latest' }]);
    const users = { all: () => ['c0ffee' + '0'.repeat(58)], running: () => [] };
    expect(() => store.remove('two', { force: false, noprune: false }, users)).toThrow(`conflict: unable to remove repository reference "two" (must force) - container c0ffee000000 is using its referenced image ${short}`);
    const running = { all: () => ['abc'.padEnd(64, '0')], running: () => ['abc'.padEnd(64, '0')] };
    expect(() => store.remove(short, { force: true, noprune: false }, running)).toThrow(`conflict: unable to delete ${short} (cannot be forced) - image is being used by running container abc000000000`);
    const lines = store.remove('two', { force: false, noprune: false }, noUsers);
    expect(lines[0]).toEqual({ Untagged: 'two:latest' });
    expect(lines[1]).toEqual({ Deleted: ids[0] });
    expect(store.list()).toEqual([]);
    expect(layerDirsOnDisk()).toEqual([]);
    expect(() => store.remove('two', { force: false, noprune: false }, noUsers)).toThrow('No such image: two');
  });

  it('retagging leaves the previous image dangling', async () => {
    const a = await makeArchive([{ layers: [await makeTar([{ name: 'a', content: 'a' }])], repoTags: ['app:latest'] }]);
    const b = await makeArchive([{ layers: [await makeTar([{ name: 'b', content: 'b' }])], repoTags: ['app:latest'] }]);
    await loadArchive(store, Readable.from([a.archive]));
    await loadArchive(store, Readable.from([b.archive]));
    expect(store.get(a.ids[0])?.repoTags).toEqual([]);
    expect(store.get(b.ids[0])?.repoTags).toEqual(['app:latest']);
  });

  it('describes images in Docker key order', async () => {
    const { archive, ids } = await makeArchive([{ layers: [await makeTar([{ name: 'f', content: '1' }])], repoTags: ['shape:1'] }]);
    await loadArchive(store, Readable.from([archive]));
    const img = store.get(ids[0]);
    if (!img) throw new Error('not loaded');
    expect(Object.keys(imageSummary(img))).toEqual(['Containers', 'Created', 'Id', 'Labels', 'ParentId', 'RepoDigests', 'RepoTags', 'SharedSize', 'Size', 'VirtualSize']);
    const inspect = imageInspect(img, store.layerDirs(img.id));
    expect(Object.keys(inspect)).toEqual(['Id', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'Created', 'Container', 'ContainerConfig', 'DockerVersion', 'Author', 'Config', 'Architecture', 'Os', 'Size', 'VirtualSize', 'GraphDriver', 'RootFS', 'Metadata']);
    expect(inspect.RootFS).toEqual({ Type: 'layers', Layers: img.config.rootfs.diff_ids });
  });
});
