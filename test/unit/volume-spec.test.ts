import { describe, expect, it } from 'vitest';
import { parseMountOptions, parseSize } from '../../daemon/volumes/mount-options';
import { parseApiMount, parseBind, parseVolumesFrom, planMounts, tmpfsData } from '../../daemon/volumes/spec';

const err = (fn: () => unknown): { statusCode?: number; message: string } => {
  try {
    fn();
  } catch (e) {
    return e as { statusCode?: number; message: string };
  }
  throw new Error('did not throw');
};

describe('-v / Binds parsing (moby linux parser)', () => {
  it('tells binds, named and anonymous volumes apart', () => {
    expect(parseBind('/host/dir:/c:ro,rshared')).toMatchObject({ Type: 'bind', Source: '/host/dir', Destination: '/c', RW: false, Mode: 'ro,rshared', Propagation: 'rshared' });
    expect(parseBind('/h:/c/')).toMatchObject({ Type: 'bind', Destination: '/c', RW: true, Propagation: 'rprivate' });
    expect(parseBind('data:/d:nocopy')).toMatchObject({ Type: 'volume', Name: 'data', CopyData: false, Propagation: '', Anonymous: false });
    expect(parseBind('/only')).toMatchObject({ Type: 'volume', Name: '', Anonymous: true, CopyData: true });
    expect(parseBind('/h:/c:z').RW).toBe(true);
  });

  it("gives local volumes from Binds and Mounts dockerd's Mode z when none is given, binds their own", () => {
    expect(parseBind('data:/d').Mode).toBe('z');
    expect(parseBind('/anon').Mode).toBe('z');
    expect(parseBind('data:/d:ro').Mode).toBe('ro');
    expect(parseBind('/h:/c').Mode).toBe('');
    expect(parseApiMount({ Type: 'volume', Source: 'vv', Target: '/v' }, () => true).Mode).toBe('z');
    expect(parseApiMount({ Type: 'volume', Target: '/v' }, () => true).Mode).toBe('z');
    expect(planMounts({ binds: [], mounts: [], tmpfs: {}, volumesFrom: [], volumes: ['/img'] }, { exists: () => true, mountsOf: () => [] }).find((m) => m.Destination === '/img')?.Mode).toBe('');
  });

  it('refuses what dockerd refuses, with its messages', () => {
    expect(err(() => parseBind('rel/dir:/x')).message).toMatch(/^create rel\/dir: "rel\/dir" includes invalid characters for a local volume name/);
    expect(err(() => parseBind('/a:/b:bogus')).message).toBe('invalid mode: bogus');
    expect(err(() => parseBind('/a:/b:ro,rw')).message).toBe('invalid mode: ro,rw');
    expect(err(() => parseBind('/a:rel')).message).toBe(`invalid volume specification: '/a:rel': invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`);
    expect(err(() => parseBind('/a:/')).message).toContain("destination can't be '/'");
    expect(err(() => parseBind('/foo:rw')).message).toBe("invalid volume specification: '/foo:rw'");
    expect(err(() => parseBind('a:b:c:d')).statusCode).toBe(400);
  });
});

describe('--mount / Mounts parsing', () => {
  it('requires an existing bind source and knows each type', () => {
    expect(err(() => parseApiMount({ Type: 'bind', Source: '/nope', Target: '/x' }, () => false)).message).toBe('invalid mount config for type "bind": bind source path does not exist: /nope');
    expect(parseApiMount({ Type: 'bind', Source: '/yes', Target: '/x', ReadOnly: true }, () => true)).toMatchObject({ RW: false, Mode: '', Propagation: 'rprivate' });
    expect(parseApiMount({ Type: 'volume', Target: '/v', VolumeOptions: { NoCopy: true } }, () => true)).toMatchObject({ Anonymous: true, CopyData: false });
    expect(err(() => parseApiMount({ Type: 'volume', Target: '/v', ReadOnly: true }, () => true)).message).toContain('must not set ReadOnly mode when using anonymous volumes');
    expect(err(() => parseApiMount({ Type: 'volume', Source: 'vv', Target: '/v', VolumeOptions: { DriverConfig: { Options: { bogus: '1' } } } }, () => true)).message).toBe('invalid option key: "bogus"');
    expect(parseApiMount({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 3 * 2 ** 20, Mode: 0o1777 } }, () => true).TmpfsOptions).toBe('mode=1777,size=3m');
    expect(err(() => parseApiMount({ Type: 'nfs', Target: '/t' }, () => true)).message).toBe('invalid mount config for type "nfs": mount type unknown');
  });

  it('formats tmpfs options as moby does', () => {
    expect(tmpfsData(1536, undefined, true)).toBe('ro,size=1536');
    expect(tmpfsData(2 ** 30, 0o700, false)).toBe('mode=700,size=1g');
  });
});

describe('planning a container’s mounts', () => {
  const deps = { exists: () => true, mountsOf: () => [parseBind('shared:/s'), { ...parseBind('/h:/hidden'), Hidden: true }] };

  it('refuses a destination given twice, but lets binds override image volumes', () => {
    expect(err(() => planMounts({ binds: ['/a:/x', 'vv:/x'], mounts: [], tmpfs: {}, volumesFrom: [], volumes: [] }, deps)).message).toBe('Duplicate mount point: /x');
    expect(err(() => planMounts({ binds: ['/a:/x'], mounts: [{ Type: 'tmpfs', Target: '/x' }], tmpfs: {}, volumesFrom: [], volumes: [] }, deps)).message).toBe('Duplicate mount point: /x');
    const plan = planMounts({ binds: ['/a:/data'], mounts: [], tmpfs: {}, volumesFrom: [], volumes: ['/data', '/other'] }, deps);
    expect(plan.map((m) => [m.Destination, m.Type])).toEqual([
      ['/data', 'bind'],
      ['/other', 'volume'],
    ]);
  });

  it('takes volumes-from mounts with the mode asked, never copying up', () => {
    const plan = planMounts({ binds: [], mounts: [], tmpfs: {}, volumesFrom: ['src:ro'], volumes: [] }, deps);
    expect(plan).toHaveLength(1);
    expect(plan[0]).toMatchObject({ Name: 'shared', Destination: '/s', RW: false, CopyData: false, Anonymous: false });
    expect(parseVolumesFrom('c')).toEqual({ ref: 'c', mode: 'rw' });
    expect(err(() => parseVolumesFrom('c:rshared')).message).toBe('invalid mode: rshared');
  });
});

describe('mount option strings', () => {
  it('splits flags from filesystem data', () => {
    expect(parseMountOptions('size=64m,noexec,uid=1000,rw')).toEqual({ flags: 8, data: 'size=64m,uid=1000' });
    expect(parseMountOptions('ro,bind').flags).toBe(1 | 4096);
    expect(parseSize('64m')).toBe(64 * 2 ** 20);
    expect(parseSize('x')).toBeNull();
  });
});
