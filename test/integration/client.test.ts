// The bundled client against a real berthd, side by side with the docker CLI where output must match.
import { join } from 'path';
import { writeFileSync } from 'fs';
import { execFile, spawnSync } from 'child_process';
import { promisify } from 'util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxArchive } from '../helpers/busybox-image';
import { BERTH, DOCKER, hasDocker, leftovers, startDaemon, type TestDaemon } from '../helpers/daemon';

const run = promisify(execFile);

const IMG = 'berthclient/busybox:latest';

describe('berth client', () => {
  let d: TestDaemon;
  let tar: string;

  beforeAll(async () => {
    d = await startDaemon();
    tar = join(d.dataRoot, '..', 'busybox.tar');
    await makeBusyboxArchive(tar, { repoTag: IMG });
  });

  afterAll(async () => {
    if (!d) return;
    await d.stop();
    expect(leftovers(d)).toEqual([]);
  });

  it('loads an archive and lists the image', () => {
    const load = d.berth(['load', '-i', tar]);
    expect(load.status).toBe(0);
    expect(load.stdout).toContain(`Loaded image: ${IMG}`);
    const images = d.berth(['images']).stdout.split('\n');
    expect(images[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(images.some((l) => /^berthclient\/busybox\s+latest\s+[0-9a-f]{12}\s/.test(l))).toBe(true);
    expect(d.berth(['images', '-q']).stdout.trim()).toMatch(/^[0-9a-f]{12}$/);
  });

  it('runs, lists, inspects, stops and removes containers', () => {
    const run = d.berth(['run', '--rm', IMG, 'echo', 'hello from berth']);
    expect(run.stdout).toBe('hello from berth\n');
    expect(run.status).toBe(0);
    expect(d.berth(['run', '--rm', IMG, 'sh', '-c', 'exit 7']).status).toBe(7);
    const missing = d.berth(['run', '--rm', IMG, 'nosuchcmd']);
    expect(missing.status).toBe(127);
    expect(missing.stderr).toContain('executable file not found in $PATH');

    const id = d.berth(['run', '-d', '--name', 'svc', '-e', 'A=b', '-m', '32m', IMG, 'sleep', '300']).stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const ps = d.berth(['ps']).stdout.split('\n');
    expect(ps[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    expect(ps.some((l) => l.startsWith(id.slice(0, 12)) && l.endsWith('svc') && l.includes('"sleep 300"'))).toBe(true);
    expect(d.berth(['ps', '-q']).stdout.trim()).toBe(id.slice(0, 12));
    const [info] = JSON.parse(d.berth(['inspect', 'svc']).stdout) as Array<{ Config: { Env: string[] }; HostConfig: { Memory: number } }>;
    expect(info.Config.Env).toContain('A=b');
    expect(info.HostConfig.Memory).toBe(32 * 1024 * 1024);
    expect(d.berth(['inspect', '-f', '{{.State.Status}}', 'svc']).stdout).toBe('running\n');
    expect(d.berth(['stop', '-t', '0', 'svc']).stdout).toBe('svc\n');
    expect(d.berth(['ps', '-a', '--format', '{{.Status}}']).stdout).toMatch(/^Exited \(137\)/);
    const rm = d.berth(['rm', 'svc']);
    expect(rm.stdout).toBe('svc\n');
    expect(d.berth(['ps', '-aq']).stdout).toBe('');
  });

  it('prints the same ps table as the docker CLI', async () => {
    if (!hasDocker) return;
    d.berth(['create', '--name', 'same', IMG, 'sh', '-c', 'echo a long command line that gets cut']);
    d.berth(['start', 'same']);
    d.berth(['wait', 'same']);
    // Relative times tick between the two runs (berth's client starts slower than docker's under load):
    // their digits are masked, keeping their width, which sets the columns'. Both CLIs run at once, a
    // few tries in case one run falls on a change of width (9 to 10 seconds).
    const env = { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: join(d.dirs.base, 'docker-config') };
    const ps = (bin: string[]) => run(bin[0], [...bin.slice(1), 'ps', '-a'], { env }).then((r) => r.stdout.replace(/\d+(?= seconds? ago)/g, (n) => '0'.repeat(n.length)));
    let mine = '';
    let theirs = '';
    for (let i = 0; i < 5 && (mine === '' || mine !== theirs); i++) {
      [mine, theirs] = await Promise.all([ps([process.execPath, BERTH]), ps([DOCKER])]);
    }
    // A relative time is in the table (the singular and "Less than a second" on a quick machine).
    expect(mine).toMatch(/ (0+ seconds?|Less than a second) ago /);
    expect(mine).toBe(theirs);
    expect(d.berth(['logs', 'same']).stdout).toBe('a long command line that gets cut\n');
    d.berth(['rm', 'same']);
  });

  it('imports a tarball as an image with changes', () => {
    const root = join(d.dataRoot, '..', 'imp');
    spawnSync('mkdir', ['-p', `${root}/bin`]);
    spawnSync('cp', ['/bin/busybox', `${root}/bin/busybox`]);
    spawnSync('ln', ['-s', 'busybox', `${root}/bin/sh`]);
    writeFileSync(`${root}/hello.txt`, 'imported\n');
    const imp = join(d.dataRoot, '..', 'imp.tar');
    spawnSync('tar', ['-C', root, '-cf', imp, '.']);
    const r = d.berth(['import', '-c', 'CMD ["/bin/busybox", "cat", "/hello.txt"]', imp, 'imported:v1']);
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(d.berth(['run', '--rm', 'imported:v1']).stdout).toBe('imported\n');
    expect(d.berth(['rmi', 'imported:v1']).stdout).toMatch(/^Untagged: imported:v1\nDeleted: sha256:[0-9a-f]{64}\n/);
  });

  it('reports version, info and an unreachable daemon', () => {
    expect(d.berth(['version']).stdout).toMatch(/Server: berth[\s\S]*API version:\s+1\.43/);
    expect(d.berth(['info']).stdout).toMatch(/Cgroup Version: [12]/);
    const down = spawnSync(process.execPath, [join(__dirname, '../../dist/client/main.js'), '-H', 'unix:///nonexistent/berth.sock', 'ps'], { encoding: 'utf8' });
    expect(down.status).toBe(1);
    expect(down.stderr).toContain('Cannot connect to the berth daemon at unix:///nonexistent/berth.sock');
  });
});
