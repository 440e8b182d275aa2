import { describe, expect, it } from 'vitest';
import { asImageId, familiar, familiarName, parseReference, referenceString, tagNameOnly, withTag } from '../../daemon/images/reference';

const HEX = 'a'.repeat(64);

describe('image references', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['docker.io/library/nginx', 'docker.io/library/nginx:latest', 'nginx:latest'],
    ['index.docker.io/library/nginx:1', 'docker.io/library/nginx:1', 'nginx:1'],
    ['docker.io/nginx', 'docker.io/library/nginx:latest', 'nginx:latest'],
    ['kuangshen/centos', 'docker.io/kuangshen/centos:latest', 'kuangshen/centos:latest'],
    ['centos/mysql-57-centos7:latest', 'docker.io/centos/mysql-57-centos7:latest', 'centos/mysql-57-centos7:latest'],
    ['localhost:5000/x/y:t', 'localhost:5000/x/y:t', 'localhost:5000/x/y:t'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['registry.example.com/app', 'registry.example.com/app:latest', 'registry.example.com/app:latest'],
    ['a__b/c.d-e---f:V1.0_x', 'docker.io/a__b/c.d-e---f:V1.0_x', 'a__b/c.d-e---f:V1.0_x'],
    [`nginx@sha256:${HEX}`, `docker.io/library/nginx@sha256:${HEX}`, `nginx@sha256:${HEX}`],
  ])('%s normalises to %s and shows as %s', (input, full, short) => {
    const r = tagNameOnly(parseReference(input));
    expect(referenceString(r)).toBe(full);
    expect(familiar(r)).toBe(short);
  });

  it.each(['a:b:c', 'busybox:', ':tag', 'bad//name', '-leading', 'trailing-', 'name:tag with space', 'x@sha256:short', 'name:-tag', `name:${'t'.repeat(129)}`])(
    'rejects %j with Docker 24\'s "invalid reference format" (400)',
    (input) => {
      expect(() => parseReference(input)).toThrow(/^invalid reference format$/);
      expect(() => parseReference(input)).toThrow(expect.objectContaining({ statusCode: 400 }));
    },
  );

  it('rejects the empty name as distribution/reference does', () => {
    // The docker.io/library/ prefix makes the empty name a reference with an empty last component.
    expect(() => parseReference('')).toThrow('invalid reference format');
  });

  it.each(['UPPER', 'Busybox:latest', 'UPPER/case', 'user/Repo', 'localhost:5000/Foo'])('reports %j as not lowercase, in Docker 24 words', (input) => {
    expect(() => parseReference(input)).toThrow(/^invalid reference format: repository name must be lowercase$/);
  });

  it('keeps uppercase where it is allowed: registry hosts and tags', () => {
    expect(referenceString(parseReference('Registry.Example.com/app:Tag'))).toBe('Registry.Example.com/app:Tag');
  });

  it('refuses a bare 64-hex name, and digests that are malformed', () => {
    expect(() => parseReference(HEX)).toThrow(`invalid repository name (${HEX}), cannot specify 64-byte hexadecimal strings`);
    expect(() => parseReference(`x@sha256:${'a'.repeat(63)}`)).toThrow('invalid checksum digest length');
    expect(() => parseReference(`x@md5:${'a'.repeat(32)}`)).toThrow('unsupported digest algorithm');
    expect(() => parseReference(`x@sha256:${'A'.repeat(64)}`)).toThrow('invalid checksum digest format');
  });

  it('checks tags given separately, as WithTag does', () => {
    expect(familiar(withTag(parseReference('me/app'), 'v2'))).toBe('me/app:v2');
    expect(() => withTag(parseReference('me/app'), 'bad tag')).toThrow('invalid tag format');
  });

  it('recognises full image IDs with and without the algorithm', () => {
    expect(asImageId(HEX)).toBe(`sha256:${HEX}`);
    expect(asImageId(`sha256:${HEX}`)).toBe(`sha256:${HEX}`);
    expect(asImageId('abc123')).toBeUndefined();
  });

  it('names what was asked for in "No such image" messages as Docker does', () => {
    expect(familiarName('nosuch')).toBe('nosuch:latest');
    expect(familiarName('docker.io/library/nosuch:2')).toBe('nosuch:2');
    expect(familiarName(HEX)).toBe(`sha256:${HEX}`);
    expect(familiarName('a:b:c')).toBe('a:b:c');
  });
});
