// Restart policies through the real docker CLI: validation, restarts with dockerd's backoff,
// stop/kill/rm -f of a restarting container, and what comes back when the daemon starts again.
import { existsSync, readFileSync } from 'fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasDocker, startDaemon, startDaemonWithImage, stopAndCheck, type TestDaemon } from '../helpers/daemon';

const IMG = 'berthrestart/busybox:latest';
/** `--until` for events up to this moment (a whole second would make the CLI wait for it). */
const now = (): string => (Date.now() / 1000).toFixed(3);

interface State {
  Status: string;
  Running: boolean;
  Restarting: boolean;
  ExitCode: number;
}

describe.skipIf(!hasDocker)('restart policies', () => {
  let d: TestDaemon;

  const inspect = (ref: string): { State: State; RestartCount: number; HostConfig: { RestartPolicy: { Name: string; MaximumRetryCount: number } } } => {
    const r = d.docker(['inspect', ref]);
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout)[0];
  };

  /** Polls inspect until `ok` holds; fails with the last state after the deadline. */
  const until = async (ref: string, ok: (c: ReturnType<typeof inspect>) => boolean, ms = 10_000): Promise<ReturnType<typeof inspect>> => {
    const end = Date.now() + ms;
    for (;;) {
      const c = inspect(ref);
      if (ok(c)) return c;
      if (Date.now() > end) throw new Error(`condition not met for ${ref}: ${JSON.stringify({ State: c.State, RestartCount: c.RestartCount })}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  beforeAll(async () => {
    d = await startDaemonWithImage(IMG);
  });

  afterAll(async () => {
    if (d) await stopAndCheck(d);
  });

  it('refuses bad policies with dockerd messages and creates nothing', async () => {
    const before = d.docker(['ps', '-aq']).stdout;
    const cases: Array<[string[], string]> = [
      [['--restart', 'foo'], "Error response from daemon: invalid restart policy 'foo'"],
      [['--restart', 'always:3'], "Error response from daemon: maximum retry count cannot be used with restart policy 'always'"],
      [['--restart', 'unless-stopped:1'], "Error response from daemon: maximum retry count cannot be used with restart policy 'unless-stopped'"],
      [['--restart', 'on-failure:-1'], 'Error response from daemon: maximum retry count cannot be negative'],
      [['--restart', 'on-failure:x'], 'invalid restart policy format: maximum retry count must be an integer'],
      [['--rm', '--restart', 'always'], 'conflicting options: cannot specify both --restart and --rm'],
    ];
    for (const [flags, message] of cases) {
      const r = d.docker(['run', '-d', ...flags, IMG, 'true']);
      expect(r.status).toBe(125);
      expect(r.stderr).toContain(message);
    }
    // Past the CLI's own check, the daemon refuses it too.
    const api = await d.api<{ message: string }>('POST', '/containers/create', { Image: IMG, Cmd: ['true'], HostConfig: { AutoRemove: true, RestartPolicy: { Name: 'always' } } });
    expect(api.status).toBe(400);
    expect(api.body.message).toBe("can't create 'AutoRemove' container with restart policy");
    expect(d.docker(['ps', '-aq']).stdout).toBe(before);
  });

  it('on-failure:2 restarts a failing command twice, then leaves it exited', async () => {
    expect(d.docker(['run', '-d', '--name', 'fail2', '--restart', 'on-failure:2', IMG, 'sh', '-c', 'exit 3']).status).toBe(0);
    const c = await until('fail2', (x) => x.RestartCount === 2 && x.State.Status === 'exited');
    expect(c.State).toMatchObject({ Running: false, Restarting: false, ExitCode: 3 });
    expect(c.HostConfig.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 2 });
    // No third start after the backoff it would have had (400 ms).
    await new Promise((r) => setTimeout(r, 600));
    expect(inspect('fail2').RestartCount).toBe(2);
    const events = d.docker(['events', '--since', '0', '--until', now(), '--filter', 'container=fail2', '--format', '{{.Action}}']);
    expect(events.stdout.split('\n').filter((a) => a === 'start' || a === 'die')).toEqual(['start', 'die', 'start', 'die', 'start', 'die']);
    // berth's own client sends the same policy.
    expect(d.berth(['run', '-d', '--name', 'bfail', '--restart', 'on-failure:1', IMG, 'sh', '-c', 'exit 4']).status).toBe(0);
    await until('bfail', (x) => x.RestartCount === 1 && x.State.Status === 'exited');
    expect(d.berth(['ps', '-a', '--filter', 'name=bfail', '--format', '{{.Status}}']).stdout).toMatch(/^Exited \(4\) /);
    // on-failure leaves a clean exit alone.
    expect(d.docker(['run', '-d', '--name', 'ok0', '--restart', 'on-failure', IMG, 'true']).status).toBe(0);
    await until('ok0', (x) => x.State.Status === 'exited');
    expect(inspect('ok0').RestartCount).toBe(0);
  });

  it('always restarts an exiting container (die/start events, Restarting in ps) until docker stop', async () => {
    expect(d.docker(['run', '-d', '--name', 'loop', '--restart', 'always', IMG, 'sh', '-c', 'sleep 0.3; exit 0']).status).toBe(0);
    await until('loop', (x) => x.RestartCount >= 2);
    // Between a die and the next start it is "restarting" and counts as running.
    const seen = await until('loop', (x) => x.State.Restarting, 15_000);
    expect(seen.State).toMatchObject({ Status: 'restarting', Running: true });
    const events = d.docker(['events', '--since', '0', '--until', now(), '--filter', 'container=loop', '--filter', 'event=die', '--filter', 'event=start', '--format', '{{.Action}}']);
    const actions = events.stdout.split('\n').filter(Boolean);
    expect(actions.slice(0, 4)).toEqual(['start', 'die', 'start', 'die']);

    expect(d.docker(['stop', '-t', '1', 'loop']).status).toBe(0);
    const stopped = inspect('loop');
    expect(stopped.State).toMatchObject({ Status: 'exited', Running: false, Restarting: false });
    const count = stopped.RestartCount;
    await new Promise((r) => setTimeout(r, 800));
    expect(inspect('loop')).toMatchObject({ RestartCount: count, State: { Status: 'exited' } });
    // A start by the user begins the count afresh, as dockerd's.
    expect(d.docker(['start', 'loop']).status).toBe(0);
    expect(inspect('loop').RestartCount).toBe(0);
    expect(d.docker(['kill', 'loop']).status).toBe(0);
    await until('loop', (x) => x.State.Status === 'exited');
    await new Promise((r) => setTimeout(r, 300));
    expect(inspect('loop').State.Status).toBe('exited');
  });

  it('ps shows Restarting (N) while it waits; rm refuses it, rm -f removes it', async () => {
    // Quick failures: the backoff doubles (100, 200, 400, 800, 1600 ms), the fifth wait is long enough to look at.
    expect(d.docker(['run', '-d', '--name', 'flappy', '--restart', 'always', IMG, 'sh', '-c', 'exit 1']).status).toBe(0);
    await until('flappy', (x) => x.State.Restarting && x.RestartCount >= 5, 15_000);
    const ps = d.docker(['ps', '--filter', 'name=flappy', '--format', '{{.Status}}|{{.State}}']);
    expect(ps.stdout).toMatch(/^Restarting \(1\) (Less than a second|1 second) ago\|restarting\n$/);
    const rm = d.docker(['rm', 'flappy']);
    expect(rm.status).toBe(1);
    expect(rm.stderr).toContain('cannot remove container "/flappy": container is restarting: stop the container before removing or force remove');
    expect(d.docker(['rm', '-f', 'flappy']).status).toBe(0);
    expect(d.docker(['inspect', 'flappy']).status).toBe(1);
    // Nothing starts it again after its backoff.
    await new Promise((r) => setTimeout(r, 1800));
    expect(d.docker(['ps', '-aq', '--filter', 'name=flappy']).stdout).toBe('');
  });

  it('after a daemon restart: always comes back even when stopped by the user, unless-stopped only when it was not', async () => {
    // --stop-timeout 0: the daemon's shutdown does not wait 10 s for sleep, which ignores SIGTERM as PID 1.
    const run = (name: string, policy: string) => expect(d.docker(['run', '-d', '--name', name, '--restart', policy, '--stop-timeout', '0', IMG, 'sleep', '300']).status).toBe(0);
    run('alw-running', 'always');
    run('alw-stopped', 'always');
    run('us-running', 'unless-stopped');
    run('us-stopped', 'unless-stopped');
    run('no-policy', 'no');
    expect(d.docker(['stop', '-t', '0', 'alw-stopped', 'us-stopped']).status).toBe(0);
    // Limits set by docker update are what the container gets when the daemon starts it again.
    expect(d.docker(['update', '--pids-limit', '25', 'alw-running']).status).toBe(0);

    await d.stop({ keep: true });
    d = await startDaemon(d.dirs);
    const state = (n: string) => inspect(n).State.Status;
    for (const n of ['alw-running', 'alw-stopped', 'us-running']) await until(n, (x) => x.State.Status === 'running');
    const id = d.docker(['inspect', '-f', '{{.Id}}', 'alw-running']).stdout.trim();
    const pidsMax = existsSync('/sys/fs/cgroup/cgroup.controllers') ? `/sys/fs/cgroup/${d.cgroupParent}/${id}/pids.max` : `/sys/fs/cgroup/pids/${d.cgroupParent}/${id}/pids.max`;
    expect(readFileSync(pidsMax, 'utf8').trim()).toBe('25');
    expect(state('us-stopped')).toBe('exited');
    expect(state('no-policy')).toBe('exited');
    // The unless-stopped container stays down through a second restart as well.
    await d.stop({ keep: true });
    d = await startDaemon(d.dirs);
    await until('us-running', (x) => x.State.Status === 'running');
    expect(state('us-stopped')).toBe('exited');
    expect(d.docker(['rm', '-f', 'alw-running', 'alw-stopped', 'us-running', 'us-stopped', 'no-policy']).status).toBe(0);
  });
});
