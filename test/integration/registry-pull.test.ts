// Pull from Debian's docker-registry on 127.0.0.1, images put there by skopeo (an independent
// implementation), driven by the real docker CLI: progress, digests, "Already exists", up to
// date, manifest lists, mirrors for Docker Hub names, run of a missing image, and bad cases.
import { createHash, randomBytes } from 'crypto';
import { request } from 'http';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxLayerEntries, makeArchive, makeLayerTar } from '../helpers/busybox-image';
import { hasDocker, startDaemon, type TestDaemon, stopAndCheck } from '../helpers/daemon';
import { freePort, hasRegistry, hasSkopeo, skopeo, startRegistry, type TestRegistry } from '../helpers/registry';

const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe.skipIf(!hasDocker || !hasRegistry || !hasSkopeo)('pull from a registry', () => {
  let reg: TestRegistry;
  let d: TestDaemon;
  let base: Buffer;
  let busyboxId: string;
  let work: string;

  /** Puts an archive's image into the registry with skopeo. */
  const put = (archive: Buffer, dest: string, extra: string[] = []): void => {
    const file = join(work, `${createHash('sha1').update(dest).digest('hex')}.tar`);
    writeFileSync(file, archive);
    skopeo(['copy', '--dest-tls-verify=false', ...extra, `docker-archive:${file}`, `docker://${dest}`]);
  };
  const layerDirs = (): string[] => readdirSync(join(d.dataRoot, 'layers')).filter((n) => !n.startsWith('tmp-'));

  beforeAll(async () => {
    reg = await startRegistry();
    d = await startDaemon(undefined, { config: { 'registry-mirrors': [reg.url] } });
    work = join(d.dirs.base, 'work');
    require('fs').mkdirSync(work);
    base = await makeLayerTar(busyboxLayerEntries());
    const top = await makeLayerTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/motd', content: 'second layer\n' }]);
    const one = await makeArchive([{ layers: [base], repoTags: ['x/busybox:latest'] }]);
    busyboxId = one.ids[0];
    put(one.archive, `${reg.host}/test/busybox:v1`);
    put(one.archive, `${reg.host}/test/busybox:v2`);
    put(one.archive, `${reg.host}/library/busybox:latest`);
    const two = await makeArchive([{ layers: [base, top], repoTags: ['x/two:latest'], config: { config: { Cmd: ['cat', '/etc/motd'] } } }]);
    put(two.archive, `${reg.host}/test/two:oci`, ['--format', 'oci']);
  }, 120_000);

  afterAll(async () => {
    if (d) await stopAndCheck(d);
    await reg?.stop();
  });

  it('pulls with progress, records the digest and runs the image', () => {
    const ref = `${reg.host}/test/busybox:v1`;
    const digest = JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${ref}`])).Digest as string;
    const r = d.docker(['pull', ref]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('v1: Pulling from test/busybox');
    expect(lines.some((l) => /^[0-9a-f]{12}: Pull complete$/.test(l))).toBe(true);
    expect(lines.slice(-3)).toEqual([`Digest: ${digest}`, `Status: Downloaded newer image for ${ref}`, ref]);
    const [info] = JSON.parse(d.docker(['image', 'inspect', ref]).stdout) as Array<{ Id: string; RepoTags: string[]; RepoDigests: string[] }>;
    expect(info.Id).toBe(busyboxId);
    expect(info.RepoTags).toEqual([ref]);
    expect(info.RepoDigests).toEqual([`${reg.host}/test/busybox@${digest}`]);
    const run = d.docker(['run', '--rm', ref, 'echo', 'pulled']);
    expect(run.stdout).toBe('pulled\n');
  });

  it('pulls by digest, and saves a pulled image as an archive that loads back the same', () => {
    const digest = JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${reg.host}/test/busybox:v1`])).Digest as string;
    const byDigest = `${reg.host}/test/busybox@${digest}`;
    const r = d.docker(['pull', byDigest]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`Status: Image is up to date for ${byDigest}`);
    expect(d.docker(['images', '--digests', '--format', '{{.Digest}}', `${reg.host}/test/busybox`]).stdout).toContain(digest);
    // The layer came gzip-compressed from the registry; the archive holds it uncompressed, as its diffID says.
    const out = join(work, 'pulled.tar');
    expect(d.docker(['save', '-o', out, `${reg.host}/test/busybox:v1`]).status).toBe(0);
    const inspected = JSON.parse(skopeo(['inspect', `docker-archive:${out}`])) as { Layers: string[] };
    expect(inspected.Layers).toEqual([sha(base)]);
    expect(d.docker(['rmi', '-f', busyboxId]).status).toBe(0);
    expect(d.docker(['load', '-i', out]).stdout).toBe(`Loaded image: ${reg.host}/test/busybox:v1\n`);
    expect(JSON.parse(d.docker(['image', 'inspect', `${reg.host}/test/busybox:v1`]).stdout)[0].Id).toBe(busyboxId);
    expect(d.docker(['pull', `${reg.host}/test/busybox:v1`]).stdout).toContain('Status: Image is up to date');
  });

  it('pulls again: up to date, nothing downloaded', () => {
    const r = d.docker(['pull', `${reg.host}/test/busybox:v1`]);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('Pull complete');
    expect(r.stdout).toContain(`Status: Image is up to date for ${reg.host}/test/busybox:v1`);
  });

  it('reuses present layers ("Already exists") and pulls OCI manifests', () => {
    const ref = `${reg.host}/test/two:oci`;
    const r = d.docker(['pull', ref]);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => /^[0-9a-f]{12}: Already exists$/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /^[0-9a-f]{12}: Pull complete$/.test(l))).toHaveLength(1);
    // skopeo's OCI conversion rewrites the config, so the image ID is its config digest.
    const manifest = JSON.parse(skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])) as { mediaType: string; config: { digest: string } };
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(JSON.parse(d.docker(['image', 'inspect', ref]).stdout)[0].Id).toBe(manifest.config.digest);
    expect(d.docker(['run', '--rm', ref]).stdout).toBe('second layer\n');
  });

  it('creates and runs a missing image by pulling it, as the docker CLI does on a 404', () => {
    const ref = `${reg.host}/test/busybox:v2`;
    const run = d.docker(['run', '--rm', ref, 'echo', 'auto']);
    expect(run.stderr).toContain(`Unable to find image '${ref}' locally`);
    expect(run.stderr).toContain(`Status: Downloaded newer image for ${ref}`);
    expect(run.stdout).toBe('auto\n');
  });

  it('pulls every tag with --all-tags', () => {
    const r = d.docker(['pull', '--all-tags', `${reg.host}/test/busybox`]);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines).toContain('v1: Pulling from test/busybox');
    expect(lines).toContain('v2: Pulling from test/busybox');
    expect(lines.filter((l) => l.startsWith('Digest: sha256:'))).toHaveLength(2);
    expect(lines.slice(-2)).toEqual([`Status: Image is up to date for ${reg.host}/test/busybox`, `${reg.host}/test/busybox`]);
    expect(d.docker(['images', '--format', '{{.Tag}}', `${reg.host}/test/busybox`]).stdout.split('\n').filter(Boolean).sort()).toEqual(['v1', 'v2']);
  });

  it('pulls Docker Hub names through the configured mirror', () => {
    const r = d.docker(['pull', 'busybox']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('latest: Pulling from library/busybox');
    expect(r.stdout.trim().split('\n').pop()).toBe('docker.io/library/busybox:latest');
    expect(d.docker(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', 'busybox']).stdout).toBe(`busybox:latest ${busyboxId.slice(7, 19)}\n`);
  });

  it('resolves a manifest list to linux/amd64', async () => {
    // An index with an arm64 entry first (the two-layer image's manifest, relabelled) and the amd64 busybox.
    const accept = 'application/vnd.docker.distribution.manifest.v2+json';
    const get = async (repo: string, tag: string): Promise<{ digest: string; size: number }> => {
      const res = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, { headers: { accept: `${accept}, application/vnd.oci.image.manifest.v1+json` } });
      const body = Buffer.from(await res.arrayBuffer());
      return { digest: sha(body), size: body.length };
    };
    const amd = await get('test/busybox', 'v1');
    const arm = await get('test/two', 'oci');
    // Blobs and manifests must live in the index's repository.
    skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${reg.host}/test/busybox:v1`, `docker://${reg.host}/test/multi:amd`]);
    skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--format', 'oci', `docker://${reg.host}/test/two:oci`, `docker://${reg.host}/test/multi:arm`]);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: arm.digest, size: arm.size, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
        { mediaType: accept, digest: amd.digest, size: amd.size, platform: { architecture: 'amd64', os: 'linux' } },
      ],
    });
    const put = await fetch(`${reg.url}/v2/test/multi/manifests/latest`, { method: 'PUT', headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' }, body: index });
    expect(put.status).toBe(201);
    const r = d.docker(['pull', `${reg.host}/test/multi`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`Digest: ${sha(index)}`);
    const [info] = JSON.parse(d.docker(['image', 'inspect', `${reg.host}/test/multi`]).stdout) as Array<{ Id: string; RepoDigests: string[] }>;
    expect(info.Id).toBe(busyboxId);
    expect(info.RepoDigests).toContain(`${reg.host}/test/multi@${sha(index)}`);
    // --platform picks another entry of the same index.
    const armConfig = (JSON.parse(skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/test/multi:arm`])) as { config: { digest: string } }).config.digest;
    const arm64 = d.docker(['pull', '--platform', 'linux/arm64', `${reg.host}/test/multi:latest`]);
    expect(arm64.stderr).toBe('');
    expect(JSON.parse(d.docker(['image', 'inspect', `${reg.host}/test/multi`]).stdout)[0].Id).toBe(armConfig);
    const none = d.docker(['pull', '--platform', 'linux/s390x', `${reg.host}/test/multi:latest`]);
    expect(none.stderr).toContain('no matching manifest for linux/s390x in the manifest list entries');
  });

  it('fails on an unknown tag with Docker\'s message and stores nothing', () => {
    const before = d.docker(['images', '-q']).stdout;
    const r = d.docker(['pull', `${reg.host}/test/busybox:nope`]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toBe(`Error response from daemon: manifest for ${reg.host}/test/busybox:nope not found: manifest unknown: manifest unknown\n`);
    expect(d.docker(['images', '-q']).stdout).toBe(before);
    expect(d.api('POST', `/images/create?fromImage=${reg.host}/test/busybox&tag=nope`).then((res) => res.status)).resolves.toBe(404);
  });

  it('fails within seconds when the registry is down', async () => {
    const port = await freePort();
    const t0 = Date.now();
    const r = d.docker(['pull', `127.0.0.1:${port}/test/busybox:v1`]);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`Get "http://127.0.0.1:${port}/v2/": dial tcp 127.0.0.1:${port}: connect: connection refused`);
  });

  it('refuses a blob whose content does not match its digest, keeping nothing', async () => {
    const layer = await makeLayerTar([{ name: 'corrupt.txt', content: 'x'.repeat(4096) }]);
    const { archive } = await makeArchive([{ layers: [base, layer], repoTags: ['x/bad:latest'] }]);
    put(archive, `${reg.host}/test/bad:latest`);
    const manifest = JSON.parse(skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/test/bad:latest`])) as { layers: Array<{ digest: string }> };
    const digest = manifest.layers[1].digest.slice(7);
    const data = join(reg.storage, 'docker/registry/v2/blobs/sha256', digest.slice(0, 2), digest, 'data');
    const bytes = readFileSync(data);
    bytes[bytes.length - 10] ^= 0xff;
    writeFileSync(data, bytes);
    expect(statSync(data).size).toBe(bytes.length);
    const layersBefore = layerDirs();
    const r = d.docker(['pull', `${reg.host}/test/bad:latest`]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`filesystem layer verification failed for digest sha256:${digest}`);
    expect(d.docker(['images', '-q', `${reg.host}/test/bad`]).stdout).toBe('');
    expect(layerDirs().sort()).toEqual(layersBefore.sort());
    expect(readdirSync(join(d.dataRoot, 'image/tmp'))).toEqual([]);
  });

  it('leaves nothing visible after a daemon killed in the middle of a pull', async () => {
    const big = (n: number): Promise<Buffer> => makeLayerTar([{ name: `big${n}.bin`, content: randomBytes(24 * 1024 * 1024) }]);
    const { archive } = await makeArchive([{ layers: [base, await big(1), await big(2)], repoTags: ['x/big:latest'] }]);
    put(archive, `${reg.host}/test/big:latest`);
    const layersBefore = layerDirs().sort();
    // Killed once the first big layer is in place, before the image is.
    await new Promise<void>((resolve, reject) => {
      const req = request({ socketPath: d.socket, method: 'POST', path: `/images/create?fromImage=${reg.host}/test/big&tag=latest` }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
          if (text.includes('Pull complete') && d.proc.exitCode === null) {
            d.proc.kill('SIGKILL');
            resolve();
          }
        });
        res.on('error', () => undefined);
        res.on('end', () => reject(new Error(`the pull ended before it could be interrupted: ${text}`)));
      });
      req.on('error', () => undefined);
      req.end();
    });
    await new Promise((r) => (d.proc.exitCode === null && d.proc.signalCode === null ? d.proc.once('close', r) : r(undefined)));
    d = await startDaemon(d.dirs, { config: { 'registry-mirrors': [reg.url] } });
    expect(d.docker(['images', '-q', `${reg.host}/test/big`]).stdout).toBe('');
    expect(layerDirs().sort()).toEqual(layersBefore);
    expect(readdirSync(join(d.dataRoot, 'layers')).filter((n) => n.startsWith('tmp-'))).toEqual([]);
    expect(readdirSync(join(d.dataRoot, 'image/tmp'))).toEqual([]);
    // And the pull works after the restart.
    expect(d.docker(['pull', `${reg.host}/test/big:latest`]).status).toBe(0);
    expect(d.docker(['run', '--rm', `${reg.host}/test/big:latest`, 'sh', '-c', 'wc -c < /big2.bin']).stdout.trim()).toBe(String(24 * 1024 * 1024));
  }, 120_000);

  it('refuses malformed references with 400 invalid reference format', async () => {
    const res = await d.api('POST', '/images/create?fromImage=a:b:c&tag=latest');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ message: 'invalid reference format' });
  });
});
