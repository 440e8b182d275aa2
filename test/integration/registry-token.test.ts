// Bearer token auth end to end: Debian's registry configured for token auth, a token server of
// the test's own on 127.0.0.1, and the docker CLI logging in, pushing and pulling through berth.
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxArchive } from '../helpers/busybox-image';
import { hasDocker, leftovers, startDaemon, type TestDaemon } from '../helpers/daemon';
import { hasRegistry, startRegistry, type TestRegistry } from '../helpers/registry';
import { startTokenServer, type TokenServer } from '../helpers/token-server';

describe.skipIf(!hasDocker || !hasRegistry)('registry token auth', () => {
  let dir: string;
  let tokens: TokenServer;
  let reg: TestRegistry;
  let d: TestDaemon;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-token-'));
    tokens = await startTokenServer(dir, { user: 'carol', password: 'tok3n', service: 'berth-registry', issuer: 'berth-issuer' });
    reg = await startRegistry({ token: { realm: tokens.realm, service: 'berth-registry', issuer: 'berth-issuer', certPath: tokens.certPath } });
    d = await startDaemon();
    const tar = join(d.dirs.base, 'busybox.tar');
    await makeBusyboxArchive(tar, { repoTag: `${reg.host}/team/app:1` });
    expect(d.docker(['load', '-i', tar]).status).toBe(0);
  });

  afterAll(async () => {
    if (d) {
      await d.stop();
      expect(leftovers(d)).toEqual([]);
    }
    await reg?.stop();
    await tokens?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an anonymous push, fetches a scoped token after login, pushes and pulls', () => {
    const ref = `${reg.host}/team/app:1`;
    const anonymous = d.docker(['push', ref]);
    expect(anonymous.status).not.toBe(0);
    expect(anonymous.stderr).toContain('unauthorized: authentication required');
    expect(tokens.requests().some((r) => r.scopes.includes('repository:team/app:pull,push') && !r.authorized)).toBe(true);

    const bad = d.docker(['login', '-u', 'carol', '--password-stdin', reg.host], { input: 'wrong\n' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('unauthorized: incorrect username or password');
    expect(d.docker(['login', '-u', 'carol', '--password-stdin', reg.host], { input: 'tok3n\n' }).stdout).toContain('Login Succeeded');

    const push = d.docker(['push', ref]);
    expect(push.stderr).toBe('');
    expect(push.stdout).toMatch(/1: digest: sha256:[0-9a-f]{64} size: \d+/);
    expect(tokens.requests().some((r) => r.account === 'carol' && r.authorized && r.scopes.includes('repository:team/app:pull,push'))).toBe(true);
    expect(d.docker(['rmi', ref]).status).toBe(0);
    const pull = d.docker(['pull', ref]);
    expect(pull.stderr).toBe('');
    expect(pull.stdout).toContain('Pull complete');
    expect(tokens.requests().some((r) => r.authorized && r.scopes.includes('repository:team/app:pull'))).toBe(true);
    expect(d.docker(['run', '--rm', ref, 'echo', 'token ok']).stdout).toBe('token ok\n');
  });
});
