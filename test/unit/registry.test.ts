// Pure parts of the registry client: challenges, X-Registry-Auth, endpoints, manifests, platforms.
import { describe, expect, it } from 'vitest';
import { credentials, decodeAuthHeader, parseChallenges } from '../../daemon/registry/auth';
import { endpointsFor, isInsecure } from '../../daemon/registry/endpoints';
import { registryError } from '../../daemon/registry/errors';
import { layerCompression, parseManifest, selectManifest } from '../../daemon/registry/manifest';
import { pullReference } from '../../daemon/server/routes/registry';

const D = (c: string): string => `sha256:${c.repeat(64)}`;

describe('registry auth', () => {
  it('parses bearer and basic challenges', () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
    ]);
    expect(parseChallenges(['Basic realm="berth-test"'])).toEqual([{ scheme: 'basic', params: { realm: 'berth-test' } }]);
    expect(parseChallenges(undefined)).toEqual([]);
  });

  it('decodes X-Registry-Auth (base64url JSON) and the auth field', () => {
    const header = Buffer.from(JSON.stringify({ username: 'u', password: 'p?>', serveraddress: 'r' })).toString('base64url');
    expect(credentials(decodeAuthHeader(header))).toEqual({ username: 'u', password: 'p?>' });
    expect(credentials({ auth: Buffer.from('me:se:cret').toString('base64') })).toEqual({ username: 'me', password: 'se:cret' });
    expect(decodeAuthHeader('not json')).toEqual({});
    expect(credentials(decodeAuthHeader('e30='))).toBeUndefined();
  });
});

describe('registry endpoints', () => {
  const cfg = { insecureRegistries: ['reg.lan:5000', '10.1.0.0/16'], registryMirrors: ['http://127.0.0.1:5001/'] };
  it('treats loopback and configured hosts as insecure', () => {
    expect(isInsecure('127.0.0.1:5000', cfg)).toBe(true);
    expect(isInsecure('127.8.9.1', cfg)).toBe(true);
    expect(isInsecure('localhost:1234', cfg)).toBe(true);
    expect(isInsecure('reg.lan:5000', cfg)).toBe(true);
    expect(isInsecure('10.1.7.7:443', cfg)).toBe(true);
    expect(isInsecure('10.2.0.1', cfg)).toBe(false);
    expect(isInsecure('quay.io', cfg)).toBe(false);
  });
  it('tries mirrors before Docker Hub', () => {
    expect(endpointsFor('docker.io', cfg).map((e) => e.url)).toEqual(['http://127.0.0.1:5001', 'https://registry-1.docker.io']);
    expect(endpointsFor('quay.io', cfg).map((e) => e.url)).toEqual(['https://quay.io']);
    expect(endpointsFor('127.0.0.1:5000', cfg).map((e) => e.url)).toEqual(['http://127.0.0.1:5000']);
  });
});

describe('manifests', () => {
  const index = Buffer.from(
    JSON.stringify({
      manifests: [
        { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: D('a'), size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
        { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: D('b'), size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: D('c'), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: D('d'), size: 1, platform: { os: 'windows', architecture: 'amd64' } },
      ],
    }),
  );
  it('selects the platform from a list', () => {
    const parsed = parseManifest(index, 'application/vnd.docker.distribution.manifest.list.v2+json');
    if (parsed.kind !== 'index') throw new Error('not an index');
    expect(selectManifest(parsed, { os: 'linux', architecture: 'amd64' }).digest).toBe(D('c'));
    expect(selectManifest(parsed, { os: 'linux', architecture: 'arm64', variant: 'v8' }).digest).toBe(D('b'));
    expect(() => selectManifest(parsed, { os: 'linux', architecture: 's390x' })).toThrow('no matching manifest for linux/s390x in the manifest list entries');
  });
  it('refuses bad descriptors, schema 1 and zstd', () => {
    expect(() => parseManifest(Buffer.from('{"config":{"digest":"sha256:xyz","size":1},"layers":[]}'), 'application/vnd.oci.image.manifest.v1+json')).toThrow('no valid sha256 digest');
    expect(() => parseManifest(Buffer.from('{}'), 'application/vnd.docker.distribution.manifest.v1+prettyjws')).toThrow('schema 1');
    expect(() => layerCompression('application/vnd.oci.image.layer.v1.tar+zstd')).toThrow('zstd');
    expect(layerCompression('application/vnd.oci.image.layer.v1.tar')).toBe('none');
  });
  it('renders registry errors as Docker does', () => {
    expect(registryError(404, 'Not Found', '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}', 'x').message).toBe('manifest unknown: manifest unknown');
    expect(registryError(401, 'Unauthorized', '', 'x').message).toBe('unauthorized: authentication required');
  });
  it('takes a digest in the tag parameter', () => {
    expect(pullReference('busybox', D('e'))).toEqual({ domain: 'docker.io', path: 'library/busybox', digest: D('e') });
    expect(pullReference('localhost:5000/a', 'v1')).toMatchObject({ domain: 'localhost:5000', path: 'a', tag: 'v1' });
    expect(() => pullReference('a:b:c', 'latest')).toThrow('invalid reference format');
  });
});

describe('terminal progress', () => {
  it('redraws a layer line in place and prints other lines plainly', async () => {
    const { TerminalProgress } = await import('../../client/progress');
    const t = new TerminalProgress();
    expect(t.render({ status: 'Pulling from x', id: 'latest' })).toBe('\x1b[2K\rlatest: Pulling from x\n');
    expect(t.render({ status: 'Pulling fs layer', progressDetail: {}, id: 'aaa' })).toBe('\n\x1b[1A\x1b[2K\raaa: Pulling fs layer\r\x1b[1B');
    expect(t.render({ status: 'Pulling fs layer', progressDetail: {}, id: 'bbb' })).toBe('\n\x1b[1A\x1b[2K\rbbb: Pulling fs layer\r\x1b[1B');
    expect(t.render({ status: 'Downloading', progressDetail: { current: 1, total: 2 }, progress: '[==>  ] 1B/2B', id: 'aaa' })).toBe('\x1b[2A\x1b[2K\raaa: Downloading [==>  ] 1B/2B\r\x1b[2B');
    expect(() => t.render({ error: 'boom' })).toThrow('boom');
  });
});
