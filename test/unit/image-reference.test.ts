import { describe, expect, it } from 'vitest';
import { familiar, familiarName, normalized, parseReference } from '../../daemon/images/reference';

describe('image references', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['docker.io/library/nginx', 'docker.io/library/nginx:latest', 'nginx:latest'],
    ['index.docker.io/library/nginx:1', 'docker.io/library/nginx:1', 'nginx:1'],
    ['kuangshen/centos', 'docker.io/kuangshen/centos:latest', 'kuangshen/centos:latest'],
    ['centos/mysql-57-centos7:latest', 'docker.io/centos/mysql-57-centos7:latest', 'centos/mysql-57-centos7:latest'],
    ['localhost:5000/x/y:t', 'localhost:5000/x/y:t', 'localhost:5000/x/y:t'],
    ['registry.example.com/app', 'registry.example.com/app:latest', 'registry.example.com/app:latest'],
    [`nginx@sha256:${'a'.repeat(64)}`, `docker.io/library/nginx@sha256:${'a'.repeat(64)}`, `nginx@sha256:${'a'.repeat(64)}`],
  ])('%s normalises to %s', (input, norm, fam) => {
    const r = parseReference(input);
    expect(normalized(r)).toBe(norm);
    expect(familiar(r)).toBe(fam);
  });

  it.each(['a:b:c', 'busybox:', ':tag', '', 'bad//name', 'x@sha256:short', '-leading', 'name:tag with space'])('rejects %j with invalid reference format', (input) => {
    expect(() => parseReference(input)).toThrow(/^invalid reference format$/);
  });

  it('names uppercase repositories as Docker does', () => {
    expect(() => parseReference('UPPER/case')).toThrow('invalid reference format: repository name (UPPER/case) must be lowercase');
    expect(() => parseReference('Busybox')).toThrow('invalid reference format: repository name (library/Busybox) must be lowercase');
  });

  it('gives familiar names for messages, leaving unparsable input as typed', () => {
    expect(familiarName('nosuch')).toBe('nosuch:latest');
    expect(familiarName('a:b:c')).toBe('a:b:c');
  });
});
