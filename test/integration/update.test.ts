// docker update through the real CLI (and run/create for cpusets): new limits land in the live cgroup and in inspect, survive a
// restart, and bad values get dockerd's messages and change nothing.
import { existsSync, readFileSync } from 'fs';
import { cpus } from 'os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasDocker, startDaemonWithImage, stopAndCheck, type TestDaemon } from '../helpers/daemon';

const IMG = 'berthupdate/busybox:latest';
const MB = 1024 * 1024;
const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');

describe.skipIf(!hasDocker || v2)('docker update (cgroup v1 host; v2 is checked in test/vm)', () => {
  let d: TestDaemon;
  const id = (name: string): string => d.docker(['inspect', '-f', '{{.Id}}', name]).stdout.trim();
  const cg = (ctrl: string, name: string, file: string): string => readFileSync(`/sys/fs/cgroup/${ctrl}/${d.cgroupParent}/${id(name)}/${file}`, 'utf8').trim();
  const hostConfig = (name: string): Record<string, unknown> => JSON.parse(d.docker(['inspect', name]).stdout)[0].HostConfig;
  // --stop-timeout 0: sleep as PID 1 ignores SIGTERM, and nothing here needs a graceful stop.
  const runSleeping = (name: string, ...flags: string[]) => expect(d.docker(['run', '-d', '--name', name, '--stop-timeout', '0', ...flags, IMG, 'sleep', '300']).status).toBe(0);

  beforeAll(async () => {
    d = await startDaemonWithImage(IMG);
  });

  afterAll(async () => {
    if (d) await stopAndCheck(d);
  });

  it('writes new limits into the running container cgroup and inspect, and keeps them across a restart', () => {
    runSleeping('lim', '-m', '64m');
    const r = d.docker(['update', '-m', '20m', '--cpus', '0.5', '--cpu-shares', '512', '--pids-limit', '30', '--memory-reservation', '10m', 'lim']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('lim\n');
    expect(r.status).toBe(0);
    const check = () => {
      expect(cg('memory', 'lim', 'memory.limit_in_bytes')).toBe(String(20 * MB));
      expect(cg('memory', 'lim', 'memory.soft_limit_in_bytes')).toBe(String(10 * MB));
      expect(cg('cpu', 'lim', 'cpu.cfs_quota_us')).toBe('50000');
      expect(cg('cpu', 'lim', 'cpu.cfs_period_us')).toBe('100000');
      expect(cg('cpu', 'lim', 'cpu.shares')).toBe('512');
      expect(cg('pids', 'lim', 'pids.max')).toBe('30');
    };
    check();
    // The swap dockerd stored at create (twice the first limit) stays as it was.
    expect(hostConfig('lim')).toMatchObject({ Memory: 20 * MB, MemorySwap: 128 * MB, MemoryReservation: 10 * MB, NanoCpus: 5e8, CpuShares: 512, PidsLimit: 30 });
    const events = d.docker(['events', '--since', '0', '--until', (Date.now() / 1000).toFixed(3), '--filter', 'container=lim', '--filter', 'event=update', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
    expect(events.stdout).toBe('update lim\n');

    expect(d.docker(['restart', '-t', '0', 'lim']).status).toBe(0);
    check();
    // Unlimited pids again (-1, as the CLI's help says), through berth's own client.
    const b = d.berth(['update', '--pids-limit', '-1', 'lim']);
    expect(b.stdout).toBe('lim\n');
    expect(cg('pids', 'lim', 'pids.max')).toBe('max');
    expect(hostConfig('lim').PidsLimit).toBeNull();
  });

  it('shows the container its own cgroups at /sys/fs/cgroup, read-only, as runc mounts them (read-write with --privileged)', () => {
    const mounts = (out: string): string[] => out.split('\n').filter((l) => l.split(' ')[1]?.startsWith('/sys/fs/cgroup'));
    const r = d.docker(['run', '--rm', '-m', '32m', '--pids-limit', '40', IMG, 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; grep memory /proc/self/cgroup; cat /proc/mounts; mkdir /sys/fs/cgroup/memory/sub']);
    const [limit, pids, cgroupLine] = r.stdout.split('\n');
    expect([limit, pids, cgroupLine]).toEqual([String(32 * MB), '40', expect.stringMatching(/^\d+:memory:\/$/)]);
    const seen = mounts(r.stdout);
    expect(seen[0]).toMatch(/^tmpfs \/sys\/fs\/cgroup tmpfs ro,nosuid,nodev,noexec,/);
    // One mount per host hierarchy that containers join, each with its controllers.
    const host = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - cgroup /.test(l) && /^\/sys\/fs\/cgroup\/(memory|pids|cpu|cpuacct|cpuset|freezer|blkio|devices)$/.test(l.split(' ')[4]));
    expect(seen.slice(1).map((l) => l.split(' ')[1]).sort()).toEqual(host.map((l) => l.split(' ')[4]).sort());
    for (const l of seen.slice(1)) expect(l).toMatch(/^cgroup \S+ cgroup ro,nosuid,nodev,noexec,/);
    expect(r.stderr).toContain("can't create directory '/sys/fs/cgroup/memory/sub': Read-only file system");
    const priv = d.docker(['run', '--rm', '--privileged', IMG, 'grep', ' /sys/fs/cgroup/memory ', '/proc/mounts']);
    expect(priv.stdout).toMatch(/^cgroup \/sys\/fs\/cgroup\/memory cgroup rw,/);
  });

  it('limits memory plus swap (memsw) as runc does: twice the memory by default, -1 unlimited, updates in either direction', async () => {
    if (!existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes')) return;
    const UNLIMITED = readFileSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes', 'utf8').trim();
    const memsw = (name: string): string => cg('memory', name, 'memory.memsw.limit_in_bytes');
    runSleeping('swapdef', '-m', '32m');
    expect(memsw('swapdef')).toBe(String(64 * MB));
    runSleeping('swapset', '-m', '32m', '--memory-swap', '48m');
    expect(memsw('swapset')).toBe(String(48 * MB));
    runSleeping('swapoff', '-m', '32m', '--memory-swap', '-1');
    expect(memsw('swapoff')).toBe(UNLIMITED);
    expect(hostConfig('swapoff')).toMatchObject({ Memory: 32 * MB, MemorySwap: -1 });
    // Up: memsw has to grow before the limit can pass the old one; down: the limit shrinks first.
    expect(d.docker(['update', '-m', '100m', '--memory-swap', '120m', 'swapset']).status).toBe(0);
    expect([cg('memory', 'swapset', 'memory.limit_in_bytes'), memsw('swapset')]).toEqual([String(100 * MB), String(120 * MB)]);
    expect(d.docker(['update', '-m', '16m', '--memory-swap', '20m', 'swapset']).status).toBe(0);
    expect([cg('memory', 'swapset', 'memory.limit_in_bytes'), memsw('swapset')]).toEqual([String(16 * MB), String(20 * MB)]);
    expect(d.docker(['restart', '-t', '0', 'swapset']).status).toBe(0);
    expect(memsw('swapset')).toBe(String(20 * MB));
    const message = 'You should always set the Memory limit when using Memoryswap limit, see usage';
    const r = d.docker(['run', '--rm', '--memory-swap', '64m', IMG, 'true']);
    expect(r.stderr.split('\n')[0]).toBe(`docker: Error response from daemon: ${message}`);
    expect(r.status).toBe(125);
    const api = await d.api('POST', '/containers/create?name=swaponly', { Image: IMG, HostConfig: { MemorySwap: 64 * MB } });
    expect(api).toMatchObject({ status: 400, body: { message } });
    expect(d.docker(['ps', '-aq', '--filter', 'name=swaponly']).stdout).toBe('');
    for (const name of ['swapdef', 'swapset', 'swapoff']) expect(d.docker(['rm', '-f', name]).status).toBe(0);
  });

  it('refuses bad values with dockerd messages and changes nothing', async () => {
    runSleeping('bad', '-m', '64m', '--cpus', '1');
    const before = hostConfig('bad');
    const full = id('bad');
    const ncpu = cpus().length;
    const cases: Array<[string[], string]> = [
      [['-m', '4m'], 'Minimum memory limit allowed is 6MB'],
      [['-m', '20m', '--memory-swap', '10m'], 'Minimum memoryswap limit should be larger than memory limit, see usage'],
      [['--memory-reservation', '1m'], 'Minimum memory reservation allowed is 6MB'],
      [['--cpus', String(ncpu + 1)], `Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`],
      [['--cpu-period', '500'], 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)'],
      [['--cpu-period', '100000'], `Cannot update container ${full}: Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set`],
      [['-m', '200m'], `Cannot update container ${full}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time`],
      [['--restart', 'foo'], "invalid restart policy 'foo'"],
      [['--restart', 'always:2'], "maximum retry count cannot be used with restart policy 'always'"],
    ];
    for (const [flags, message] of cases) {
      const r = d.docker(['update', ...flags, 'bad']);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`Error response from daemon: ${message}\n`);
      expect(r.status).toBe(1);
    }
    expect(hostConfig('bad')).toEqual(before);
    expect(cg('memory', 'bad', 'memory.limit_in_bytes')).toBe(String(64 * MB));
    expect(cg('cpu', 'bad', 'cpu.cfs_quota_us')).toBe('100000');

    const missing = d.docker(['update', '-m', '20m', 'nosuch']);
    expect(missing.stderr).toBe('Error response from daemon: No such container: nosuch\n');
    expect(missing.status).toBe(1);
    const api = await d.api<{ message: string }>('POST', '/containers/nosuch/update', { Memory: 20 * MB });
    expect(api.status).toBe(404);
    const ok = await d.api<{ Warnings: string[] }>('POST', '/containers/bad/update', { CpuShares: 256 });
    expect(ok).toMatchObject({ status: 200, body: { Warnings: [] } });
  });

  it('refuses a memory limit below what the container uses (the kernel cannot reclaim it)', () => {
    // 16 MB in /dev/shm is charged to the container and there is no swap to push it to.
    expect(d.docker(['run', '-d', '--name', 'full', '-m', '64m', '--stop-timeout', '0', IMG, 'sh', '-c', 'head -c 16777216 /dev/zero > /dev/shm/fill && touch /tmp/ready && sleep 300']).status).toBe(0);
    for (let i = 0; i < 100 && d.docker(['exec', 'full', 'test', '-e', '/tmp/ready']).status !== 0; i++);
    const r = d.docker(['update', '-m', '8m', 'full']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^Error response from daemon: Cannot update container ${id('full')}: unable to set memory limit to 8388608 \\(current usage: \\d+, peak usage: \\d+\\)\\n$`));
    expect(cg('memory', 'full', 'memory.limit_in_bytes')).toBe(String(64 * MB));
    expect(hostConfig('full').Memory).toBe(64 * MB);
  });

  it('sets a restart policy on an existing container; not on an --rm one', async () => {
    expect(d.docker(['run', '-d', '--name', 'pol', IMG, 'sh', '-c', 'sleep 0.5; exit 2']).status).toBe(0);
    expect(d.docker(['update', '--restart', 'on-failure:1', 'pol']).stdout).toBe('pol\n');
    expect(hostConfig('pol').RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 1 });
    const end = Date.now() + 10_000;
    let c: { RestartCount: number; State: { Status: string } };
    do {
      await new Promise((r) => setTimeout(r, 100));
      c = JSON.parse(d.docker(['inspect', 'pol']).stdout)[0];
    } while (!(c.RestartCount === 1 && c.State.Status === 'exited') && Date.now() < end);
    expect(c).toMatchObject({ RestartCount: 1, State: { Status: 'exited' } });

    // always, set on a running container: a crash (a SIGKILL from the host, not docker kill) brings it back.
    runSleeping('alw');
    expect(d.docker(['update', '--restart', 'always', 'alw']).stdout).toBe('alw\n');
    expect(hostConfig('alw').RestartPolicy).toEqual({ Name: 'always', MaximumRetryCount: 0 });
    const pid = Number(d.docker(['inspect', '-f', '{{.State.Pid}}', 'alw']).stdout);
    process.kill(pid, 'SIGKILL');
    const until = Date.now() + 10_000;
    let a: { RestartCount: number; State: { Status: string; Pid: number } };
    do {
      await new Promise((r) => setTimeout(r, 100));
      a = JSON.parse(d.docker(['inspect', 'alw']).stdout)[0];
    } while (!(a.RestartCount === 1 && a.State.Status === 'running') && Date.now() < until);
    expect(a).toMatchObject({ RestartCount: 1, State: { Status: 'running' } });
    expect(a.State.Pid).not.toBe(pid);

    runSleeping('autorm', '--rm');
    const r = d.docker(['update', '--restart', 'always', 'autorm']);
    expect(r.stderr).toBe(`Error response from daemon: Cannot update container ${id('autorm')}: Restart policy cannot be updated because AutoRemove is enabled for the container\n`);
    expect(hostConfig('autorm').RestartPolicy).toEqual({ Name: 'no', MaximumRetryCount: 0 });
  });

  it('pins a container to --cpuset-cpus/--cpuset-mems at run and create; docker update moves it live', () => {
    runSleeping('pin', '--cpuset-cpus', '1', '--cpuset-mems', '0');
    expect(hostConfig('pin')).toMatchObject({ CpusetCpus: '1', CpusetMems: '0' });
    expect(cg('cpuset', 'pin', 'cpuset.cpus')).toBe('1');
    expect(cg('cpuset', 'pin', 'cpuset.mems')).toBe('0');
    // The container's process and an exec (which joins through the cpuset hierarchy's tasks file) run on CPU 1 alone.
    const allowed = (name: string): string => d.docker(['exec', name, 'grep', 'Cpus_allowed_list', '/proc/1/status']).stdout;
    expect(allowed('pin')).toBe('Cpus_allowed_list:\t1\n');
    expect(d.docker(['exec', 'pin', 'grep', 'Cpus_allowed_list', '/proc/self/status']).stdout).toBe('Cpus_allowed_list:\t1\n');

    const r = d.docker(['update', '--cpuset-cpus', '0', 'pin']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('pin\n');
    expect(cg('cpuset', 'pin', 'cpuset.cpus')).toBe('0');
    expect(allowed('pin')).toBe('Cpus_allowed_list:\t0\n');
    expect(hostConfig('pin')).toMatchObject({ CpusetCpus: '0', CpusetMems: '0' });
    // Kept for later starts; pause and stats work on a pinned container.
    expect(d.docker(['restart', '-t', '0', 'pin']).status).toBe(0);
    expect(cg('cpuset', 'pin', 'cpuset.cpus')).toBe('0');
    expect(d.docker(['pause', 'pin']).status).toBe(0);
    expect(d.docker(['unpause', 'pin']).status).toBe(0);
    expect(d.docker(['stats', '--no-stream', '--format', '{{.Name}}', 'pin']).stdout).toBe('pin\n');

    // A container without a cpuset has all the host's, and gets them through the same hierarchy.
    runSleeping('all');
    expect(hostConfig('all')).toMatchObject({ CpusetCpus: '', CpusetMems: '' });
    const host = readFileSync('/sys/fs/cgroup/cpuset/cpuset.cpus', 'utf8').trim();
    expect(cg('cpuset', 'all', 'cpuset.cpus')).toBe(host);
    expect(allowed('all')).toBe(`Cpus_allowed_list:\t${host}\n`);
    // Through berth's own client as well.
    expect(d.berth(['update', '--cpuset-cpus', '1', 'all']).stdout).toBe('all\n');
    expect(allowed('all')).toBe('Cpus_allowed_list:\t1\n');

    expect(d.docker(['create', '--name', 'made', '--cpuset-cpus', '0-1', IMG, 'true']).status).toBe(0);
    expect(hostConfig('made')).toMatchObject({ CpusetCpus: '0-1', CpusetMems: '' });
    // Stopped: stored, written at start.
    expect(d.docker(['update', '--cpuset-cpus', '1', 'made']).status).toBe(0);
    expect(hostConfig('made').CpusetCpus).toBe('1');
    const once = d.docker(['run', '--rm', '--cpuset-cpus', '1', IMG, 'grep', 'Cpus_allowed_list', '/proc/self/status']);
    expect(once.stdout).toBe('Cpus_allowed_list:\t1\n');
    d.docker(['rm', '-f', 'pin', 'all', 'made']);
  });

  it('refuses cpusets the host does not have, or bad lists, with dockerd messages', async () => {
    const host = { cpus: readFileSync('/sys/fs/cgroup/cpuset/cpuset.cpus', 'utf8').trim(), mems: readFileSync('/sys/fs/cgroup/cpuset/cpuset.mems', 'utf8').trim() };
    const cases: Array<[string[], string]> = [
      [['--cpuset-cpus', '0-x'], 'Invalid value 0-x for cpuset cpus: invalid format: 0-x'],
      [['--cpuset-cpus', '1-42,,'], 'Invalid value 1-42,, for cpuset cpus: invalid format: 1-42,,'],
      [['--cpuset-cpus', '99'], `Requested CPUs are not available - requested 99, available: ${host.cpus}`],
      [['--cpuset-cpus', '1-9223372036854775807'], 'Invalid value 1-9223372036854775807 for cpuset cpus: value of out range, maximum is 8192'],
      [['--cpuset-mems', '42-3,1--'], 'Invalid value 42-3,1-- for cpuset mems: invalid format: 42-3,1--'],
      [['--cpuset-mems', '63'], `Requested memory nodes are not available - requested 63, available: ${host.mems}`],
    ];
    runSleeping('cpubad', '--cpuset-cpus', '0');
    const before = hostConfig('cpubad');
    const containers = d.docker(['ps', '-aq']).stdout;
    for (const [flags, message] of cases) {
      for (const args of [['run', '--rm', ...flags, IMG, 'true'], ['create', ...flags, IMG, 'true'], ['update', ...flags, 'cpubad']]) {
        const r = d.docker(args);
        const run = args[0] === 'run';
        expect(r.stderr, args.join(' ')).toBe(run ? `docker: Error response from daemon: ${message}\n\nRun 'docker run --help' for more information\n` : `Error response from daemon: ${message}\n`);
        expect(r.status).toBe(run ? 125 : 1);
      }
    }
    expect(hostConfig('cpubad')).toEqual(before);
    expect(cg('cpuset', 'cpubad', 'cpuset.cpus')).toBe('0');
    const api = await d.api<{ message: string }>('POST', '/containers/create', { Image: IMG, Cmd: ['true'], HostConfig: { CpusetCpus: 5 } });
    expect(api).toMatchObject({ status: 400, body: { message: 'json: cannot unmarshal number into Go struct field HostConfig.CpusetCpus of type string' } });
    // No refused run or create left a container behind.
    expect(d.docker(['ps', '-aq']).stdout).toBe(containers);
    d.docker(['rm', '-f', 'cpubad']);
  });

  it.skipIf(existsSync('/sys/fs/cgroup/blkio/blkio.weight'))('reports a block I/O weight this kernel cannot apply as dockerd warns', () => {
    runSleeping('warn');
    const r = d.docker(['update', '--blkio-weight', '500', 'warn']);
    expect(r.stdout).toBe('warn\nYour kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.\n');
    expect(r.status).toBe(0);
    expect(hostConfig('warn').BlkioWeight).toBe(0);
  });
});
