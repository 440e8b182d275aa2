import { createHash } from 'crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Readable } from 'stream';
import { gzipSync } from 'zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractLayer } from '../../daemon/images/extract';
import { lgetxattr } from '../../native/libc';
import { makeTar } from '../helpers/busybox-image';

describe('layer extraction', () => {
  let base: string;
  let root: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'berth-extract-'));
    root = join(base, 'root');
    mkdirSync(root);
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('writes files, dirs, links and devices with modes and owners, and returns the diffID', async () => {
    const tar = await makeTar([
      { name: 'etc/', type: 'directory', mode: 0o755 },
      { name: 'etc/conf', content: 'x=1\n', mode: 0o640, uid: 1000, gid: 1001 },
      { name: 'bin/', type: 'directory' },
      { name: 'bin/tool', content: '#!/bin/sh\n', mode: 0o4755 },
      { name: 'bin/alias', type: 'symlink', linkname: '/bin/tool' },
      { name: 'bin/hard', type: 'link', linkname: 'bin/tool' },
      { name: 'dev/', type: 'directory' },
      { name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 },
    ]);
    const r = await extractLayer(Readable.from([tar]), root);
    expect(r.diffId).toBe(`sha256:${createHash('sha256').update(tar).digest('hex')}`);
    expect(r.size).toBe(4 + 10);
    expect(readFileSync(join(root, 'etc/conf'), 'utf8')).toBe('x=1\n');
    const st = statSync(join(root, 'etc/conf'));
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o640, 1000, 1001]);
    expect(statSync(join(root, 'bin/tool')).mode & 0o7777).toBe(0o4755);
    expect(readlinkSync(join(root, 'bin/alias'))).toBe('/bin/tool');
    expect(statSync(join(root, 'bin/hard')).ino).toBe(statSync(join(root, 'bin/tool')).ino);
    expect(statSync(join(root, 'dev/null')).rdev).toBe(statSync('/dev/null').rdev);
  });

  it('takes gzip-compressed layers and hashes the uncompressed stream', async () => {
    const tar = await makeTar([{ name: 'a', content: 'gz' }]);
    const r = await extractLayer(Readable.from([gzipSync(tar)]), root);
    expect(r.diffId).toBe(`sha256:${createHash('sha256').update(tar).digest('hex')}`);
    expect(readFileSync(join(root, 'a'), 'utf8')).toBe('gz');
  });

  it('turns OCI whiteouts into overlayfs whiteouts and opaque directories', async () => {
    const tar = await makeTar([
      { name: 'gone/', type: 'directory' },
      { name: 'gone/.wh..wh..opq', content: '' },
      { name: '.wh.deleted', content: '' },
    ]);
    await extractLayer(Readable.from([tar]), root);
    const wh = lstatSync(join(root, 'deleted'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect(existsSync(join(root, '.wh.deleted'))).toBe(false);
    expect(lgetxattr(join(root, 'gone'), 'trusted.overlay.opaque')?.toString()).toBe('y');
  });

  it.each([
    ['a path climbing out with ..', [{ name: '../escape', content: 'x' }], /climbs out/],
    ['an absolute path', [{ name: '/abs', content: 'x' }], /absolute paths are not allowed/],
    ['a hardlink to a file outside', [{ name: 'h', type: 'link' as const, linkname: '../../../etc/passwd' }], /climbs out/],
    ['an absolute hardlink', [{ name: 'h', type: 'link' as const, linkname: '/etc/passwd' }], /absolute paths are not allowed/],
    ['a write through a symlink', [{ name: 'link', type: 'symlink' as const, linkname: '/tmp' }, { name: 'link/planted', content: 'x' }], /written through the symlink/],
    ['a write through a relative symlink', [{ name: 'up', type: 'symlink' as const, linkname: '..' }, { name: 'up/planted', content: 'x' }], /written through the symlink/],
  ])('refuses %s and writes nothing outside the root', async (_what, entries, message) => {
    const tar = await makeTar(entries);
    await expect(extractLayer(Readable.from([tar]), root)).rejects.toThrow(message);
    expect(existsSync(join(base, 'escape'))).toBe(false);
    expect(existsSync('/tmp/planted')).toBe(false);
    expect(existsSync(join(base, 'planted'))).toBe(false);
  });

  it('rejects a truncated archive', async () => {
    const tar = await makeTar([{ name: 'big', content: Buffer.alloc(4096, 1) }]);
    await expect(extractLayer(Readable.from([tar.subarray(0, 1000)]), root)).rejects.toThrow();
  });
});
