// The berth client's logs, cp, diff, top, stats, pause, unpause, wait, rename, events, container
// prune and inspect --format, checked against what the real docker CLI prints for the same daemon.
import { spawn } from 'child_process';
import { mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'fs';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxArchive } from '../helpers/busybox-image';
import { BERTH, DOCKER, hasDocker, startDaemon, type TestDaemon, stopAndCheck } from '../helpers/daemon';

const IMG = 'berthcli/busybox:latest';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasDocker)('berth client: streams and inspection', () => {
  let d: TestDaemon;
  let work: string;

  beforeAll(async () => {
    d = await startDaemon();
    work = join(d.dataRoot, '..', 'work');
    mkdirSync(work);
    const tar = join(d.dataRoot, '..', 'busybox.tar');
    await makeBusyboxArchive(tar, { repoTag: IMG });
    expect(d.docker(['load', '-i', tar]).status).toBe(0);
    expect(d.berth(['run', '-d', '--name', 'live', IMG, 'sleep', '300']).status).toBe(0);
  });

  afterAll(async () => {
    if (d) await stopAndCheck(d);
  });

  it('logs: --tail, -t, --since/--until, streams apart, -f until exit, as docker prints them', async () => {
    expect(d.berth(['run', '--name', 'seq', IMG, 'sh', '-c', 'seq 1 100; echo oops >&2']).status).toBe(0);
    for (const args of [['--tail', '3'], ['-n', '1'], ['-t'], []]) {
      const mine = d.berth(['logs', ...args, 'seq']);
      const theirs = d.docker(['logs', ...args, 'seq']);
      expect(mine.stdout).toBe(theirs.stdout);
      expect(mine.stderr).toBe(theirs.stderr);
    }
    expect(d.berth(['logs', '--tail', '3', 'seq'])).toMatchObject({ stdout: '99\n100\n', stderr: 'oops\n' });
    expect(d.berth(['logs', '--until', '1h', 'seq']).stdout).toBe('');
    expect(d.berth(['logs', '--since', '1h', 'seq']).stdout.split('\n')).toHaveLength(101);
    expect(d.berth(['run', '-d', '--name', 'fol', IMG, 'sh', '-c', 'echo a; sleep 1; echo b']).status).toBe(0);
    const t0 = Date.now();
    expect(d.berth(['logs', '-f', 'fol'])).toMatchObject({ status: 0, stdout: 'a\nb\n' });
    expect(Date.now() - t0).toBeGreaterThan(500);
  });

  it('exec and attach as docker does them', async () => {
    expect(d.berth(['exec', '-e', 'A=5', '-w', '/tmp', '-u', 'berthuser', 'live', 'sh', '-c', 'echo $A; pwd; id -u'])).toMatchObject({ status: 0, stdout: '5\n/tmp\n1000\n' });
    expect(d.berth(['exec', 'live', 'sh', '-c', 'echo err >&2; exit 4'])).toMatchObject({ status: 4, stderr: 'err\n' });
    expect(d.berth(['exec', '-i', 'live', 'wc', '-c'], { input: 'twelve bytes' }).stdout.trim()).toBe('12');
    expect(d.berth(['exec', '-d', 'live', 'sh', '-c', 'echo bg > /tmp/bg']).status).toBe(0);
    let bg = '';
    for (let i = 0; i < 20 && bg !== 'bg\n'; i++) bg = d.docker(['exec', 'live', 'cat', '/tmp/bg']).stdout;
    expect(bg).toBe('bg\n');
    const missing = d.berth(['exec', 'live', 'nosuchcmd']);
    expect(missing.status).toBe(127);
    expect(missing.stdout + missing.stderr).toContain('executable file not found in $PATH');
    expect(d.berth(['create', '--name', 'cold', IMG, 'true']).status).toBe(0);
    expect(d.berth(['exec', 'cold', 'true']).stderr).toBe(d.docker(['exec', 'cold', 'true']).stderr);
    // The container speaks once /tmp/go exists, which the test makes after attaching.
    expect(d.berth(['run', '-d', '--name', 'talker', IMG, 'sh', '-c', 'while [ ! -e /tmp/go ]; do sleep 0.1; done; echo said; echo oops >&2; exit 3']).status).toBe(0);
    const child = spawn(process.execPath, [BERTH, 'attach', 'talker'], { env: { ...process.env, DOCKER_HOST: d.host } });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // Attached once the daemon has logged the attach event for it.
    for (let i = 0; i < 100 && !d.docker(['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'container=talker', '--filter', 'event=attach', '--format', '{{.Action}}']).stdout; i++) await sleep(100);
    expect(d.docker(['exec', 'talker', 'touch', '/tmp/go']).status).toBe(0);
    expect(await exited).toBe(3);
    expect({ out, err }).toEqual({ out: 'said\n', err: 'oops\n' });
    expect(d.berth(['attach', 'talker']).stderr).toContain('You cannot attach to a stopped container, start it first');
  });

  it('pause, unpause, rename, wait and inspect --format', () => {
    expect(d.berth(['pause', 'live'])).toMatchObject({ status: 0, stdout: 'live\n' });
    expect(d.berth(['inspect', '--format', '{{.State.Status}} {{json .State.Paused}}', 'live']).stdout).toBe('paused true\n');
    const twice = d.berth(['pause', 'live']);
    expect(twice.status).toBe(1);
    expect(twice.stderr).toBe(d.docker(['pause', 'live']).stderr);
    expect(d.berth(['unpause', 'live'])).toMatchObject({ status: 0, stdout: 'live\n' });
    expect(d.berth(['rename', 'live', 'alive']).status).toBe(0);
    expect(d.berth(['container', 'inspect', '-f', '{{.Name}}', 'alive']).stdout).toBe('/alive\n');
    expect(d.berth(['rename', 'alive', 'live']).status).toBe(0);
    expect(d.berth(['rename', 'nosuch', 'x']).stderr).toBe(d.docker(['rename', 'nosuch', 'x']).stderr);
    const run = d.berth(['run', '-d', '--name', 'w7', IMG, 'sh', '-c', 'exit 7']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(d.berth(['wait', 'w7']).stdout).toBe('7\n');
    expect(d.berth(['inspect', '--format', '{{.State.ExitCode}', 'w7']).status).not.toBe(0);
  });

  it('top, diff and stats print what docker prints', () => {
    const mine = d.berth(['top', 'live', '-o', 'pid,args']).stdout;
    expect(mine).toBe(d.docker(['top', 'live', '-o', 'pid,args']).stdout);
    expect(mine).toMatch(/^PID\s+COMMAND\n\d+\s+sleep 300\n$/);
    expect(d.berth(['top', 'live']).stdout.split('\n')[0]).toBe(d.docker(['top', 'live']).stdout.split('\n')[0]);
    expect(d.berth(['run', '--name', 'ch', IMG, 'sh', '-c', 'mkdir /n && touch /n/f && rm /etc/group']).status).toBe(0);
    expect(d.berth(['diff', 'ch']).stdout).toBe('C /etc\nD /etc/group\nA /n\nA /n/f\n');
    expect(d.berth(['container', 'diff', 'ch']).stdout).toBe(d.docker(['diff', 'ch']).stdout);
    const stats = d.berth(['stats', '--no-stream', 'live']).stdout.split('\n');
    // Column widths follow the row's values (NET I/O grows between the two samples): compare the headings.
    const headings = (line: string): string[] => line.split(/\s{2,}/);
    expect(headings(stats[0])).toEqual(headings(d.docker(['stats', '--no-stream', 'live']).stdout.split('\n')[0]));
    expect(stats[1]).toMatch(/^[0-9a-f]{12}\s+live\s+\d+\.\d\d%\s+[\d.]+[KMG]?i?B \/ [\d.]+[KMG]iB\s+\d+\.\d\d%\s+\S+ \/ \S+\s+\S+ \/ \S+\s+1$/);
    const fmt = ['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}} {{.Container}}', 'live'];
    expect(d.berth(fmt).stdout).toBe(d.docker(fmt).stdout);
  });

  it('stats without --no-stream redraws a live table, in berth and in docker', async () => {
    const live = async (bin: string[]): Promise<string> => {
      const child = spawn(bin[0], [...bin.slice(1), 'stats', 'live'], { env: { ...process.env, DOCKER_HOST: d.host } });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      const exited = new Promise((resolve) => child.on('exit', resolve));
      await sleep(4000);
      child.kill('SIGKILL');
      await exited;
      return out;
    };
    for (const out of [await live([process.execPath, BERTH]), await live([DOCKER])]) {
      // At least two redraws (cursor home, then the table), each with the header and the container's row.
      expect(out.split('\x1b[H').length).toBeGreaterThanOrEqual(3);
      expect(out).toMatch(/CONTAINER ID\s+NAME\s+CPU %/);
      expect(out).toMatch(/[0-9a-f]{12}\s+live\s+\d+\.\d\d%/);
    }
  });

  it('cp round trips a file and a directory, also with a stopped container', () => {
    writeFileSync(join(work, 'f.txt'), 'file body\n');
    mkdirSync(join(work, 'dir', 'sub'), { recursive: true });
    writeFileSync(join(work, 'dir', 'sub', 'g.txt'), 'nested\n');
    require('fs').symlinkSync('sub/g.txt', join(work, 'dir', 'ln'));
    expect(d.berth(['cp', join(work, 'f.txt'), 'live:/tmp/f.txt'])).toMatchObject({ status: 0, stderr: '' });
    expect(d.docker(['exec', 'live', 'cat', '/tmp/f.txt']).stdout).toBe('file body\n');
    expect(d.berth(['cp', join(work, 'dir'), 'live:/d']).status).toBe(0);
    expect(d.docker(['exec', 'live', 'sh', '-c', 'cat /d/sub/g.txt; readlink /d/ln']).stdout).toBe('nested\nsub/g.txt\n');
    expect(d.docker(['exec', 'live', 'mkdir', '/e']).status).toBe(0);
    expect(d.berth(['cp', `${join(work, 'dir')}/.`, 'live:/e']).status).toBe(0);
    expect(d.docker(['exec', 'live', 'ls', '/e']).stdout).toBe('ln\nsub\n');
    expect(d.berth(['cp', 'live:/d', join(work, 'back')]).status).toBe(0);
    expect(readFileSync(join(work, 'back', 'sub', 'g.txt'), 'utf8')).toBe('nested\n');
    expect(readlinkSync(join(work, 'back', 'ln'))).toBe('sub/g.txt');
    mkdirSync(join(work, 'into'));
    expect(d.berth(['cp', 'live:/d/.', join(work, 'into')]).status).toBe(0);
    expect(readFileSync(join(work, 'into', 'sub', 'g.txt'), 'utf8')).toBe('nested\n');
    expect(d.berth(['cp', 'live:/tmp/f.txt', join(work, 'into')]).status).toBe(0);
    expect(readFileSync(join(work, 'into', 'f.txt'), 'utf8')).toBe('file body\n');
    // A stopped container, both ways.
    expect(d.berth(['create', '--name', 'off', IMG, 'cat', '/in/sub/g.txt']).status).toBe(0);
    expect(d.berth(['cp', join(work, 'dir'), 'off:/in']).status).toBe(0);
    expect(d.berth(['start', '-a', 'off']).stdout).toBe('nested\n');
    expect(d.berth(['cp', 'off:/in/sub/g.txt', join(work, 'g-from-stopped')]).status).toBe(0);
    expect(readFileSync(join(work, 'g-from-stopped'), 'utf8')).toBe('nested\n');
    // Errors as docker words them.
    expect(d.berth(['cp', 'live:/nosuch', join(work, 'x')]).stderr).toBe(d.docker(['cp', 'live:/nosuch', join(work, 'x')]).stderr);
    expect(d.berth(['cp', join(work, 'f.txt'), join(work, 'g.txt')]).stderr).toContain('must specify at least one container source');
    expect(d.berth(['cp', 'a:/x', 'b:/y']).stderr).toContain('copying between containers is not supported');
  });

  it('events with --since/--until, filters and --format match docker; container prune', async () => {
    const since = (Date.now() / 1000).toFixed(3);
    await sleep(20);
    expect(d.berth(['run', '--name', 'evc', IMG, 'true']).status).toBe(0);
    await sleep(20);
    const until = (Date.now() / 1000).toFixed(3);
    const args = ['events', '--since', since, '--until', until, '--filter', 'container=evc'];
    const mine = d.berth(args);
    expect(mine.stdout).toBe(d.docker(args).stdout);
    expect(mine.stdout).toMatch(/^\S+Z container create [0-9a-f]{64} \(image=berthcli\/busybox:latest, name=evc\)\n/);
    for (const format of ['{{.Action}} {{.Actor.Attributes.name}}', '{{json .}}', 'json']) {
      expect(d.berth([...args, '--format', format]).stdout).toBe(d.docker([...args, '--format', format]).stdout);
    }
    expect(d.berth(['system', 'events', '--since', since, '--until', until, '--filter', 'event=die', '--format', '{{.Status}}']).stdout).toBe('die\n');
    expect(d.docker(['run', '--name', 'junk', '-l', 'prune=me', IMG, 'true']).status).toBe(0);
    const junk = d.docker(['inspect', '-f', '{{.Id}}', 'junk']).stdout.trim();
    const pruned = d.berth(['container', 'prune', '-f', '--filter', 'label=prune=me']);
    expect(pruned.status).toBe(0);
    expect(pruned.stdout).toBe(`Deleted Containers:\n${junk}\n\nTotal reclaimed space: 0B\n`);
    expect(d.berth(['ps', '-a', '--format', '{{.Names}}']).stdout.split('\n')).toContain('evc');
    expect(d.berth(['ps', '-a', '--format', '{{.Names}}']).stdout.split('\n')).not.toContain('junk');
    const declined = d.berth(['container', 'prune'], { input: 'n\n' });
    expect(declined.stdout).toBe('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ');
    expect(d.berth(['ps', '-a', '--format', '{{.Names}}']).stdout).toContain('evc');
  });
});
