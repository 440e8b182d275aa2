import { describe, expect, it } from 'vitest';
import { absolutePath } from '../../daemon/files/archive';

describe('absolutePath (dockerd: filepath.Join then PreserveTrailingDotOrSeparator)', () => {
  it.each([
    ['/etc/passwd', '/etc/passwd'],
    ['etc/passwd', '/etc/passwd'],
    ['/etc/passwd/', '/etc/passwd/'],
    ['/etc//passwd//', '/etc/passwd/'],
    ['/data/.', '/data/.'],
    ['/data/./', '/data/'],
    ['.', '/.'],
    ['/', '/'],
    ['../../etc/', '/etc/'],
  ])('%s -> %s', (path, abs) => {
    expect(absolutePath(path)).toBe(abs);
  });
});
