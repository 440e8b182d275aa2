// GET /events through the real docker CLI and the API: history by since/until, filters, streaming.
import { existsSync } from 'fs';
import { type IncomingMessage, request } from 'http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasDocker, type TestDaemon, startDaemonWithImage, stopAndCheck } from '../helpers/daemon';

const IMG = 'berthevents/busybox:latest';

interface Ev {
  status?: string;
  id?: string;
  from?: string;
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: string;
  time: number;
  timeNano: number;
}

const nowTs = (): string => (Date.now() / 1000).toFixed(3);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasDocker)('events', () => {
  let d: TestDaemon;

  beforeAll(async () => {
    d = await startDaemonWithImage(IMG);
  });

  afterAll(async () => {
    if (d) await stopAndCheck(d);
  });

  it('reports a run as create, attach, start, die in order, through the CLI and the API', async () => {
    const since = nowTs();
    await sleep(20);
    expect(d.docker(['run', '--name', 'ev1', '-l', 'team=blue', IMG, 'true']).status).toBe(0);
    await sleep(20);
    const until = nowTs();
    const cli = d.docker(['events', '--since', since, '--until', until, '--filter', 'container=ev1', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}']);
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toBe('container create ev1\ncontainer attach ev1\ncontainer start ev1\ncontainer die ev1\n');

    const q = new URLSearchParams({ since, until, filters: JSON.stringify({ container: ['ev1'] }) });
    const r = await d.api('GET', `/events?${q}`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    const evs = r.raw.trim().split('\n').map((l) => JSON.parse(l) as Ev);
    expect(evs.map((e) => e.Action)).toEqual(['create', 'attach', 'start', 'die']);
    const id = d.docker(['inspect', '-f', '{{.Id}}', 'ev1']).stdout.trim();
    const die = evs[3];
    expect(die).toMatchObject({ status: 'die', id, from: IMG, Type: 'container', Action: 'die', scope: 'local' });
    expect(die.Actor).toEqual({ ID: id, Attributes: { exitCode: '0', image: IMG, name: 'ev1', team: 'blue' } });
    // Legacy keys first, as dockerd encodes the message; timeNano is the same instant as time.
    expect(r.raw.split('\n')[0].startsWith('{"status":"create","id":')).toBe(true);
    expect(Math.floor(die.timeNano / 1e9)).toBe(die.time);
    expect(evs.every((e, i) => i === 0 || e.timeNano >= evs[i - 1].timeNano)).toBe(true);
  });

  it('filters by type, event, image and label, and rejects unknown filters', async () => {
    const since = nowTs();
    await sleep(20);
    expect(d.docker(['run', '--name', 'ev2', IMG, 'true']).status).toBe(0);
    expect(d.docker(['rm', 'ev2']).status).toBe(0);
    await sleep(20);
    const until = nowTs();
    const base = ['events', '--since', since, '--until', until, '--format', '{{.Action}}'];
    expect(d.docker([...base, '--filter', 'event=destroy']).stdout).toBe('destroy\n');
    expect(d.docker([...base, '--filter', 'event=start', '--filter', 'event=die']).stdout).toBe('start\ndie\n');
    expect(d.docker([...base, '--filter', 'image=berthevents/busybox', '--filter', 'event=create']).stdout).toBe('create\n');
    expect(d.docker([...base, '--filter', 'type=image']).stdout).toBe('');
    expect(d.docker([...base, '--filter', 'label=team=blue']).stdout).toBe('');
    const bad = await d.api<{ message: string }>('GET', `/events?filters=${encodeURIComponent('{"colour":["red"]}')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe("invalid filter 'colour'");
    const badTime = await d.api<{ message: string }>('GET', '/events?since=yesterday');
    expect(badTime.status).toBe(400);
  });

  it('streams live events: a stop ignored by PID 1 is kill 15, kill 9, die, stop; exec is exec_create, exec_start, exec_die', async () => {
    expect(d.docker(['run', '-d', '--name', 'ev3', IMG, 'sleep', '300']).status).toBe(0);
    const got: Ev[] = [];
    const req = request({ socketPath: d.socket, path: `/events?filters=${encodeURIComponent('{"container":["ev3"]}')}` });
    const open = new Promise<void>((resolve, reject) => {
      req.on('response', (res) => {
        let buf = '';
        res.on('data', (c: Buffer) => {
          buf += c.toString();
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            got.push(JSON.parse(buf.slice(0, nl)) as Ev);
            buf = buf.slice(nl + 1);
          }
        });
        resolve();
      });
      req.on('error', reject);
    });
    req.end();
    await open;
    expect(d.docker(['exec', 'ev3', 'sh', '-c', 'exit 3']).status).toBe(3);
    expect(d.docker(['stop', '-t', '1', 'ev3']).status).toBe(0);
    for (let i = 0; i < 50 && got.length < 7; i++) await sleep(50);
    req.destroy();
    expect(got.map((e) => e.Action)).toEqual(['exec_create: sh -c exit 3', 'exec_start: sh -c exit 3', 'exec_die', 'kill', 'kill', 'die', 'stop']);
    expect(got[2].Actor.Attributes.exitCode).toBe('3');
    expect(got[3].Actor.Attributes.signal).toBe('15');
    expect(got[4].Actor.Attributes.signal).toBe('9');
    expect(got[5].Actor.Attributes.exitCode).toBe('137');
    // The filter event=exec_start matches the action before its colon, as Docker's does.
    const q = new URLSearchParams({ since: '0', until: nowTs(), filters: JSON.stringify({ event: ['exec_start'], container: ['ev3'] }) });
    const past = await d.api('GET', `/events?${q}`);
    expect(past.raw.trim().split('\n').map((l) => (JSON.parse(l) as Ev).Action)).toEqual(['exec_start: sh -c exit 3']);
  });
  it('a start or a removal sent on the die event waits for the ended run\'s cleanup', async () => {
    const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
    const cgroup = (id: string): string => (v2 ? `/sys/fs/cgroup/${d.cgroupParent}/${id}` : `/sys/fs/cgroup/pids/${d.cgroupParent}/${id}`);
    // The API call goes out from the stream's own data handler: within the daemon's network and cgroup teardown.
    const onDie = async (name: string, act: () => Promise<{ status: number }>): Promise<{ done: Promise<{ status: number }> }> => {
      const req = request({ socketPath: d.socket, path: `/events?filters=${encodeURIComponent(JSON.stringify({ container: [name], event: ['die'] }))}` });
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        req.on('response', resolve);
        req.on('error', reject);
        req.end();
      });
      const done = new Promise<{ status: number }>((resolve, reject) => res.once('data', () => act().then(resolve, reject)));
      return { done: done.finally(() => req.destroy()) };
    };
    expect(d.docker(['create', '--name', 'ev4', '-p', '127.0.0.1::80', IMG, 'sh', '-c', 'sleep 0.3']).status).toBe(0);
    const id = d.docker(['inspect', '-f', '{{.Id}}', 'ev4']).stdout.trim();
    for (let round = 0; round < 3; round++) {
      const started = await onDie('ev4', () => d.api('POST', '/containers/ev4/start'));
      expect(d.docker(['start', 'ev4']).status).toBe(0);
      expect((await started.done).status).toBe(204);
      // The cleanup of the first run left the second alone: it runs, in its cgroup, until its own end.
      expect(d.docker(['inspect', '-f', '{{.State.Running}}', 'ev4']).stdout).toBe('true\n');
      expect(existsSync(cgroup(id))).toBe(true);
      expect(d.docker(['wait', 'ev4']).stdout).toBe('0\n');
    }
    const removed = await onDie('ev4', () => d.api('DELETE', '/containers/ev4'));
    expect(d.docker(['start', 'ev4']).status).toBe(0);
    expect((await removed.done).status).toBe(204);
    // Gone means gone: nothing of the run is left when the removal answers.
    expect(existsSync(cgroup(id))).toBe(false);
    expect(d.docker(['ps', '-aq', '--filter', 'name=ev4']).stdout).toBe('');
  });
});
