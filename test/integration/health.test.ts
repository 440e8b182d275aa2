// Health checks through the real docker CLI: --health-* flags and image HEALTHCHECK, probes run as
// execs in the container, starting → unhealthy → healthy, the timeout, State.Health in inspect, the
// ps STATUS words and health filter, health_status events, and nothing left once the container stops.
import { spawn } from 'child_process';
import { existsSync, readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER, hasDocker, startDaemon, startDaemonWithImage, stopAndCheck, type TestDaemon } from '../helpers/daemon';

const IMG = 'busybox:latest';

interface Health {
  Status: string;
  FailingStreak: number;
  Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }>;
}

describe.skipIf(!hasDocker)('health checks', () => {
  let d: TestDaemon;

  beforeAll(async () => {
    d = await startDaemonWithImage(IMG);
  });

  afterAll(async () => {
    if (d) await stopAndCheck(d);
  });

  const health = (name: string): Health | null => JSON.parse(d.docker(['inspect', '-f', '{{json .State.Health}}', name]).stdout) as Health | null;
  const psStatus = (name: string): string => d.docker(['ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.Status}}']).stdout.trim();
  const psHealth = (filter: string): string[] => d.docker(['ps', '--filter', `health=${filter}`, '--format', '{{.Names}}']).stdout.split('\n').filter(Boolean);

  async function until(name: string, want: (h: Health) => boolean, ms = 15_000): Promise<Health> {
    const end = Date.now() + ms;
    for (;;) {
      const h = health(name);
      if (h && want(h)) return h;
      if (Date.now() > end) throw new Error(`${name}: health never as wanted, last ${JSON.stringify(h)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('goes starting → unhealthy, then healthy once the test passes; ps shows and filters it; events tell', async () => {
    const events = spawn(DOCKER, ['events', '--filter', 'container=hc', '--format', '{{.Action}}'], { env: { ...process.env, DOCKER_HOST: d.host } });
    let seen = '';
    events.stdout.on('data', (b: Buffer) => (seen += b.toString()));
    try {
      await new Promise((r) => setTimeout(r, 300));
      // The start period keeps the early failures from counting: "starting" is sure to be seen.
      const run = d.docker(['run', '-d', '--name', 'hc', '--health-cmd', 'test -f /tmp/ok', '--health-interval', '200ms', '--health-retries', '2', '--health-start-period', '1500ms', IMG, 'sleep', '300']);
      expect(run.status).toBe(0);
      expect(d.docker(['inspect', '-f', '{{.State.Health.Status}}', 'hc']).stdout).toBe('starting\n');
      expect(psStatus('hc')).toMatch(/^Up .+ \(health: starting\)$/);
      expect(psHealth('starting')).toEqual(['hc']);
      expect(d.docker(['inspect', '-f', '{{json .Config.Healthcheck}}', 'hc']).stdout).toBe('{"Test":["CMD-SHELL","test -f /tmp/ok"],"Interval":200000000,"StartPeriod":1500000000,"Retries":2}\n');

      const sick = await until('hc', (h) => h.Status === 'unhealthy');
      expect(sick.FailingStreak).toBeGreaterThanOrEqual(2);
      expect(sick.Log.length).toBeGreaterThanOrEqual(2);
      expect(sick.Log.length).toBeLessThanOrEqual(5);
      for (const entry of sick.Log) {
        expect(entry).toEqual({ Start: expect.any(String), End: expect.any(String), ExitCode: 1, Output: '' });
        expect(Date.parse(entry.End)).toBeGreaterThanOrEqual(Date.parse(entry.Start));
      }
      expect(psStatus('hc')).toMatch(/^Up .+ \(unhealthy\)$/);
      expect(psHealth('unhealthy')).toEqual(['hc']);
      expect(psHealth('healthy')).toEqual([]);

      expect(d.docker(['exec', 'hc', 'touch', '/tmp/ok']).status).toBe(0);
      const well = await until('hc', (h) => h.Status === 'healthy');
      expect(well.FailingStreak).toBe(0);
      expect(well.Log.at(-1)).toMatchObject({ ExitCode: 0, Output: '' });
      expect(psStatus('hc')).toMatch(/^Up .+ \(healthy\)$/);
      expect(psHealth('healthy')).toEqual(['hc']);
      // Only the last five results are kept.
      await new Promise((r) => setTimeout(r, 1500));
      expect(health('hc')?.Log).toHaveLength(5);

      await new Promise((r) => setTimeout(r, 300));
      const actions = seen.split('\n');
      expect(actions).toContain('health_status: unhealthy');
      expect(actions).toContain('health_status: healthy');
      expect(actions.indexOf('health_status: unhealthy')).toBeLessThan(actions.indexOf('health_status: healthy'));
      // Each probe is an exec, with exec's events.
      for (const a of ['exec_create: /bin/sh -c test -f /tmp/ok', 'exec_start: /bin/sh -c test -f /tmp/ok']) expect(actions).toContain(a);
      expect(actions).toContain('exec_die');
    } finally {
      events.kill();
    }
  });

  it('stops probing when the container stops (status as Docker leaves it) and starts again with it', async () => {
    const id = d.docker(['inspect', '-f', '{{.Id}}', 'hc']).stdout.trim();
    expect(d.docker(['stop', '-t', '0', 'hc']).status).toBe(0);
    const stopped = health('hc');
    expect(stopped?.Status).toBe('unhealthy');
    const log = JSON.stringify(stopped?.Log);
    await new Promise((r) => setTimeout(r, 700));
    // No probe ran after the stop.
    expect(JSON.stringify(health('hc')?.Log)).toBe(log);
    expect(psStatus('hc')).toMatch(/^Exited \(137\) /);
    expect(psHealth('unhealthy')).toEqual([]);
    expect(d.docker(['ps', '-a', '--filter', 'health=unhealthy', '--format', '{{.Names}}']).stdout).toBe('hc\n');

    expect(d.docker(['start', 'hc']).status).toBe(0);
    expect(d.docker(['inspect', '-f', '{{.State.Health.Status}}', 'hc']).stdout).toBe('starting\n');
    // /tmp/ok went with the stop? No: the writable layer stays, so the restarted container is healthy again.
    await until('hc', (h) => h.Status === 'healthy');
    expect(d.docker(['inspect', '-f', '{{.Id}}', 'hc']).stdout.trim()).toBe(id);
  });

  it('a probe in flight dies with its container: no process, no cgroup left', async () => {
    expect(d.docker(['run', '-d', '--name', 'inflight', '--health-cmd', 'sleep 3737', '--health-interval', '100ms', '--health-timeout', '60s', IMG, 'sleep', '300']).status).toBe(0);
    const id = d.docker(['inspect', '-f', '{{.Id}}', 'inflight']).stdout.trim();
    const probes = (): number[] =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\x003737\x00';
          } catch {
            return false;
          }
        })
        .map(Number);
    const end = Date.now() + 10_000;
    while (probes().length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(probes()).toHaveLength(1);
    expect(d.docker(['stop', '-t', '0', 'inflight']).status).toBe(0);
    expect(probes()).toEqual([]);
    const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
    expect(existsSync(v2 ? `/sys/fs/cgroup/${d.cgroupParent}/${id}` : `/sys/fs/cgroup/pids/${d.cgroupParent}/${id}`)).toBe(false);
    // The probe's result never came: the log is as empty as before, the status as a stop leaves it.
    expect(health('inflight')).toEqual({ Status: 'unhealthy', FailingStreak: 0, Log: [] });
    expect(d.docker(['rm', 'inflight']).status).toBe(0);
  });

  it('pausing stops the probes and reads unhealthy, as dockerd; unpausing resumes them', async () => {
    expect(d.docker(['pause', 'hc']).status).toBe(0);
    expect(health('hc')?.Status).toBe('unhealthy');
    expect(psStatus('hc')).toMatch(/^Up .+ \(Paused\)$/);
    expect(d.docker(['unpause', 'hc']).status).toBe(0);
    await until('hc', (h) => h.Status === 'healthy');
    expect(d.docker(['rm', '-f', 'hc']).status).toBe(0);
  });

  it('a probe past --health-timeout is killed and fails with the timeout text', async () => {
    const run = d.docker(['run', '-d', '--name', 'slow', '--health-cmd', 'echo begun; sleep 3', '--health-interval', '200ms', '--health-timeout', '300ms', '--health-retries', '1', IMG, 'sleep', '300']);
    expect(run.status).toBe(0);
    const h = await until('slow', (x) => x.Log.length > 0);
    expect(h.Status).toBe('unhealthy');
    expect(h.Log[0].ExitCode).toBe(-1);
    expect(h.Log[0].Output).toBe('Health check exceeded timeout (300ms): begun\n');
    // Killed at the timeout, not left to finish its 3 s.
    expect(Date.parse(h.Log[0].End) - Date.parse(h.Log[0].Start)).toBeLessThan(2500);
    expect(d.docker(['rm', '-f', 'slow']).status).toBe(0);
  });

  it('runs CMD tests without a shell, reports a command that cannot start and truncates output at 4096 bytes', async () => {
    const create = await d.api<{ Id: string }>('POST', '/containers/create?name=cmdform', {
      Image: IMG,
      Cmd: ['sleep', '300'],
      Healthcheck: { Test: ['CMD', 'nosuchprobe'], Interval: 200_000_000 },
    });
    expect(create.status).toBe(201);
    expect(d.docker(['start', 'cmdform']).status).toBe(0);
    const missing = await until('cmdform', (x) => x.Log.length > 0);
    expect(missing.Log[0].ExitCode).toBe(-1);
    expect(missing.Log[0].Output).toBe('OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuchprobe": executable file not found in $PATH: unknown');

    expect(d.docker(['run', '-d', '--name', 'loud', '--health-cmd', 'head -c 5000 /dev/zero | tr "\\0" a; echo err >&2', '--health-interval', '200ms', IMG, 'sleep', '300']).status).toBe(0);
    const loud = await until('loud', (x) => x.Status === 'healthy');
    expect(loud.Log[0].Output).toBe(`${'a'.repeat(4096)}...`);
    expect(d.docker(['rm', '-f', 'cmdform', 'loud']).status).toBe(0);
  });

  it("applies the image's HEALTHCHECK, merges flags into it, and --no-healthcheck turns it off", async () => {
    expect(d.docker(['create', '--name', 'base', IMG, 'true']).status).toBe(0);
    expect(d.docker(['commit', '--change', 'HEALTHCHECK --interval=200ms --retries=4 CMD test -e /etc/passwd', 'base', 'berthhealth/img:1']).status).toBe(0);
    expect(d.docker(['image', 'inspect', '-f', '{{json .Config.Healthcheck}}', 'berthhealth/img:1']).stdout).toBe('{"Test":["CMD-SHELL","test -e /etc/passwd"],"Interval":200000000,"Retries":4}\n');

    expect(d.docker(['run', '-d', '--name', 'fromimage', 'berthhealth/img:1', 'sleep', '300']).status).toBe(0);
    expect(d.docker(['inspect', '-f', '{{json .Config.Healthcheck}}', 'fromimage']).stdout).toBe('{"Test":["CMD-SHELL","test -e /etc/passwd"],"Interval":200000000,"Retries":4}\n');
    await until('fromimage', (h) => h.Status === 'healthy');
    // Each container probing every 200 ms costs a process start: only what is being looked at runs.
    expect(d.docker(['rm', '-f', 'fromimage']).status).toBe(0);

    // A flag replaces its own field only: interval and retries still come from the image.
    expect(d.docker(['run', '-d', '--name', 'merged', '--health-cmd', 'false', 'berthhealth/img:1', 'sleep', '300']).status).toBe(0);
    expect(d.docker(['inspect', '-f', '{{json .Config.Healthcheck}}', 'merged']).stdout).toBe('{"Test":["CMD-SHELL","false"],"Interval":200000000,"Retries":4}\n');
    const failing = await until('merged', (h) => h.Status === 'unhealthy');
    expect(failing.FailingStreak).toBe(4);
    expect(d.docker(['rm', '-f', 'merged']).status).toBe(0);

    expect(d.docker(['run', '-d', '--name', 'nohc', '--no-healthcheck', 'berthhealth/img:1', 'sleep', '300']).status).toBe(0);
    // dockerd's merge fills the image's timings in even under NONE.
    expect(d.docker(['inspect', '-f', '{{json .Config.Healthcheck}}', 'nohc']).stdout).toBe('{"Test":["NONE"],"Interval":200000000,"Retries":4}\n');
    await new Promise((r) => setTimeout(r, 500));
    expect(d.docker(['inspect', '-f', '{{.State.Health}}', 'nohc']).stdout).toBe('<nil>\n');
    expect(psStatus('nohc')).toMatch(/^Up [^(]+$/);
    expect(psHealth('none')).toContain('nohc');

    // An image made by import -c carries it as well.
    const tarball = join(d.dirs.base, 'base.tar');
    expect(d.docker(['export', '-o', tarball, 'base']).status).toBe(0);
    expect(d.docker(['import', '-c', 'HEALTHCHECK --interval=200ms CMD ["true"]', tarball, 'berthhealth/imported:1']).status).toBe(0);
    expect(d.docker(['run', '-d', '--name', 'imported', 'berthhealth/imported:1', 'sleep', '300']).status).toBe(0);
    expect(d.docker(['inspect', '-f', '{{json .Config.Healthcheck}}', 'imported']).stdout).toBe('{"Test":["CMD","true"],"Interval":200000000}\n');
    await until('imported', (h) => h.Status === 'healthy');
    expect(psHealth('none')).toEqual(['nohc']);
    expect(d.docker(['rm', '-f', 'base', 'nohc', 'imported']).status).toBe(0);
  });

  it("berth's own client sets the flags and shows the status", async () => {
    const run = d.berth(['run', '-d', '--name', 'viaberth', '--health-cmd', 'true', '--health-interval', '200ms', '--health-retries', '1', IMG, 'sleep', '300']);
    expect(run.status).toBe(0);
    await until('viaberth', (h) => h.Status === 'healthy');
    expect(d.berth(['inspect', '--format', '{{.State.Health.Status}} {{.State.Health.FailingStreak}}', 'viaberth']).stdout).toBe('healthy 0\n');
    expect(d.berth(['ps', '--filter', 'health=healthy', '--format', '{{.Names}} {{.Status}}']).stdout).toMatch(/^viaberth Up .+ \(healthy\)$/m);
    const conflict = d.berth(['run', '-d', '--no-healthcheck', '--health-cmd', 'true', IMG, 'true']);
    expect(conflict.status).toBe(125);
    expect(conflict.stderr).toContain('--no-healthcheck conflicts with --health-* options');
    expect(d.docker(['rm', '-f', 'viaberth']).status).toBe(0);
  });

  it('refuses bad settings with dockerd messages, before anything is made', async () => {
    const bad = async (Healthcheck: Record<string, unknown>): Promise<{ status: number; message: string }> => {
      const r = await d.api<{ message: string }>('POST', '/containers/create?name=badhc', { Image: IMG, Cmd: ['true'], Healthcheck });
      return { status: r.status, message: r.body.message };
    };
    expect(await bad({ Test: ['CMD', 'true'], Interval: 500_000 })).toEqual({ status: 400, message: 'Interval in Healthcheck cannot be less than 1ms' });
    expect(await bad({ Test: ['CMD', 'true'], Interval: -10_000_000 })).toEqual({ status: 400, message: 'Interval in Healthcheck cannot be less than 1ms' });
    expect(await bad({ Test: ['CMD', 'true'], Timeout: 1 })).toEqual({ status: 400, message: 'Timeout in Healthcheck cannot be less than 1ms' });
    expect(await bad({ Test: ['CMD', 'true'], Retries: -1 })).toEqual({ status: 400, message: 'Retries in Healthcheck cannot be negative' });
    expect(await bad({ Test: ['CMD', 'true'], StartPeriod: 10 })).toEqual({ status: 400, message: 'StartPeriod in Healthcheck cannot be less than 1ms' });
    const cli = d.docker(['run', '-d', '--name', 'badhc', '--health-cmd', 'true', '--health-interval', '500us', IMG, 'true']);
    expect(cli.status).toBe(125);
    expect(cli.stderr).toContain('Error response from daemon: Interval in Healthcheck cannot be less than 1ms');
    expect(d.docker(['ps', '-a', '--filter', 'name=badhc', '-q']).stdout).toBe('');
    const filter = await d.api<{ message: string }>('GET', `/containers/json?filters=${encodeURIComponent('{"health":["sick"]}')}`);
    expect(filter.status).toBe(400);
  });

  it('across a daemon restart: a container brought back by its policy probes again, one left stopped reads unhealthy', async () => {
    // --stop-timeout 0: the shutdown does not wait 10 s for sleep, which ignores SIGTERM as PID 1.
    for (const [name, policy] of [['back', 'always'], ['down', 'no']]) {
      expect(d.docker(['run', '-d', '--name', name, '--restart', policy, '--stop-timeout', '0', '--health-cmd', 'true', '--health-interval', '200ms', IMG, 'sleep', '300']).status).toBe(0);
    }
    await until('back', (h) => h.Status === 'healthy');
    await until('down', (h) => h.Status === 'healthy');
    await d.stop({ keep: true });
    d = await startDaemon(d.dirs);
    const down = health('down');
    expect(d.docker(['inspect', '-f', '{{.State.Status}}', 'down']).stdout).toBe('exited\n');
    expect(down?.Status).toBe('unhealthy');
    expect(down?.Log.length).toBeGreaterThan(0);
    const before = health('back')?.Log.length ?? 0;
    // The policy starts it once the daemon is up.
    const back = await until('back', (h) => h.Status === 'healthy' && (h.Log.length > before || h.Log.length === 5));
    expect(back.Log.at(-1)?.ExitCode).toBe(0);
    expect(psStatus('back')).toMatch(/^Up .+ \(healthy\)$/);
    expect(d.docker(['rm', '-f', 'back', 'down']).status).toBe(0);
  });
});
