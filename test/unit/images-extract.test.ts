import { createHash } from 'crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Readable } from 'stream';
import { gzipSync } from 'zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractLayer } from '../../daemon/images/extract';
import { lgetxattr } from '../../native/libc';
import { type LayerEntry, makeLayerTar } from '../helpers/busybox-image';

const digest = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('layer extraction', () => {
  let base: string;
  let root: string;
  let outside: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'berth-extract-'));
    root = join(base, 'root');
    outside = join(base, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep'), 'untouched');
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  const extract = async (entries: LayerEntry[]): Promise<{ diffId: string; size: number }> => extractLayer(Readable.from([await makeLayerTar(entries)]), root);

  it('writes files, dirs, links and devices with modes, owners and times, and returns the diffID', async () => {
    const tar = await makeLayerTar([
      { name: 'etc/', type: 'directory', mode: 0o755, mtime: new Date('2020-02-02T00:00:00Z') },
      { name: 'etc/conf', content: 'x=1\n', mode: 0o640, uid: 1000, gid: 1001 },
      { name: 'bin/', type: 'directory' },
      { name: 'bin/tool', content: '#!/bin/sh\n', mode: 0o4755, uid: 1000 },
      { name: 'bin/alias', type: 'symlink', linkname: '/bin/tool', uid: 7, gid: 8 },
      { name: 'bin/hard', type: 'link', linkname: 'bin/tool' },
      { name: 'dev/', type: 'directory' },
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'dev/loop9', type: 'block-device', devmajor: 7, devminor: 9, mode: 0o660 },
      { name: 'run/pipe', type: 'fifo', mode: 0o600 },
    ]);
    const r = await extractLayer(Readable.from([tar]), root);
    expect(r).toEqual({ diffId: digest(tar), size: 4 + 10, gzip: false });
    expect(readFileSync(join(root, 'etc/conf'), 'utf8')).toBe('x=1\n');
    const conf = statSync(join(root, 'etc/conf'));
    expect([conf.mode & 0o7777, conf.uid, conf.gid]).toEqual([0o640, 1000, 1001]);
    expect(conf.mtime.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(statSync(join(root, 'etc')).mtime.toISOString()).toBe('2020-02-02T00:00:00.000Z');
    // setuid survives the chown that would clear it
    expect(statSync(join(root, 'bin/tool')).mode & 0o7777).toBe(0o4755);
    expect(readlinkSync(join(root, 'bin/alias'))).toBe('/bin/tool');
    expect([lstatSync(join(root, 'bin/alias')).uid, lstatSync(join(root, 'bin/alias')).gid]).toEqual([7, 8]);
    expect(statSync(join(root, 'bin/hard')).ino).toBe(statSync(join(root, 'bin/tool')).ino);
    expect(statSync(join(root, 'dev/null')).rdev).toBe(statSync('/dev/null').rdev);
    expect(lstatSync(join(root, 'dev/loop9')).isBlockDevice()).toBe(true);
    expect(lstatSync(join(root, 'run/pipe')).isFIFO()).toBe(true);
    // a parent missing from the tar is created
    expect(statSync(join(root, 'run')).isDirectory()).toBe(true);
  });

  it('takes gzip-compressed layers and hashes the uncompressed stream', async () => {
    const tar = await makeLayerTar([{ name: 'a', content: 'gz' }]);
    const r = await extractLayer(Readable.from([gzipSync(tar)]), root);
    expect(r.diffId).toBe(digest(tar));
    expect(readFileSync(join(root, 'a'), 'utf8')).toBe('gz');
  });

  it('restores xattrs from PAX SCHILY.xattr records', async () => {
    await extract([{ name: 'f', content: 'x', pax: { 'SCHILY.xattr.user.berth': 'hello' } }]);
    expect(lgetxattr(join(root, 'f'), 'user.berth')?.toString()).toBe('hello');
  });

  it('turns OCI whiteouts into overlayfs whiteouts and opaque directories', async () => {
    await extract([
      { name: 'gone/', type: 'directory' },
      { name: 'gone/.wh..wh..opq', content: '' },
      { name: '.wh.deleted', content: '', uid: 5, gid: 6 },
      { name: 'gone/.wh..wh.plnk', content: '' },
    ]);
    const wh = lstatSync(join(root, 'deleted'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect([wh.rdev, wh.uid, wh.gid]).toEqual([0, 5, 6]);
    expect(existsSync(join(root, '.wh.deleted'))).toBe(false);
    expect(lgetxattr(join(root, 'gone'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(readdirSync(join(root, 'gone'))).toEqual([]);
  });

  it('follows a symlinked parent that stays inside the layer', async () => {
    await extract([
      { name: 'usr/lib/', type: 'directory' },
      { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
      { name: 'lib/libc.so', content: 'elf' },
    ]);
    expect(readFileSync(join(root, 'usr/lib/libc.so'), 'utf8')).toBe('elf');
  });

  it.each<[string, LayerEntry[], RegExp]>([
    ['a path climbing out with ..', [{ name: '../escape', content: 'x' }], /climbs out of the root/],
    ['a path climbing out through a subdirectory', [{ name: 'a/../../escape', content: 'x' }], /climbs out of the root/],
    ['an absolute path', [{ name: '/abs', content: 'x' }], /absolute paths are not allowed/],
    ['a hardlink to a file outside', [{ name: 'h', type: 'link', linkname: '../outside/keep' }], /climbs out of the root/],
    ['an absolute hardlink', [{ name: 'h', type: 'link', linkname: '/etc/passwd' }], /absolute paths are not allowed/],
    ['a hardlink through a symlink that leaves', [{ name: 'up', type: 'symlink', linkname: '../outside' }, { name: 'h', type: 'link', linkname: 'up/keep' }], /points outside the layer/],
    ['a write through an absolute symlink', [{ name: 'a', type: 'symlink', linkname: '/etc' }, { name: 'a/passwd', content: 'x' }], /written through the symlink a -> \/etc/],
    ['a write through a relative symlink that leaves', [{ name: 'up', type: 'symlink', linkname: '../outside' }, { name: 'up/keep', content: 'x' }], /points outside the layer/],
    ['a write through a chain of symlinks', [{ name: 'd/', type: 'directory' }, { name: 'd/up', type: 'symlink', linkname: '..' }, { name: 'd/up/up2', type: 'symlink', linkname: '..' }, { name: 'd/up/up2/keep', content: 'x' }], /points outside the layer/],
    ['a whiteout of the parent directory', [{ name: 'sub/.wh..', content: '' }], /invalid whiteout name/],
    ['a whiteout of the grandparent', [{ name: '.wh...', content: '' }], /invalid whiteout name/],
  ])('refuses %s and touches nothing outside the root', async (_what, entries, message) => {
    await expect(extract(entries)).rejects.toThrow(message);
    expect(readdirSync(base).sort()).toEqual(['outside', 'root']);
    expect(readdirSync(outside)).toEqual(['keep']);
    expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('untouched');
    expect(existsSync('/etc/passwd') && readFileSync('/etc/passwd', 'utf8')).not.toBe('x');
  });

  it('answers refusals with a 400', async () => {
    await expect(extract([{ name: '/abs', content: 'x' }])).rejects.toMatchObject({ statusCode: 400 });
  });

  it('rejects a truncated archive', async () => {
    const tar = await makeLayerTar([{ name: 'big', content: Buffer.alloc(4096, 1) }]);
    await expect(extractLayer(Readable.from([tar.subarray(0, 1000)]), root)).rejects.toThrow();
  });

  it('rejects data that is not a tar', async () => {
    await expect(extractLayer(Readable.from([Buffer.from('not a tar at all '.repeat(64))]), root)).rejects.toThrow(/Invalid tar header/);
  });
});
