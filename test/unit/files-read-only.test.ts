import { describe, expect, it } from 'vitest';
import { readOnlyRefusal } from '../../daemon/files/read-only';

const mounts = [
  { destination: '/data', rw: true },
  { destination: '/data/ro', rw: false },
  { destination: '/conf', rw: false },
];

describe('readOnlyRefusal (dockerd checkIfPathIsInAVolume)', () => {
  it('lets a writable root be written anywhere but in a read-only mount', () => {
    const rules = { readonlyRootfs: false, mounts };
    expect(readOnlyRefusal('/tmp', rules)).toBeNull();
    expect(readOnlyRefusal('/', rules)).toBeNull();
    expect(readOnlyRefusal('/conf', rules)).toBe('mounted volume is marked read-only');
    expect(readOnlyRefusal('/conf/sub', rules)).toBe('mounted volume is marked read-only');
    // A sibling whose name only starts like the mount is not in it.
    expect(readOnlyRefusal('/config', rules)).toBeNull();
  });

  it('with --read-only, accepts only writable mounts; the deepest mount decides', () => {
    const rules = { readonlyRootfs: true, mounts };
    expect(readOnlyRefusal('/tmp', rules)).toBe('container rootfs is marked read-only');
    expect(readOnlyRefusal('/', rules)).toBe('container rootfs is marked read-only');
    expect(readOnlyRefusal('/datafile', rules)).toBe('container rootfs is marked read-only');
    expect(readOnlyRefusal('/data', rules)).toBeNull();
    expect(readOnlyRefusal('/data/sub/deep', rules)).toBeNull();
    expect(readOnlyRefusal('/data/ro', rules)).toBe('mounted volume is marked read-only');
    expect(readOnlyRefusal('/data/ro/x', rules)).toBe('mounted volume is marked read-only');
  });
});
