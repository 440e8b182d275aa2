// --cpu-rt-period / --cpu-rt-runtime through the real CLI on a cgroup v1 host (v2 refuses them: test/vm):
// the container's cgroup gets them at start, its parent the daemon's --cpu-rt-runtime first (dockerd's
// initCPURtController), the kernel's budget refusals come back with runc's words, update stores them
// for the next start as dockerd does.
import { existsSync, readFileSync } from 'fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasDocker, startDaemonWithImage, stopAndCheck, type TestDaemon } from '../helpers/daemon';

const IMG = 'berthrt/busybox:latest';
const rtHost = existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us') && !existsSync('/sys/fs/cgroup/cgroup.controllers');
const SHIM = 'failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process';

describe.skipIf(!hasDocker || !rtHost)('CPU real-time scheduling (cgroup v1)', () => {
  let plain: TestDaemon;
  let budget: TestDaemon;
  const id = (d: TestDaemon, name: string): string => d.docker(['inspect', '-f', '{{.Id}}', name]).stdout.trim();
  const cpuDir = (d: TestDaemon, name?: string): string => `/sys/fs/cgroup/cpu/${d.cgroupParent}${name ? `/${id(d, name)}` : ''}`;
  const rt = (dir: string): string => ['period', 'runtime'].map((f) => readFileSync(`${dir}/cpu.rt_${f}_us`, 'utf8').trim()).join(' ');
  const hostConfig = (d: TestDaemon, name: string): Record<string, unknown> => JSON.parse(d.docker(['inspect', name]).stdout)[0].HostConfig;
  const runSleeping = (d: TestDaemon, name: string, ...flags: string[]) => d.docker(['run', '-d', '--name', name, '--stop-timeout', '0', ...flags, IMG, 'sleep', '300']);

  beforeAll(async () => {
    [plain, budget] = await Promise.all([startDaemonWithImage(IMG), startDaemonWithImage(IMG, { args: ['--cpu-rt-runtime', '20000'] })]);
  });

  afterAll(async () => {
    await Promise.all([plain, budget].filter(Boolean).map((d) => stopAndCheck(d)));
  });

  it('refuses a runtime above the period at create with dockerd 400, creating nothing', async () => {
    const r = plain.docker(['create', '--name', 'over', '--cpu-rt-period', '1000', '--cpu-rt-runtime', '2000', IMG]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Error response from daemon: cpu real-time runtime cannot be higher than cpu real-time period');
    expect(plain.docker(['ps', '-aq']).stdout).toBe('');
    // Before the image is looked up, as dockerd's decoder checks it.
    const api = await plain.api<{ message: string }>('POST', '/v1.43/containers/create', { Image: 'no/such:image', HostConfig: { CpuRealtimePeriod: 10, CpuRealtimeRuntime: 20 } });
    expect([api.status, api.body.message]).toEqual([400, 'cpu real-time runtime cannot be higher than cpu real-time period']);
  });

  it('without the daemon budget: a period alone is written, a runtime fails the start as runc does', () => {
    expect(runSleeping(plain, 'period', '--cpu-rt-period', '500000').status).toBe(0);
    expect(rt(cpuDir(plain, 'period'))).toBe('500000 0');
    expect(hostConfig(plain, 'period')).toMatchObject({ CpuRealtimePeriod: 500000, CpuRealtimeRuntime: 0 });
    // The parent has no real-time runtime (new cgroups get none): the kernel refuses any for the child.
    expect(rt(cpuDir(plain))).toBe('1000000 0');
    expect(plain.docker(['create', '--name', 'runtime', '--cpu-rt-runtime', '1000', IMG, 'true']).status).toBe(0);
    const full = id(plain, 'runtime');
    const r = plain.docker(['start', 'runtime']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      `${SHIM}: unable to apply cgroup configuration: failed to write "1000": write /sys/fs/cgroup/cpu/${plain.cgroupParent}/${full}/cpu.rt_runtime_us: invalid argument: unknown`,
    );
    // Nothing of the failed start is left: its cgroup is gone.
    expect(existsSync(`/sys/fs/cgroup/cpu/${plain.cgroupParent}/${full}`)).toBe(false);
    plain.docker(['rm', '-f', 'period', 'runtime']);
  });

  it("with --cpu-rt-runtime on the daemon: the parent gets it, containers share it within the kernel's budget", () => {
    const r = runSleeping(budget, 'rt1', '--cpu-rt-period', '100000', '--cpu-rt-runtime', '1000');
    expect(r.stderr).toBe('');
    expect(rt(cpuDir(budget))).toBe('1000000 20000');
    expect(rt(cpuDir(budget, 'rt1'))).toBe('100000 1000');
    expect(hostConfig(budget, 'rt1')).toMatchObject({ CpuRealtimePeriod: 100000, CpuRealtimeRuntime: 1000 });
    // 1% is taken; 1.5% more does not fit in the parent's 2%.
    expect(budget.docker(['create', '--name', 'rt2', '--cpu-rt-runtime', '15000', IMG, 'sleep', '300']).status).toBe(0);
    const full = id(budget, 'rt2');
    const refused = budget.docker(['start', 'rt2']);
    expect(refused.stderr).toContain(`${SHIM}: unable to apply cgroup configuration: failed to write "15000": write /sys/fs/cgroup/cpu/${budget.cgroupParent}/${full}/cpu.rt_runtime_us: invalid argument: unknown`);
    // Once rt1 is gone the budget is free again.
    budget.docker(['rm', '-f', 'rt1']);
    expect(budget.docker(['start', 'rt2']).status).toBe(0);
    expect(rt(cpuDir(budget, 'rt2'))).toBe('1000000 15000');
    budget.docker(['rm', '-f', 'rt2']);
  });

  it('update stores new values for the next start without touching the running cgroup, as dockerd', () => {
    expect(runSleeping(budget, 'upd', '--cpu-rt-runtime', '1000').status).toBe(0);
    const u = budget.docker(['update', '--cpu-rt-period', '500000', '--cpu-rt-runtime', '2000', 'upd']);
    expect(u.stderr).toBe('');
    expect(hostConfig(budget, 'upd')).toMatchObject({ CpuRealtimePeriod: 500000, CpuRealtimeRuntime: 2000 });
    expect(rt(cpuDir(budget, 'upd'))).toBe('1000000 1000');
    expect(budget.docker(['restart', '-t', '0', 'upd']).status).toBe(0);
    expect(rt(cpuDir(budget, 'upd'))).toBe('500000 2000');
    budget.docker(['rm', '-f', 'upd']);
  });

  it("berth's own run sends them as the docker CLI does", () => {
    const r = budget.berth(['run', '-d', '--name', 'viaberth', '--cpu-rt-period', '200000', '--cpu-rt-runtime', '2000', IMG, 'sleep', '300']);
    expect(r.stderr).toBe('');
    expect(rt(cpuDir(budget, 'viaberth'))).toBe('200000 2000');
    expect(hostConfig(budget, 'viaberth')).toMatchObject({ CpuRealtimePeriod: 200000, CpuRealtimeRuntime: 2000 });
    budget.docker(['rm', '-f', 'viaberth']);
  });
});
