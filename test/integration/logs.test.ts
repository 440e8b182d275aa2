// docker logs through the real CLI: tail, streams kept apart, follow until exit, since/until,
// timestamps, rotation with max-size/max-file, and logs kept across a daemon restart.
import { spawn } from 'child_process';
import { existsSync, statSync } from 'fs';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER, hasDocker, startDaemon, type TestDaemon, startDaemonWithImage, stopAndCheck } from '../helpers/daemon';

const IMG = 'berthlogs/busybox:latest';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasDocker)('logs', () => {
  let d: TestDaemon;

  beforeAll(async () => {
    d = await startDaemonWithImage(IMG);
  });

  afterAll(async () => {
    if (d) await stopAndCheck(d);
  });

  it('--tail 3 of seq 1 100 is 98 99 100', () => {
    expect(d.docker(['run', '--name', 'seq', IMG, 'seq', '1', '100']).status).toBe(0);
    const r = d.docker(['logs', '--tail', '3', 'seq']);
    expect(r.stdout).toBe('98\n99\n100\n');
    expect(d.docker(['logs', '-n', '0', 'seq']).stdout).toBe('');
    expect(d.docker(['logs', 'seq']).stdout.split('\n').length).toBe(101);
  });

  it('keeps stdout and stderr apart', async () => {
    expect(d.docker(['run', '--name', 'split', IMG, 'sh', '-c', 'echo out1; echo err1 >&2; echo out2']).status).toBe(0);
    const r = d.docker(['logs', 'split']);
    expect(r.stdout).toBe('out1\nout2\n');
    expect(r.stderr).toBe('err1\n');
    const onlyErr = await d.api('GET', '/containers/split/logs?stderr=1');
    // One multiplexed frame, stream 2.
    expect(Buffer.from(onlyErr.raw, 'latin1')).toEqual(Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 5]), Buffer.from('err1\n')]));
    const none = await d.api<{ message: string }>('GET', '/containers/split/logs');
    expect(none.status).toBe(400);
    expect(none.body.message).toBe('Bad parameters: you must choose at least one stream');
  });

  it('logs -f follows a running container and ends when it exits', async () => {
    expect(d.docker(['run', '-d', '--name', 'follow', IMG, 'sh', '-c', 'echo first; sleep 2; echo second >&2; echo third']).status).toBe(0);
    const started = Date.now();
    const child = spawn(DOCKER, ['logs', '-f', 'follow'], { env: { ...process.env, DOCKER_HOST: d.host } });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    await sleep(1000);
    expect(out).toBe('first\n');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(out).toBe('first\nthird\n');
    expect(err).toBe('second\n');
  });

  it('prints timestamps, and selects by since and until', async () => {
    expect(d.docker(['run', '-d', '--name', 'timed', IMG, 'sh', '-c', 'echo early; sleep 1.5; echo late']).status).toBe(0);
    await sleep(700);
    const middle = (Date.now() / 1000).toFixed(3);
    expect(d.docker(['wait', 'timed']).stdout).toBe('0\n');
    const t = d.docker(['logs', '-t', 'timed']).stdout;
    expect(t).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z early\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z late\n$/);
    expect(d.docker(['logs', '--since', middle, 'timed']).stdout).toBe('late\n');
    expect(d.docker(['logs', '--until', middle, 'timed']).stdout).toBe('early\n');
  });

  it('rotates with --log-opt max-size and max-file, and reads across the rotated files', () => {
    const script = 'i=1; while [ $i -le 300 ]; do echo "line $i ........................................"; i=$((i+1)); done';
    expect(d.docker(['run', '--name', 'rot', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=3', IMG, 'sh', '-c', script]).status).toBe(0);
    const id = d.docker(['inspect', '-f', '{{.Id}}', 'rot']).stdout.trim();
    const log = join(d.dataRoot, 'containers', id, `${id}-json.log`);
    expect(existsSync(`${log}.1`)).toBe(true);
    expect(existsSync(`${log}.2`)).toBe(true);
    expect(existsSync(`${log}.3`)).toBe(false);
    // A file is rotated once it reaches max-size, so none grows past it by more than a line.
    for (const f of [log, `${log}.1`, `${log}.2`]) expect(statSync(f).size).toBeLessThan(2000 + 200);
    const lines = d.docker(['logs', 'rot']).stdout.trim().split('\n');
    const nums = lines.map((l) => Number(/^line (\d+) /.exec(l)?.[1]));
    expect(nums[nums.length - 1]).toBe(300);
    expect(nums[0]).toBeGreaterThan(1);
    expect(nums.every((n, i) => i === 0 || n === nums[i - 1] + 1)).toBe(true);
    expect(d.docker(['inspect', '-f', '{{json .HostConfig.LogConfig}}', 'rot']).stdout.trim()).toBe('{"Type":"json-file","Config":{"max-file":"3","max-size":"2k"}}');
  });

  it('refuses unknown log options and drivers at create, and logs of driver none', () => {
    const bad = d.docker(['run', '--rm', '--log-opt', 'colour=red', IMG, 'true']);
    expect(bad.status).toBe(125);
    expect(bad.stderr).toContain("unknown log opt 'colour' for json-file log driver");
    const file = d.docker(['create', '--log-opt', 'max-file=0', '--log-opt', 'max-size=1k', IMG, 'true']);
    expect(file.stderr).toContain('max-file cannot be less than 1');
    expect(d.docker(['create', '--log-driver', 'nosuch', IMG, 'true']).stderr).toContain("logger: no log driver named 'nosuch' is registered");
    expect(d.docker(['run', '--name', 'quiet', '--log-driver', 'none', IMG, 'echo', 'hi']).stdout).toBe('hi\n');
    const logs = d.docker(['logs', 'quiet']);
    expect(logs.status).not.toBe(0);
    expect(logs.stderr).toContain('configured logging driver does not support reading');
  });

  it('keeps the logs across a daemon restart', async () => {
    expect(d.docker(['run', '--name', 'kept', IMG, 'sh', '-c', 'echo before restart']).status).toBe(0);
    await d.stop({ keep: true });
    d = await startDaemon(d.dirs);
    expect(d.docker(['logs', 'kept']).stdout).toBe('before restart\n');
    expect(d.docker(['logs', '--tail', '1', 'seq']).stdout).toBe('100\n');
  });
});
