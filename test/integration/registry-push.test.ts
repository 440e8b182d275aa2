// Push to Debian's docker-registry on 127.0.0.1 with the real docker CLI: upload, skip, cross-repo
// mount, manifest checked by skopeo; delete, pull back, run; and a registry with htpasswd auth
// that refuses a push until `docker login`.
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxArchive } from '../helpers/busybox-image';
import { hasDocker, startDaemon, type TestDaemon, stopAndCheck } from '../helpers/daemon';
import { hasRegistry, hasSkopeo, skopeo, startRegistry, type TestRegistry } from '../helpers/registry';

describe.skipIf(!hasDocker || !hasRegistry || !hasSkopeo)('push to a registry', () => {
  let reg: TestRegistry;
  let secure: TestRegistry;
  let d: TestDaemon;
  let imageId: string;
  const LOCAL = 'berthpush/busybox:latest';

  beforeAll(async () => {
    reg = await startRegistry();
    secure = await startRegistry({ user: 'alice', password: 's3cret' });
    d = await startDaemon();
    const tar = join(d.dirs.base, 'busybox.tar');
    imageId = (await makeBusyboxArchive(tar, { repoTag: LOCAL })).imageId;
    expect(d.docker(['load', '-i', tar]).status).toBe(0);
  }, 60_000);

  afterAll(async () => {
    if (d) await stopAndCheck(d);
    await reg?.stop();
    await secure?.stop();
  });

  it('pushes an image that skopeo then reads and verifies', () => {
    const ref = `${reg.host}/test/pushme:v1`;
    expect(d.docker(['tag', LOCAL, ref]).status).toBe(0);
    const r = d.docker(['push', ref]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`The push refers to repository [${reg.host}/test/pushme]`);
    const last = lines[lines.length - 1];
    const m = /^v1: digest: (sha256:[0-9a-f]{64}) size: (\d+)$/.exec(last);
    expect(m).not.toBeNull();
    const info = JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${ref}`])) as { Digest: string; Layers: string[] };
    expect(info.Digest).toBe(m?.[1]);
    const cfg = JSON.parse(skopeo(['inspect', '--config', '--tls-verify=false', `docker://${ref}`])) as { rootfs: { diff_ids: string[] } };
    expect(cfg.rootfs.diff_ids).toHaveLength(1);
    // Docker names a pushed layer by its diffID.
    expect(lines).toContain(`${cfg.rootfs.diff_ids[0].slice(7, 19)}: Pushed`);
    // skopeo checks every blob against its digest while copying.
    skopeo(['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(d.dirs.base, 'oci-copy')}:v1`]);
    const [local] = JSON.parse(d.docker(['image', 'inspect', ref]).stdout) as Array<{ RepoDigests: string[] }>;
    expect(local.RepoDigests).toContain(`${reg.host}/test/pushme@${m?.[1]}`);
  });

  it('skips layers the registry has and mounts them from another repository', () => {
    const again = d.docker(['push', `${reg.host}/test/pushme:v1`]);
    expect(again.stdout).toMatch(/[0-9a-f]{12}: Layer already exists/);
    expect(again.stdout).not.toContain(': Pushed');
    const other = `${reg.host}/test/other:v1`;
    d.docker(['tag', LOCAL, other]);
    const r = d.docker(['push', other]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/[0-9a-f]{12}: Mounted from test\/pushme/);
  });

  it('pulls back what it pushed after deleting it, and runs it', () => {
    for (const ref of [LOCAL, `${reg.host}/test/pushme:v1`, `${reg.host}/test/other:v1`]) expect(d.docker(['rmi', ref]).status).toBe(0);
    expect(d.docker(['images', '-q']).stdout).toBe('');
    const ref = `${reg.host}/test/pushme:v1`;
    const pull = d.docker(['pull', ref]);
    expect(pull.stderr).toBe('');
    expect(pull.stdout).toContain('Pull complete');
    expect(JSON.parse(d.docker(['image', 'inspect', ref]).stdout)[0].Id).toBe(imageId);
    expect(d.docker(['run', '--rm', ref, 'echo', 'round trip']).stdout).toBe('round trip\n');
    expect(d.docker(['pull', ref]).stdout).toContain(`Status: Image is up to date for ${ref}`);
  });

  it('needs docker login for a registry with htpasswd auth', () => {
    const ref = `${secure.host}/private/busybox:v1`;
    d.docker(['tag', `${reg.host}/test/pushme:v1`, ref]);
    const denied = d.docker(['push', ref]);
    expect(denied.status).not.toBe(0);
    expect(denied.stderr).toContain('no basic auth credentials');
    const bad = d.docker(['login', '-u', 'alice', '--password-stdin', secure.host], { input: 'wrong\n' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain(`login attempt to http://${secure.host}/v2/ failed with status: 401 Unauthorized`);
    const good = d.docker(['login', '-u', 'alice', '--password-stdin', secure.host], { input: 's3cret\n' });
    expect(good.stdout).toContain('Login Succeeded');
    const config = JSON.parse(readFileSync(join(d.dirs.base, 'docker-config/config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(config.auths[secure.host].auth, 'base64').toString()).toBe('alice:s3cret');
    const pushed = d.docker(['push', ref]);
    expect(pushed.stderr).toBe('');
    expect(pushed.stdout).toMatch(/v1: digest: sha256:[0-9a-f]{64} size: \d+/);
    d.docker(['rmi', ref]);
    expect(d.docker(['pull', ref]).status).toBe(0);
    expect(d.docker(['logout', secure.host]).status).toBe(0);
    d.docker(['rmi', ref]);
    const anonymous = d.docker(['pull', ref]);
    expect(anonymous.status).not.toBe(0);
    expect(anonymous.stderr).toContain('no basic auth credentials');
    expect(existsSync(join(d.dirs.base, 'docker-config/config.json'))).toBe(true);
  });

  it('pushes every tag of a repository with --all-tags', () => {
    const repo = `${reg.host}/test/many`;
    for (const t of ['a', 'b']) expect(d.docker(['tag', `${reg.host}/test/pushme:v1`, `${repo}:${t}`]).status).toBe(0);
    const r = d.docker(['push', '--all-tags', repo]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^a: digest: sha256:[0-9a-f]{64} size: \d+$/m);
    expect(r.stdout).toMatch(/^b: digest: sha256:[0-9a-f]{64} size: \d+$/m);
    expect(JSON.parse(skopeo(['inspect', '--tls-verify=false', `docker://${repo}:b`])).Digest).toBe(/^a: digest: (sha256:[0-9a-f]{64})/m.exec(r.stdout)?.[1]);
  });

  it('reports push, pull and tag on the event stream with Docker\'s actor names', async () => {
    const until = Math.ceil(Date.now() / 1000) + 1;
    const res = await d.api('GET', `/events?since=0&until=${until}&filters=${encodeURIComponent(JSON.stringify({ type: ['image'] }))}`);
    const events = res.raw.trim().split('\n').map((l) => JSON.parse(l) as { Action: string; Actor: { ID: string } });
    expect(events.some((e) => e.Action === 'push' && e.Actor.ID === `${reg.host}/test/pushme:v1`)).toBe(true);
    expect(events.some((e) => e.Action === 'pull' && e.Actor.ID === `${reg.host}/test/pushme:v1`)).toBe(true);
    expect(events.some((e) => e.Action === 'tag' && e.Actor.ID === imageId)).toBe(true);
  });

  it('refuses to push an image that is not there', () => {
    const r = d.docker(['push', `${reg.host}/test/absent:v9`]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`An image does not exist locally with the tag: ${reg.host}/test/absent`);
  });
});
