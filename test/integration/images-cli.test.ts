// The berth client's image commands (pull, push, login/logout, save, export, commit, image prune,
// search) against a real berthd and Debian's registry, and the docker CLI's prune and delete
// conflicts, which must print the same.
import { existsSync, readFileSync, statSync } from 'fs';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxArchive } from '../helpers/busybox-image';
import { hasDocker, startDaemon, type TestDaemon, stopAndCheck } from '../helpers/daemon';
import { hasRegistry, startRegistry, type TestRegistry } from '../helpers/registry';

const IMG = 'berthcli/busybox:1';

describe.skipIf(!hasDocker || !hasRegistry)('image commands', () => {
  let d: TestDaemon;
  let reg: TestRegistry;
  let imageId: string;

  beforeAll(async () => {
    reg = await startRegistry({ user: 'bob', password: 'pw' });
    d = await startDaemon();
    const tar = join(d.dirs.base, 'busybox.tar');
    imageId = (await makeBusyboxArchive(tar, { repoTag: IMG })).imageId;
    expect(d.berth(['load', '-i', tar]).status).toBe(0);
  });

  afterAll(async () => {
    if (d) await stopAndCheck(d);
    await reg?.stop();
  });

  it('logs in, pushes, pulls and logs out', () => {
    const ref = `${reg.host}/cli/busybox:1`;
    expect(d.berth(['tag', IMG, ref]).status).toBe(0);
    expect(d.berth(['push', ref]).stderr).toContain('no basic auth credentials');
    const bad = d.berth(['login', '-u', 'bob', '--password-stdin', reg.host], { input: 'nope\n' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('401 Unauthorized');
    const login = d.berth(['login', '-u', 'bob', '--password-stdin', reg.host], { input: 'pw\n' });
    expect(login.stdout).toContain('Login Succeeded');
    const config = JSON.parse(readFileSync(join(d.dirs.base, 'docker-config/config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(config.auths[reg.host].auth, 'base64').toString()).toBe('bob:pw');
    // The docker CLI reads the same file: it pushes with berth's login.
    const push = d.docker(['push', ref]);
    expect(push.stderr).toBe('');
    expect(push.stdout).toMatch(/1: digest: sha256:[0-9a-f]{64} size: \d+/);
    expect(d.berth(['push', ref]).stdout).toContain('Layer already exists');
    expect(d.berth(['rmi', ref]).stdout).toBe(`Untagged: ${ref}\nUntagged: ${ref.replace(':1', '')}@${/digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1]}\n`);
    const pull = d.berth(['pull', ref]);
    expect(pull.stderr).toBe('');
    // The image is still here as IMG: nothing is downloaded, but the tag is new again.
    expect(pull.stdout).not.toContain('Pull complete');
    expect(pull.stdout).toContain(`Status: Downloaded newer image for ${ref}`);
    expect(d.berth(['pull', ref]).stdout).toContain(`Status: Image is up to date for ${ref}`);
    expect(d.berth(['logout', reg.host]).stdout).toBe(`Removing login credentials for ${reg.host}\n`);
    expect(d.berth(['logout', reg.host]).stdout).toBe(`Not logged in to ${reg.host}\n`);
    d.berth(['rmi', ref]);
    expect(d.berth(['pull', ref]).stderr).toContain('no basic auth credentials');
  });

  it('saves, commits and exports', () => {
    const saved = join(d.dirs.base, 'b.tar');
    expect(d.berth(['save', '-o', saved, IMG]).status).toBe(0);
    expect(statSync(saved).size).toBeGreaterThan(100_000);
    d.berth(['run', '--name', 'snap', IMG, 'sh', '-c', 'echo hi > /hi.txt; rm /etc/group']);
    const commit = d.berth(['commit', '-a', 'me', '-m', 'msg', '-c', 'CMD ["cat","/hi.txt"]', 'snap', 'berthcli/snap:2']);
    expect(commit.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(d.berth(['run', '--rm', 'berthcli/snap:2']).stdout).toBe('hi\n');
    expect(d.berth(['run', '--rm', 'berthcli/snap:2', 'sh', '-c', 'test -e /etc/group || echo gone']).stdout).toBe('gone\n');
    expect(d.docker(['inspect', '-f', '{{.Author}} {{.Comment}}', 'berthcli/snap:2']).stdout).toBe('me msg\n');
    const out = join(d.dirs.base, 'snap.tar');
    expect(d.berth(['export', '-o', out, 'snap']).status).toBe(0);
    expect(d.berth(['import', out, 'berthcli/flat:1']).status).toBe(0);
    expect(d.berth(['run', '--rm', 'berthcli/flat:1', 'cat', '/hi.txt']).stdout).toBe('hi\n');
    d.berth(['rm', 'snap']);
  });

  it('refuses to delete an image a container uses, unless forced, as dockerd words it', () => {
    const id = d.docker(['create', '--name', 'user', 'berthcli/flat:1', 'true']).stdout.trim();
    const rmi = d.docker(['rmi', 'berthcli/flat:1']);
    expect(rmi.status).not.toBe(0);
    const flatId = JSON.parse(d.docker(['image', 'inspect', 'berthcli/flat:1']).stdout)[0].Id as string;
    expect(rmi.stderr).toBe(`Error response from daemon: conflict: unable to remove repository reference "berthcli/flat:1" (must force) - container ${id.slice(0, 12)} is using its referenced image ${flatId.slice(7, 19)}\n`);
    expect(d.berth(['rmi', 'berthcli/flat:1']).stderr).toContain('(must force)');
    d.docker(['rm', 'user']);
    const ok = d.docker(['rmi', 'berthcli/flat:1']);
    expect(ok.stdout).toMatch(new RegExp(`^Untagged: berthcli/flat:1\\nDeleted: ${flatId}\\nDeleted: sha256:[0-9a-f]{64}\\n$`));
  });

  it('prunes dangling images, then all unused ones, keeping those in use', () => {
    // berthcli/snap:2 untagged by a second commit on the same tag becomes dangling.
    d.berth(['run', '--name', 'again', IMG, 'sh', '-c', 'echo 2 > /two']);
    const old = d.docker(['inspect', '-f', '{{.Id}}', 'berthcli/snap:2']).stdout.trim();
    d.berth(['commit', 'again', 'berthcli/snap:2']);
    expect(d.docker(['images', '-q', '--filter', 'dangling=true', '--no-trunc']).stdout).toBe(`${old}\n`);
    const prune = d.docker(['image', 'prune', '-f']);
    expect(prune.stdout).toMatch(new RegExp(`^Deleted Images:\\ndeleted: ${old}\\ndeleted: sha256:[0-9a-f]{64}\\n\\nTotal reclaimed space: \\d+B\\n$`));
    expect(d.docker(['images', '-q', '--filter', 'dangling=true']).stdout).toBe('');
    // IMG is used by the stopped container "again"; snap:2 is not.
    const all = d.berth(['image', 'prune', '-a', '-f']);
    expect(all.stdout).toContain('untagged: berthcli/snap:2');
    expect(all.stdout).not.toContain(`deleted: ${imageId}`);
    expect(d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout).toBe(`${IMG}\n`);
    expect(d.berth(['image', 'prune', '-f']).stdout).toBe('Total reclaimed space: 0B\n');
  });

  it('searches the index of the named registry, failing clearly when it has none', () => {
    // Debian's registry has no v1 search API: an honest 404 from 127.0.0.1, nothing sent elsewhere.
    const r = d.berth(['search', `${reg.host}/busybox`]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Unexpected status code 404');
    const bad = d.docker(['search', '--limit', '500', `${reg.host}/busybox`]);
    expect(bad.stderr).toContain('limit 500 is outside the range of [1, 100]');
    expect(existsSync(join(d.dirs.base, 'docker-config/config.json'))).toBe(true);
  });
});
