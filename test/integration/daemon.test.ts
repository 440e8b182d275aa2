// berthd itself: one daemon per socket, a clean shutdown, state that survives a restart.
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxArchive } from '../helpers/busybox-image';
import { BERTHD, leftovers, ROOT, startDaemon, stopAndCheck, type TestDaemon } from '../helpers/daemon';

const IMG = 'berthdaemon/busybox:latest';

describe('berthd lifecycle', () => {
  let d: TestDaemon;

  beforeAll(async () => {
    d = await startDaemon();
    const tar = join(d.dataRoot, '..', 'busybox.tar');
    await makeBusyboxArchive(tar, { repoTag: IMG });
    expect(d.berth(['load', '-i', tar]).status).toBe(0);
  });

  afterAll(async () => {
    await d?.stop();
  });

  it('answers ping, version and info in Docker shapes', async () => {
    const ping = await d.api('GET', '/_ping');
    expect(ping.raw).toBe('OK');
    expect(ping.headers['api-version']).toBe('1.43');
    expect(ping.headers['ostype']).toBe('linux');
    expect(ping.headers['builder-version']).toBe('1');
    const head = await d.api('HEAD', '/_ping');
    expect(head.status).toBe(200);
    const version = await d.api<{ ApiVersion: string; MinAPIVersion: string; Os: string; BuildTime: string; Components: Array<{ Details: { BuildTime: string } }> }>('GET', '/v1.43/version');
    expect(version.body).toMatchObject({ ApiVersion: '1.43', MinAPIVersion: '1.24', Os: 'linux' });
    // dockerd's BuildTime form (RFC 3339 with nanoseconds), here when the daemon was compiled; the docker CLI shows it as Built.
    const built = statSync(join(ROOT, 'dist/daemon/server/routes/system.js')).mtime;
    expect(version.body.BuildTime).toBe(built.toISOString().replace(/\.(\d{3})Z$/, '.$1000000+00:00'));
    expect(version.body.Components[0].Details.BuildTime).toBe(version.body.BuildTime);
    expect(d.docker(['version', '--format', '{{.Server.BuildTime}}']).stdout.trim()).toBe(version.body.BuildTime);
    const info = await d.api<{ Containers: number; Images: number; Driver: string; CgroupVersion: string; NCPU: number; MemTotal: number }>('GET', '/info');
    expect(info.body.Images).toBe(1);
    expect(info.body.Driver).toBe('overlay2');
    expect(['1', '2']).toContain(info.body.CgroupVersion);
    expect(info.body.NCPU).toBeGreaterThan(0);
    const tooNew = await d.api<{ message: string }>('GET', '/v1.99/version');
    expect(tooNew.status).toBe(400);
    expect(tooNew.body.message).toBe('client version 1.99 is too new. Maximum supported API version is 1.43');
    const nowhere = await d.api<{ message: string }>('GET', '/v1.43/nowhere');
    expect(nowhere.status).toBe(404);
    expect(nowhere.body.message).toBe('page not found');
  });

  it("fills info from the host as dockerd does: cgroup features, their warnings, OS version, backing filesystem; the registry settings", async () => {
    const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
    const has = (p: string): boolean => existsSync(`/sys/fs/cgroup/${p}`);
    const info = (await d.api<Record<string, unknown>>('GET', '/info')).body;
    if (!v2) {
      expect(info).toMatchObject({ MemoryLimit: has('memory/memory.limit_in_bytes'), SwapLimit: has('memory/memory.memsw.limit_in_bytes'), OomKillDisable: has('memory/memory.oom_control'), CpuCfsQuota: has('cpu/cpu.cfs_quota_us'), CPUSet: has('cpuset/cpuset.cpus') });
      expect(info.KernelMemoryTCP).toBe(has('memory/memory.kmem.tcp.limit_in_bytes') ? true : undefined);
      expect((info.Warnings as string[]).includes('WARNING: No swap limit support')).toBe(!has('memory/memory.memsw.limit_in_bytes'));
    }
    const forwarding = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() === '1';
    expect((info.Warnings as string[]).includes('WARNING: IPv4 forwarding is disabled')).toBe(!forwarding);
    expect(info.OSVersion).toBe(/^VERSION_ID="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '');
    const magic = spawnSync('stat', ['-f', '-c', '%t', d.dataRoot], { encoding: 'utf8' }).stdout.trim();
    if (magic === 'ef53') expect((info.DriverStatus as string[][])[0]).toEqual(['Backing Filesystem', 'extfs']);
    expect(info.RegistryConfig).toEqual({
      AllowNondistributableArtifactsCIDRs: [],
      AllowNondistributableArtifactsHostnames: [],
      InsecureRegistryCIDRs: ['127.0.0.0/8'],
      IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } },
      Mirrors: [],
    });
    // The docker CLI's own rendering of what it got: its warnings go to stderr, as with dockerd.
    const cli = d.docker(['info']);
    for (const w of info.Warnings as string[]) expect(cli.stderr).toContain(w);
    const other = await startDaemon(undefined, { args: ['--insecure-registry', 'reg.example:5000', '--insecure-registry', '10.77.0.0/16', '--registry-mirror', 'https://mirror.example'] });
    try {
      expect(JSON.parse(other.docker(['info', '--format', '{{json .RegistryConfig}}']).stdout)).toMatchObject({
        InsecureRegistryCIDRs: ['10.77.0.0/16', '127.0.0.0/8'],
        IndexConfigs: { 'reg.example:5000': { Secure: false, Official: false }, 'docker.io': { Mirrors: ['https://mirror.example/'] } },
        Mirrors: ['https://mirror.example/'],
      });
      expect(other.docker(['info']).stdout).toContain(' Registry Mirrors:\n  https://mirror.example/\n');
    } finally {
      await stopAndCheck(other);
    }
  });

  it('refuses a second daemon on the same socket and pidfile', () => {
    const r = spawnSync(process.execPath, [BERTHD, '-H', `unix://${d.socket}`, '--pidfile', d.dirs.pidfile, '--data-root', d.dataRoot, '--exec-root', d.execRoot, '--bridge', d.bridge, '--bip', `${d.gateway}/24`, '--config-file', join(d.dirs.base, 'daemon.json')], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`pid file found, ensure berthd is not running or delete ${d.dirs.pidfile}`);
    expect(d.berth(['ps']).status).toBe(0);
  });

  it('refuses a bridge address that overlaps the network of a running daemon, and leaves no rules or bridge behind', () => {
    const base = mkdtempSync(join(tmpdir(), 'berth-test-'));
    const bridge = `${d.bridge.slice(0, 10)}x`;
    try {
      const r = spawnSync(process.execPath, [BERTHD, '-H', `unix://${base}/s.sock`, '--pidfile', `${base}/pid`, '--data-root', `${base}/data`, '--exec-root', `${base}/exec`, '--bridge', bridge, '--bip', `${d.gateway}/24`, '--cgroup-parent', `${d.cgroupParent}x`, '--config-file', join(d.dirs.base, 'daemon.json')], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`bridge address ${d.gateway}/24 overlaps ${d.bridge}'s network; choose another --bip`);
      for (const table of ['filter', 'nat']) expect(spawnSync('iptables', ['-t', table, '-S'], { encoding: 'utf8' }).stdout).not.toContain(`BERTH-${bridge}`);
      expect(spawnSync('ip', ['link', 'show', bridge]).status).not.toBe(0);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('stops containers on SIGTERM, leaves nothing behind, and remembers them after a restart', async () => {
    d.berth(['run', '-d', '--name', 'longrun', IMG, 'sh', '-c', 'echo before-shutdown; sleep 300']);
    d.berth(['run', '-d', '--name', 'polite', IMG, 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done']);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    await d.stop({ keep: true });
    // The polite one exits at once; the other gets SIGKILL after the 10 s stop timeout.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(9_000);
    expect(existsSync(d.socket)).toBe(false);
    expect(existsSync(d.dirs.pidfile)).toBe(false);
    expect(leftovers(d)).toEqual([]);

    d = await startDaemon(d.dirs);
    const status = d.berth(['ps', '-a', '--format', '{{.Names}} {{.Status}}']).stdout;
    expect(status).toMatch(/longrun Exited \(137\)/);
    expect(status).toMatch(/polite Exited \(0\)/);
    expect(d.berth(['logs', 'longrun']).stdout).toBe('before-shutdown\n');
    d.berth(['start', 'longrun']);
    expect(d.berth(['inspect', '-f', '{{.State.Running}}', 'longrun']).stdout.trim()).toBe('true');
    d.berth(['rm', '-f', 'longrun', 'polite']);
  }, 60_000);

  it('recovers after being killed: the container dies with it, the restart frees what it held', async () => {
    d.berth(['run', '-d', '--name', 'orphan', IMG, 'sleep', '300']);
    const pid = Number(d.berth(['inspect', '-f', '{{.State.Pid}}', 'orphan']).stdout.trim());
    expect(pid).toBeGreaterThan(0);
    d.proc.kill('SIGKILL');
    await new Promise((r) => d.proc.once('close', r));
    let alive = true;
    for (let i = 0; i < 50 && alive; i++) {
      alive = existsSync(`/proc/${pid}`);
      if (alive) await new Promise((r) => setTimeout(r, 100));
    }
    expect(alive).toBe(false);
    d = await startDaemon(d.dirs);
    expect(d.berth(['ps', '-a', '--format', '{{.Names}} {{.State}}']).stdout).toContain('orphan exited');
    d.berth(['rm', 'orphan']);
    await d.stop({ keep: true });
    expect(leftovers(d)).toEqual([]);
    d = await startDaemon(d.dirs);
  }, 60_000);
});
