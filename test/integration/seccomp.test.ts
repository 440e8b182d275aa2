// Seccomp and no-new-privileges through the real CLI: Docker's default filter on containers and
// their execs, seccomp=unconfined, a profile file, --privileged, and dockerd's refusals.
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiCall, hasDocker, startDaemonWithImage, stopAndCheck, type TestDaemon } from '../helpers/daemon';

const IMG = 'berthseccomp/busybox:latest';

describe.skipIf(!hasDocker)('seccomp (--security-opt)', () => {
  let d: TestDaemon;
  let dir: string;
  const status = (field: string, ...flags: string[]): string => {
    const r = d.docker(['run', '--rm', ...flags, IMG, 'grep', `^${field}:`, '/proc/self/status']);
    expect(r.stderr).toBe('');
    return r.stdout.split(':')[1]?.trim() ?? '';
  };

  beforeAll(async () => {
    d = await startDaemonWithImage(IMG);
    dir = mkdtempSync(join(tmpdir(), 'berth-test-seccomp-'));
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (d) await stopAndCheck(d);
  });

  it("filters containers and their execs with Docker's default profile, and docker info says so", () => {
    expect(status('Seccomp')).toBe('2');
    expect(d.docker(['run', '-d', '--name', 'filtered', '--stop-timeout', '0', IMG, 'sleep', '300']).status).toBe(0);
    const exec = d.docker(['exec', 'filtered', 'grep', '^Seccomp:', '/proc/self/status']);
    expect(exec.stdout.split(':')[1]?.trim()).toBe('2');
    const refused = d.docker(['exec', 'filtered', 'unshare', '-U', 'id']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/Operation not permitted/);
    d.docker(['rm', '-f', 'filtered']);
    const info = JSON.parse(d.docker(['info', '--format', '{{json .SecurityOptions}}']).stdout) as string[];
    expect(info).toEqual(['name=seccomp,profile=builtin']);
    // docker info's own rendering of it.
    expect(d.docker(['info']).stdout).toMatch(/Security Options:\n\s+seccomp\n\s+Profile: builtin\n/);
  });

  it('refuses unshare -U under the default profile and allows it unconfined; --privileged gets no filter', () => {
    const refused = d.docker(['run', '--rm', IMG, 'unshare', '-U', 'id']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/unshare\(0x10000000\): Operation not permitted|Operation not permitted/);
    const allowed = d.docker(['run', '--rm', '--security-opt', 'seccomp=unconfined', IMG, 'unshare', '-U', 'id']);
    expect(allowed.stderr).toBe('');
    expect(allowed.status).toBe(0);
    expect(allowed.stdout).toMatch(/^uid=65534/);
    expect(status('Seccomp', '--security-opt', 'seccomp=unconfined')).toBe('0');
    expect(status('Seccomp', '--privileged')).toBe('0');
    // Capabilities open the profile's rules: CAP_SYS_ADMIN may unshare.
    expect(d.docker(['run', '--rm', '--cap-add', 'SYS_ADMIN', IMG, 'unshare', '-U', 'true']).status).toBe(0);
  });

  it("applies a profile file the CLI sends, with the profile's errno, to the container and its execs", () => {
    const profile = join(dir, 'no-mkdir.json');
    writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 95 }] }, null, 2));
    const r = d.docker(['run', '--rm', '--security-opt', `seccomp=${profile}`, IMG, 'mkdir', '/tmp/x']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/can't create directory '\/tmp\/x': (Operation )?not supported/i);
    expect(d.docker(['run', '--rm', '--security-opt', `seccomp=${profile}`, IMG, 'touch', '/tmp/x']).status).toBe(0);
    expect(d.docker(['run', '-d', '--name', 'nomkdir', '--stop-timeout', '0', '--security-opt', `seccomp=${profile}`, IMG, 'sleep', '300']).status).toBe(0);
    expect(d.docker(['exec', 'nomkdir', 'mkdir', '/tmp/y']).stderr).toMatch(/not supported/i);
    // Inspect shows the option as sent: the CLI's compacted JSON.
    const hc = JSON.parse(d.docker(['inspect', 'nomkdir']).stdout)[0].HostConfig as { SecurityOpt: string[] };
    expect(hc.SecurityOpt).toEqual(['seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":95}]}']);
    d.docker(['rm', '-f', 'nomkdir']);
  });

  it('sets no_new_privs for no-new-privileges in its forms, for execs too, and filters non-root users either way', () => {
    expect(status('NoNewPrivs')).toBe('0');
    for (const opt of ['no-new-privileges', 'no-new-privileges=true', 'no-new-privileges:true']) expect(status('NoNewPrivs', '--security-opt', opt)).toBe('1');
    expect(status('NoNewPrivs', '--security-opt', 'no-new-privileges=false')).toBe('0');
    expect(d.docker(['run', '-d', '--name', 'nnp', '--stop-timeout', '0', '--security-opt', 'no-new-privileges', IMG, 'sleep', '300']).status).toBe(0);
    expect(d.docker(['exec', 'nnp', 'grep', '^NoNewPrivs:', '/proc/self/status']).stdout).toMatch(/NoNewPrivs:\s+1/);
    d.docker(['rm', '-f', 'nnp']);
    // The filter goes on before the uid change without no_new_privs, after it with.
    expect(status('Seccomp', '--user', '1000')).toBe('2');
    expect(status('Seccomp', '--user', '1000', '--security-opt', 'no-new-privileges')).toBe('2');
  });

  it("refuses bad options with dockerd's texts and creates nothing; label and apparmor are taken as on a host without them", async () => {
    const before = d.docker(['ps', '-aq']).stdout;
    const bad = d.docker(['run', '--rm', '--security-opt', 'foo=bar', IMG, 'true']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('Error response from daemon: invalid --security-opt 2: "foo=bar"');
    expect(d.docker(['ps', '-aq']).stdout).toBe(before);
    const create = (SecurityOpt: string[]) => apiCall<{ message?: string; Id?: string }>(d.socket, 'POST', '/containers/create', { Image: IMG, Cmd: ['true'], HostConfig: { SecurityOpt } });
    for (const [opt, message] of [
      ['label', 'invalid --security-opt 1: "label"'],
      ['no-new-privileges=maybe', 'invalid --security-opt 2: "no-new-privileges=maybe"'],
    ]) {
      const r = await create([opt]);
      expect([r.status, r.body.message]).toEqual([500, message]);
    }
    expect(d.docker(['ps', '-aq']).stdout).toBe(before);
    // A profile that does not parse fails the start (as dockerd's createSpec), the container stays created.
    const made = await create(['seccomp={"defaultAction":']);
    expect(made.status).toBe(201);
    const start = await apiCall<{ message: string }>(d.socket, 'POST', `/containers/${made.body.Id}/start`);
    expect(start.status).toBe(500);
    expect(start.body.message).toMatch(/^Decoding seccomp profile failed: /);
    expect(JSON.parse(d.docker(['inspect', made.body.Id as string]).stdout)[0].State.Status).toBe('created');
    d.docker(['rm', '-f', made.body.Id as string]);
    expect(d.docker(['run', '--rm', '--security-opt', 'label=disable', '--security-opt', 'apparmor=unconfined', IMG, 'true']).status).toBe(0);
    expect(d.docker(['create', '--name', 'opts', '--security-opt', 'label=disable', IMG, 'true']).status).toBe(0);
    expect(d.docker(['create', '--name', 'noopts', IMG, 'true']).status).toBe(0);
    const opts = (name: string): unknown => JSON.parse(d.docker(['inspect', name]).stdout)[0].HostConfig.SecurityOpt;
    expect([opts('opts'), opts('noopts')]).toEqual([['label=disable'], null]);
    d.docker(['rm', '-f', 'opts', 'noopts']);
  });
});
