// The foundation, end to end: a real berthd, a busybox image built here, driven by the real docker CLI.
import { spawnSync } from 'child_process';
import { readdirSync, readFileSync, readlinkSync, existsSync } from 'fs';
import { hostname } from 'os';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxArchive } from '../helpers/busybox-image';
import { hasDocker, leftovers, startDaemon, type TestDaemon } from '../helpers/daemon';

const IMG = 'berthtest/busybox:1';

describe.skipIf(!hasDocker)('containers through the docker CLI', () => {
  let d: TestDaemon;

  beforeAll(async () => {
    d = await startDaemon();
    const tar = join(d.dataRoot, '..', 'busybox.tar');
    await makeBusyboxArchive(tar, { repoTag: IMG });
    const load = d.docker(['load', '-i', tar]);
    expect(load.stderr).toBe('');
    expect(load.stdout).toContain(`Loaded image: ${IMG}`);
  });

  afterAll(async () => {
    if (!d) return;
    d.docker(['rm', '-f', ...d.docker(['ps', '-aq']).stdout.split('\n').filter(Boolean)]);
    await d.stop();
    const left = leftovers(d);
    if (left.length) require('fs').writeFileSync('/tmp/daemon-out.log', d.output());
    expect(left).toEqual([]);
  });

  it('runs a command and prints its output', () => {
    const r = d.docker(['run', '--rm', IMG, 'echo', 'hi']);
    expect(r.stdout).toBe('hi\n');
    expect(r.status).toBe(0);
  });

  it('passes exit codes through, 127 for a missing and 126 for a non-executable command', () => {
    expect(d.docker(['run', '--rm', IMG, 'sh', '-c', 'exit 3']).status).toBe(3);
    const missing = d.docker(['run', '--rm', IMG, 'nosuchcmd']);
    expect(missing.status).toBe(127);
    // dockerd 23+ with runc 1.1 words it so, the containerd shim and runc steps named.
    expect(missing.stderr).toContain(
      'Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "nosuchcmd": executable file not found in $PATH: unknown',
    );
    const noexec = d.docker(['run', '--rm', IMG, '/etc/passwd']);
    expect(noexec.status).toBe(126);
    expect(noexec.stderr).toContain('permission denied');
  });

  it('gives the command PID 1, its own hostname and the 12-hex short ID as hostname', () => {
    const r = d.docker(['run', '--name', 'hostcheck', IMG, 'sh', '-c', 'echo $$; hostname; cat /etc/hostname']);
    const id = d.docker(['inspect', '-f', '{{.Id}}', 'hostcheck']).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stdout).toBe(`1\n${id.slice(0, 12)}\n${id.slice(0, 12)}\n`);
    d.docker(['rm', 'hostcheck']);
  });

  it("has an empty /.dockerenv (0755) in the root, as dockerd's init layer, that diff leaves out", () => {
    const r = d.docker(['run', '--name', 'envmark', IMG, 'sh', '-c', 'stat -c "%s %a %F" /.dockerenv; ls -a /']);
    expect(r.stdout.split('\n')[0]).toBe('0 755 regular empty file');
    expect(r.stdout.split('\n')).toContain('.dockerenv');
    expect(d.docker(['diff', 'envmark']).stdout).toBe('');
    d.docker(['rm', 'envmark']);
  });

  it('writes --sysctl keys into the container namespaces only, and refuses host-namespace ones before starting', () => {
    const host = readFileSync('/proc/sys/net/core/somaxconn', 'utf8');
    const r = d.docker(['run', '--rm', '--sysctl', 'net.core.somaxconn=1000', '--sysctl', 'kernel.shmmax=123456', IMG, 'cat', '/proc/sys/net/core/somaxconn', '/proc/sys/kernel/shmmax']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1000\n123456\n');
    expect(readFileSync('/proc/sys/net/core/somaxconn', 'utf8')).toBe(host);
    const refused = d.docker(['run', '--rm', '--network', 'host', '--sysctl', 'net.core.somaxconn=1000', IMG, 'true']);
    expect(refused.status).toBe(125);
    expect(refused.stderr).toContain('sysctl "net.core.somaxconn" not allowed in host network namespace');
    const missing = d.docker(['run', '--rm', '--sysctl', 'net.core.nosuchkey=1', IMG, 'true']);
    expect(missing.stderr).toContain('write sysctl key net.core.nosuchkey: open /proc/sys/net/core/nosuchkey: no such file or directory');
  });

  it('applies env, workdir and user (by uid and by name)', () => {
    const r = d.docker(['run', '--rm', '-e', 'GREETING=hello', '-w', '/tmp/work', '-u', '1000', IMG, 'sh', '-c', 'echo $GREETING; pwd; id -u; echo $HOME']);
    expect(r.stdout).toBe('hello\n/tmp/work\n1000\n/home/berthuser\n');
    const byName = d.docker(['run', '--rm', '-u', 'berthuser', IMG, 'id']);
    expect(byName.stdout.trim()).toBe('uid=1000(berthuser) gid=1000(berthuser) groups=1000(berthuser)');
    const unknown = d.docker(['run', '--rm', '-u', 'nobodyhere', IMG, 'id']);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain('unable to find user nobodyhere');
  });

  it('gives each container its own writable layer', () => {
    expect(d.docker(['run', '--rm', IMG, 'sh', '-c', 'echo x > /made-here && cat /made-here']).stdout).toBe('x\n');
    const next = d.docker(['run', '--rm', IMG, 'ls', '/made-here']);
    expect(next.status).not.toBe(0);
    expect(next.stderr).toContain('No such file or directory');
  });

  it('lists and inspects containers as Docker does', () => {
    const run = d.docker(['run', '-d', '--name', 'web', IMG, 'sleep', '300']);
    expect(run.status).toBe(0);
    const id = run.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const ps = d.docker(['ps']).stdout.split('\n');
    expect(ps[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    const row = ps.find((l) => l.startsWith(id.slice(0, 12)));
    expect(row).toMatch(new RegExp(`^${id.slice(0, 12)}   ${IMG.replace('/', '\\/')}   "sleep 300"   .* ago +Up .+ +web$`));
    expect(d.docker(['ps', '-q']).stdout).toContain(id.slice(0, 12));
    const [info] = JSON.parse(d.docker(['inspect', 'web']).stdout) as Array<Record<string, unknown>>;
    expect(Object.keys(info).slice(0, 8)).toEqual(['Id', 'Created', 'Path', 'Args', 'State', 'Image', 'ResolvConfPath', 'HostnamePath']);
    const state = info.State as Record<string, unknown>;
    expect(state.Status).toBe('running');
    expect(state.Pid).toBeGreaterThan(1);
    expect(info.Name).toBe('/web');
    expect(info.Path).toBe('sleep');
    expect(info.Args).toEqual(['300']);
    const net = info.NetworkSettings as Record<string, unknown>;
    expect(net.IPAddress).toMatch(new RegExp(`^${d.subnetPrefix.replace(/\./g, '\\.')}\\.\\d+$`));
    expect(net.MacAddress).toBe('02:42:' + (net.IPAddress as string).split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(':'));
    // by short ID and by name
    expect(d.docker(['inspect', '-f', '{{.Name}}', id.slice(0, 5)]).stdout.trim()).toBe('/web');
    d.docker(['rm', '-f', 'web']);
  });

  it('stops with SIGTERM then SIGKILL and reports 137, kill reports the signal', () => {
    d.docker(['run', '-d', '--name', 'stopme', IMG, 'sleep', '300']);
    const t0 = Date.now();
    expect(d.docker(['stop', '-t', '1', 'stopme']).stdout.trim()).toBe('stopme');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(d.docker(['inspect', '-f', '{{.State.ExitCode}} {{.State.Status}}', 'stopme']).stdout.trim()).toBe('137 exited');
    expect(d.docker(['ps', '-a', '--filter', 'name=stopme', '--format', '{{.Status}}']).stdout).toMatch(/^Exited \(137\) (Less than a second|\d+ seconds?) ago\n$/);

    d.docker(['run', '-d', '--name', 'trapper', IMG, 'sh', '-c', 'trap "exit 42" TERM; echo trapping; while true; do sleep 0.1; done']);
    // A SIGTERM before the shell has set its trap would kill it (137), under load that happens.
    for (let i = 0; i < 100 && !d.docker(['logs', 'trapper']).stdout.includes('trapping'); i++) spawnSync('sleep', ['0.05']);
    d.docker(['stop', 'trapper']);
    expect(d.docker(['inspect', '-f', '{{.State.ExitCode}}', 'trapper']).stdout.trim()).toBe('42');

    d.docker(['start', 'stopme']);
    d.docker(['kill', 'stopme']);
    expect(d.docker(['wait', 'stopme']).stdout.trim()).toBe('137');
    d.docker(['rm', 'stopme', 'trapper']);
  });

  it('writes the memory, CPU and pids limits into the container cgroup', () => {
    const id = d.docker(['run', '-d', '-m', '64m', '--cpus', '0.5', '--pids-limit', '50', IMG, 'sleep', '300']).stdout.trim();
    const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
    if (v2) {
      expect(readFileSync(`/sys/fs/cgroup/${d.cgroupParent}/${id}/memory.max`, 'utf8').trim()).toBe('67108864');
      expect(readFileSync(`/sys/fs/cgroup/${d.cgroupParent}/${id}/cpu.max`, 'utf8').trim()).toBe('50000 100000');
    } else {
      expect(readFileSync(`/sys/fs/cgroup/memory/${d.cgroupParent}/${id}/memory.limit_in_bytes`, 'utf8').trim()).toBe('67108864');
      expect(readFileSync(`/sys/fs/cgroup/cpu/${d.cgroupParent}/${id}/cpu.cfs_quota_us`, 'utf8').trim()).toBe('50000');
      expect(readFileSync(`/sys/fs/cgroup/pids/${d.cgroupParent}/${id}/pids.max`, 'utf8').trim()).toBe('50');
      const pid = d.docker(['inspect', '-f', '{{.State.Pid}}', id]).stdout.trim();
      expect(readFileSync(`/sys/fs/cgroup/memory/${d.cgroupParent}/${id}/cgroup.procs`, 'utf8')).toContain(pid);
    }
    d.docker(['rm', '-f', id]);
    expect(existsSync(`/sys/fs/cgroup/memory/${d.cgroupParent}/${id}`)).toBe(false);
  });

  it('reports an OOM kill by the memory limit', () => {
    const r = d.docker(['run', '--name', 'hog', '-m', '8m', IMG, 'sh', '-c', 'x=$(head -c 50000000 /dev/zero | tr "\\0" a); echo survived']);
    expect(r.stdout).not.toContain('survived');
    expect(r.status).toBe(137);
    expect(d.docker(['inspect', '-f', '{{.State.OOMKilled}} {{.State.ExitCode}}', 'hog']).stdout.trim()).toBe('true 137');
    d.docker(['rm', 'hog']);
  });

  it('rejects limits Docker rejects, and clamps CPU shares', async () => {
    const swap = d.docker(['create', '-m', '64m', '--memory-swap', '32m', IMG]);
    expect(swap.stderr).toContain('Minimum memoryswap limit should be larger than memory limit');
    const cpus = await d.api<{ message: string }>('POST', '/containers/create', { Image: IMG, HostConfig: { NanoCpus: 1000 } });
    expect(cpus.status).toBe(400);
    expect(cpus.body.message).toMatch(/^Range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available$/);
    const id = d.docker(['run', '-d', '--cpu-shares', '1', IMG, 'sleep', '30']).stdout.trim();
    expect(d.docker(['inspect', '-f', '{{.HostConfig.CpuShares}} {{.State.Running}}', id]).stdout.trim()).toBe('2 true');
    d.docker(['rm', '-f', id]);
  });

  it('puts the container on the bridge where the host can reach it', () => {
    const id = d.docker(['run', '-d', IMG, 'sleep', '300']).stdout.trim();
    const ip = d.docker(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', id]).stdout.trim();
    const ping = spawnSync('/bin/busybox', ['ping', '-c', '1', '-W', '2', ip], { encoding: 'utf8' });
    expect(ping.stdout).toContain('1 packets received');
    const inside = d.docker(['run', '--rm', IMG, 'ip', '-o', '-4', 'addr']).stdout;
    expect(inside).toMatch(/1: lo\s+inet 127\.0\.0\.1\/8/);
    expect(inside).toMatch(new RegExp(`eth0\\s+inet ${d.subnetPrefix.replace(/\./g, '\\.')}\\.\\d+/24`));
    expect(d.docker(['run', '--rm', IMG, 'ip', 'route']).stdout).toContain(`default via ${d.gateway} dev eth0`);
    d.docker(['rm', '-f', id]);
  });

  it('starts a container from a spare init that waits in a PID namespace of its own', async () => {
    const daemon = d.proc.pid as number;
    // Children of the daemon running the init with no argument (exec spares carry their bounding set).
    const spares = (): number[] =>
      readdirSync('/proc')
        .filter((e) => /^\d+$/.test(e))
        .filter((pid) => {
          try {
            return /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] === String(daemon) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').endsWith('runtime/init.bundle.js\0');
          } catch {
            return false; // gone meanwhile
          }
        })
        .map(Number);
    let waiting: number[] = [];
    for (const end = Date.now() + 10_000; waiting.length === 0 && Date.now() < end; await new Promise((r) => setTimeout(r, 50))) waiting = spares();
    expect(waiting).toHaveLength(1);
    const [spare] = waiting;
    expect(readlinkSync(`/proc/${spare}/ns/pid`)).not.toBe(readlinkSync(`/proc/${daemon}/ns/pid`));
    expect(d.docker(['run', '-d', '--name', 'fromspare', IMG, 'sleep', '30']).status).toBe(0);
    // The container's process is the spare itself, exec'd into the command as PID 1 of its namespace.
    expect(Number(d.docker(['inspect', '-f', '{{.State.Pid}}', 'fromspare']).stdout)).toBe(spare);
    expect(readFileSync(`/proc/${spare}/cmdline`, 'utf8')).toBe('sleep\x0030\x00');
    expect(readFileSync(`/proc/${spare}/status`, 'utf8')).toMatch(/^NSpid:\s+\d+\s+1$/m);
    // At the daemon's priority, not the spare's boot one.
    expect(readFileSync(`/proc/${spare}/stat`, 'utf8').split(') ')[1].split(' ')[16]).toBe(readFileSync(`/proc/${daemon}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
    d.docker(['rm', '-f', 'fromspare']);
  });

  it("passes a container and its execs no descriptor beyond stdio, not even the daemon's inherited fd 40", () => {
    // `ls` lists its own descriptor of the directory as 3.
    expect(d.docker(['run', '--rm', IMG, 'ls', '/proc/self/fd']).stdout.split('\n').filter(Boolean)).toEqual(['0', '1', '2', '3']);
    expect(d.docker(['run', '-d', '--name', 'fds', IMG, 'sleep', '30']).status).toBe(0);
    expect(d.docker(['exec', 'fds', 'ls', '/proc/self/fd']).stdout.split('\n').filter(Boolean)).toEqual(['0', '1', '2', '3']);
    expect(d.docker(['exec', '-t', 'fds', 'ls', '-1', '/proc/self/fd']).stdout.split(/\r?\n/).filter(Boolean)).toEqual(['0', '1', '2', '3']);
    d.docker(['rm', '-f', 'fds']);
  });

  it('supports --network none and --network host', () => {
    const none = d.docker(['run', '--rm', '--network', 'none', IMG, 'ip', '-o', 'link']).stdout.trim().split('\n');
    expect(none).toHaveLength(1);
    expect(none[0]).toMatch(/lo: <LOOPBACK,UP,LOWER_UP>/);
    // On a bridge, lo comes up with the endpoint's own configuration.
    const bridged = d.docker(['run', '--rm', IMG, 'ip', '-o', 'link']).stdout.trim().split('\n');
    expect(bridged[0]).toMatch(/lo: <LOOPBACK,UP,LOWER_UP>/);
    expect(bridged[1]).toMatch(/eth0@if\d+: <BROADCAST,MULTICAST,UP,LOWER_UP/);
    const host = d.docker(['run', '--rm', '--network', 'host', IMG, 'sh', '-c', 'hostname; ip -o link']).stdout;
    expect(host.split('\n')[0]).toBe(hostname());
    expect(host).toContain(`${d.bridge}:`);
  });

  it('shows logs of a finished container', () => {
    d.docker(['run', '--name', 'talker', IMG, 'sh', '-c', 'echo out; echo err >&2']);
    const logs = d.docker(['logs', 'talker']);
    expect(logs.stdout).toBe('out\n');
    expect(logs.stderr).toBe('err\n');
    d.docker(['rm', 'talker']);
  });

  it('removes --rm containers when they exit and refuses to remove running ones', () => {
    d.docker(['run', '--rm', '--name', 'ephemeral', IMG, 'true']);
    expect(d.docker(['ps', '-a', '--format', '{{.Names}}']).stdout).not.toContain('ephemeral');
    d.docker(['run', '-d', '--name', 'busy', IMG, 'sleep', '300']);
    const rm = d.docker(['rm', 'busy']);
    expect(rm.status).toBe(1);
    expect(rm.stderr).toContain('cannot remove container "/busy": container is running');
    expect(d.docker(['rm', '-f', 'busy']).stdout.trim()).toBe('busy');
  });

  it('answers bad input with Docker errors and creates nothing', async () => {
    const before = d.docker(['ps', '-aq']).stdout;
    const noImage = d.docker(['create', 'nosuchimage']);
    expect(noImage.status).not.toBe(0);
    expect(noImage.stderr).toContain('nosuchimage');
    const bad = await d.api('POST', '/v1.43/containers/create', '{"Image": ');
    expect(bad.status).toBe(400);
    expect(typeof (bad.body as { message: string }).message).toBe('string');
    const wrongType = await d.api('POST', '/containers/create', { Image: IMG, Cmd: 42 });
    expect(wrongType.status).toBe(400);
    const unknown = await d.api<{ message: string }>('POST', '/containers/create', { Image: 'nosuch:tag' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe('No such image: nosuch:tag');
    const badName = await d.api<{ message: string }>('POST', '/containers/create?name=-bad', { Image: IMG });
    expect(badName.status).toBe(400);
    expect(badName.body.message).toBe('Invalid container name (-bad), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed');
    const lowMem = d.docker(['create', '-m', '4m', IMG]);
    expect(lowMem.stderr).toContain('Minimum memory limit allowed is 6MB');
    d.docker(['create', '--name', 'taken', IMG]);
    const dup = d.docker(['create', '--name', 'taken', IMG]);
    expect(dup.stderr).toMatch(/Conflict\. The container name "\/taken" is already in use by container "[0-9a-f]{64}"/);
    d.docker(['rm', 'taken']);
    expect(d.docker(['ps', '-aq']).stdout).toBe(before);
    const missing = await d.api<{ message: string }>('GET', '/containers/nosuch/json');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('No such container: nosuch');
  });
});
