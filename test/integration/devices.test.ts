// The device cgroup, --device, --device-cgroup-rule and --privileged through the real CLI: what a
// container may open and create, the nodes it gets, and dockerd's refusals.
import { lstatSync, readFileSync } from 'fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasDocker, startDaemonWithImage, stopAndCheck, type TestDaemon } from '../helpers/daemon';

const IMG = 'berthdevices/busybox:latest';
const EPERM = 'Operation not permitted';
/** A major no driver has: once the cgroup lets an open through, the kernel finds no device. */
const ENXIO = 'No such device or address';
/** What this process (and so the daemon it starts) holds. */
const held = /^CapPrm:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1];

/** "major:minor mode uid:gid" as busybox stat prints it (%t:%T in hex), from the host's node. */
function hostNode(path: string): string {
  const st = lstatSync(path);
  const major = Math.floor(st.rdev / 256) & 0xfff;
  const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & ~0xff);
  return `${major.toString(16)}:${minor.toString(16)} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
}

describe.skipIf(!hasDocker)('devices (device cgroup, --device, --device-cgroup-rule, --privileged)', () => {
  let d: TestDaemon;
  const sh = (flags: string[], script: string) => d.docker(['run', '--rm', ...flags, IMG, 'sh', '-c', script]);

  beforeAll(async () => {
    d = await startDaemonWithImage(IMG);
  });

  afterAll(async () => {
    if (d) await stopAndCheck(d);
  });

  it('lets a container create any node but open only the standard devices', () => {
    // mknod itself is allowed (runc's "c *:* m", "b *:* m"); opening what it made is not.
    const blk = sh([], 'mknod /tmp/loop b 7 0 && echo made; head -c1 /tmp/loop');
    expect(blk.stdout).toBe('made\n');
    expect(blk.stderr).toContain(`/tmp/loop: ${EPERM}`);
    const chr = sh([], 'mknod /tmp/lc c 10 237 && : < /tmp/lc');
    expect(chr.stderr).toContain(EPERM);
    expect(chr.status).not.toBe(0);
    // The standard ones, and a node made for one of their numbers, open.
    const ok = sh([], 'echo x > /dev/null && head -c3 /dev/zero | wc -c && head -c5 /dev/urandom | wc -c && head -c2 /dev/random | wc -c && exec 3<>/dev/ptmx && mknod /tmp/null c 1 3 && echo y > /tmp/null && echo ok');
    expect(ok.stderr).toBe('');
    expect(ok.stdout.split(/\s+/).filter(Boolean)).toEqual(['3', '5', '2', 'ok']);
    // /dev/tty passes the cgroup; without a terminal the tty driver itself refuses it.
    expect(sh([], ': < /dev/tty').stderr).toContain(ENXIO);
    expect(d.docker(['run', '--rm', '-t', IMG, 'sh', '-c', 'echo hi > /dev/tty']).stdout).toContain('hi');
  });

  it('writes Docker\'s rules to the v1 devices cgroup and keeps them across docker update', () => {
    expect(d.docker(['run', '-d', '--name', 'upd', '--stop-timeout', '0', IMG, 'sleep', '300']).status).toBe(0);
    const id = d.docker(['inspect', '-f', '{{.Id}}', 'upd']).stdout.trim();
    const list = () => readFileSync(`/sys/fs/cgroup/devices/${d.cgroupParent}/${id}/devices.list`, 'utf8').trim().split('\n').sort();
    const want = ['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:8 rwm', 'c 1:7 rwm', 'c 5:0 rwm', 'c 1:5 rwm', 'c 1:9 rwm', 'c 136:* rwm', 'c 5:2 rwm', 'c 10:200 rwm'].sort();
    expect(list()).toEqual(want);
    expect(d.docker(['update', '--memory', '64m', '--memory-swap', '128m', '--pids-limit', '50', 'upd'])).toMatchObject({ status: 0, stderr: '' });
    expect(list()).toEqual(want);
    // An exec is held to them too.
    const ex = d.docker(['exec', 'upd', 'sh', '-c', 'mknod /tmp/loop b 7 0; head -c1 /tmp/loop']);
    expect(ex.stderr).toContain(EPERM);
    d.docker(['rm', '-f', 'upd']);
  });

  it('creates --device nodes with the host node\'s numbers, mode and owner, and lets them open', () => {
    const r = sh(['--device', '/dev/loop-control', '--device', '/dev/loop-control:/dev/lc', '--device', '/dev/null:/dev/mynull'], "stat -c '%t:%T %a %u:%g' /dev/loop-control /dev/lc && exec 3<>/dev/lc && echo x > /dev/mynull && echo opened");
    expect(r.stderr).toBe('');
    const node = hostNode('/dev/loop-control');
    expect(r.stdout).toBe(`${node}\n${node}\nopened\n`);
    // berth's own CLI sends the same mapping and rule.
    const own = d.berth(['run', '--rm', '--device', '/dev/loop-control:/dev/lc:r', '--device-cgroup-rule', 'c 42:* r', IMG, 'sh', '-c', "stat -c '%t:%T %a %u:%g' /dev/lc; true < /dev/lc && echo read; true > /dev/lc; mknod /tmp/d42 c 42 0; true < /tmp/d42"]);
    expect(own.stdout).toBe(`${node}\nread\n`);
    expect(own.stderr).toContain(`/dev/lc: ${EPERM}`);
    expect(own.stderr).toContain(`/tmp/d42: ${ENXIO}`);
    // A directory maps every device below it.
    const dir = sh(['--device', '/dev/net:/dev/hostnet'], "stat -c '%t:%T' /dev/hostnet/tun && exec 3<>/dev/hostnet/tun; echo $?");
    expect(dir.stdout.split('\n')[0]).toBe(hostNode('/dev/net/tun').split(' ')[0]);
  });

  it('holds a --device to the permissions given', () => {
    // Not a device runc's defaults allow anyway (those keep rwm whatever --device says).
    const r = sh(['--device', '/dev/loop-control:/dev/lc:r'], ': < /dev/lc && echo read; : > /dev/lc');
    expect(r.stdout).toBe('read\n');
    expect(r.stderr).toContain(`/dev/lc: ${EPERM}`);
    // "m" alone: the node exists, but nothing may open it.
    expect(sh(['--device', '/dev/loop-control:/dev/lc:m'], 'test -c /dev/lc && echo there; : < /dev/lc')).toMatchObject({ stdout: 'there\n', stderr: expect.stringContaining(EPERM) });
  });

  it('lets --device-cgroup-rule open a node the container made', () => {
    const script = 'mknod /tmp/d42 c 42 0 && : < /tmp/d42';
    expect(sh([], script).stderr).toContain(EPERM);
    expect(sh(['--device-cgroup-rule', 'c 42:* rmw'], script).stderr).toContain(ENXIO);
    // Read only: a write open is still refused.
    expect(sh(['--device-cgroup-rule', 'c 42:* r'], 'mknod /tmp/d42 c 42 0 && echo > /tmp/d42').stderr).toContain(EPERM);
    const lc = sh(['--device-cgroup-rule', 'c 10:237 rw'], 'mknod /tmp/lc c 10 237 && exec 3<>/tmp/lc && echo opened');
    expect(lc.stdout).toBe('opened\n');
  });

  it('gives --privileged every capability the daemon has, the host\'s devices, a writable /sys and nothing masked', () => {
    expect(d.docker(['run', '-d', '--name', 'priv', '--privileged', '--stop-timeout', '0', IMG, 'sleep', '300']).status).toBe(0);
    const run = (script: string) => d.docker(['exec', 'priv', 'sh', '-c', script]);
    const status = run('cat /proc/1/status').stdout;
    expect(/CapEff:\s*([0-9a-f]+)/.exec(status)![1]).toBe(held);
    expect(/CapBnd:\s*([0-9a-f]+)/.exec(status)![1]).toBe(held);
    expect(/CapEff:\s*([0-9a-f]+)/.exec(run('cat /proc/self/status').stdout)![1]).toBe(held);
    expect(run("stat -c '%t:%T %a %u:%g' /dev/loop-control").stdout.trim()).toBe(hostNode('/dev/loop-control'));
    expect(run("stat -c '%t:%T' /dev/net/tun").stdout.trim()).toBe(hostNode('/dev/net/tun').split(' ')[0]);
    // The container's own terminals stay its own.
    expect(run('readlink /dev/ptmx').stdout.trim()).toBe('pts/ptmx');
    const mounts = run('cat /proc/mounts').stdout.split('\n');
    const sys = mounts.find((l) => l.split(' ')[1] === '/sys')!;
    expect(sys.split(' ')[3].split(',')).toContain('rw');
    expect(mounts.filter((l) => /^\S+ \/proc\/(kcore|keys|sys|bus|fs|irq|sysrq-trigger|timer_list) /.test(l))).toEqual([]);
    // Any device may be opened: the open reaches the driver.
    expect(run('mknod /tmp/d42 c 42 0 && : < /tmp/d42').stderr).toContain(ENXIO);
    expect(run('mknod /tmp/lc c 10 237 && exec 3<>/tmp/lc && echo opened').stdout).toBe('opened\n');
    const hc = JSON.parse(d.docker(['inspect', 'priv']).stdout)[0].HostConfig as Record<string, unknown>;
    expect([hc.Privileged, hc.MaskedPaths, hc.ReadonlyPaths]).toEqual([true, null, null]);
    d.docker(['rm', '-f', 'priv']);
  });

  it("fails the start with dockerd's words for a device the host lacks, leaving the container created", async () => {
    const missing = d.docker(['run', '--name', 'nodev', '--device', '/dev/berth-no-such-device', IMG, 'true']);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('Error response from daemon: error gathering device information while adding custom device "/dev/berth-no-such-device": no such file or directory');
    expect(d.docker(['inspect', '-f', '{{.State.Status}}', 'nodev']).stdout.trim()).toBe('created');
    d.docker(['rm', 'nodev']);
    const file = d.docker(['run', '--rm', '--device', '/etc/hostname', IMG, 'true']);
    expect(file.stderr).toContain('error gathering device information while adding custom device "/etc/hostname": not a device node');
    // A malformed rule reaches the daemon only through the API; dockerd fails the start (500).
    const created = await d.api<{ Id: string }>('POST', '/v1.43/containers/create', { Image: IMG, Cmd: ['true'], HostConfig: { DeviceCgroupRules: ['c 1:3'] } });
    expect(created.status).toBe(201);
    const start = await d.api<{ message: string }>('POST', `/v1.43/containers/${created.body.Id}/start`);
    expect([start.status, start.body.message]).toEqual([500, "invalid device cgroup rule format: 'c 1:3'"]);
    expect((await d.api('DELETE', `/v1.43/containers/${created.body.Id}`)).status).toBe(204);
    const mode = await d.api<{ message: string }>('POST', '/v1.43/containers/create', { Image: IMG, HostConfig: { Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/null', CgroupPermissions: 'rx' }] } });
    expect([mode.status, mode.body.message]).toEqual([400, 'invalid device mode: rx']);
    expect(d.docker(['ps', '-a', '--format', '{{.Names}} {{.Status}}']).stdout).toBe('');
  });

  it('shows Devices and DeviceCgroupRules in inspect as given', () => {
    expect(d.docker(['create', '--name', 'shown', '--device', '/dev/null:/dev/n:rw', '--device-cgroup-rule', 'c 42:* rmw', IMG]).status).toBe(0);
    const hc = JSON.parse(d.docker(['inspect', 'shown']).stdout)[0].HostConfig as Record<string, unknown>;
    expect(hc.Devices).toEqual([{ PathOnHost: '/dev/null', PathInContainer: '/dev/n', CgroupPermissions: 'rw' }]);
    expect(hc.DeviceCgroupRules).toEqual(['c 42:* rmw']);
    expect(hc.Privileged).toBe(false);
    expect(hc.MaskedPaths).toContain('/proc/kcore');
    d.docker(['rm', 'shown']);
  });
});
