// docker cp both ways (files, directories, trailing "/" and "/."), on running and stopped
// containers, that never escapes the container's root; docker diff from the writable layer.
import { execFileSync, spawn } from 'child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxLayerEntries, makeBusyboxArchive, makeLayerTar } from '../helpers/busybox-image';
import { DOCKER, hasDocker, startDaemon, stopAndCheck, type TestDaemon } from '../helpers/daemon';

const IMG = 'berthfiles/busybox:latest';

describe.skipIf(!hasDocker)('files', () => {
  let d: TestDaemon;
  let work: string;
  const tag = `berth-cp-${process.pid}`;

  beforeAll(async () => {
    d = await startDaemon();
    work = join(d.dataRoot, '..', 'work');
    mkdirSync(work);
    const tar = join(d.dataRoot, '..', 'busybox.tar');
    await makeBusyboxArchive(tar, { repoTag: IMG });
    expect(d.docker(['load', '-i', tar]).status).toBe(0);
    expect(d.docker(['run', '-d', '--name', 'live', IMG, 'sleep', '300']).status).toBe(0);
  });

  afterAll(async () => {
    if (d) await stopAndCheck(d);
    expect(existsSync(`/etc/${tag}`)).toBe(false);
  });

  const makeTree = (root: string): void => {
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'a.txt'), 'alpha\n');
    writeFileSync(join(root, 'sub', 'b.txt'), 'beta\n');
    execFileSync('ln', ['-s', 'a.txt', join(root, 'link')]);
  };

  it('copies a file into and out of a running container', () => {
    writeFileSync(join(work, 'in.txt'), 'hello cp\n');
    expect(d.docker(['cp', join(work, 'in.txt'), 'live:/tmp/in.txt'])).toMatchObject({ status: 0, stderr: '' });
    expect(d.docker(['exec', 'live', 'cat', '/tmp/in.txt']).stdout).toBe('hello cp\n');
    expect(d.docker(['exec', 'live', 'stat', '-c', '%u:%g', '/tmp/in.txt']).stdout).toBe('0:0\n');
    expect(d.docker(['exec', 'live', 'sh', '-c', 'echo made inside > /tmp/out.txt']).status).toBe(0);
    expect(d.docker(['cp', 'live:/tmp/out.txt', join(work, 'out.txt')]).status).toBe(0);
    expect(readFileSync(join(work, 'out.txt'), 'utf8')).toBe('made inside\n');
    // Into an existing directory, the file keeps its name.
    expect(d.docker(['cp', join(work, 'in.txt'), 'live:/tmp/']).status).toBe(0);
    expect(d.docker(['exec', 'live', 'ls', '/tmp']).stdout.split('\n')).toContain('in.txt');
  });

  it('copies directories with Docker semantics for "dir", "dir/" and "dir/."', () => {
    const src = join(work, 'tree');
    makeTree(src);
    expect(d.docker(['cp', src, 'live:/data']).status).toBe(0);
    expect(d.docker(['exec', 'live', 'sh', '-c', 'cat /data/a.txt /data/sub/b.txt; readlink /data/link']).stdout).toBe('alpha\nbeta\na.txt\n');
    // An existing directory as destination: the source directory goes inside it...
    expect(d.docker(['exec', 'live', 'mkdir', '/dest1', '/dest2']).status).toBe(0);
    expect(d.docker(['cp', src, 'live:/dest1/']).status).toBe(0);
    expect(d.docker(['exec', 'live', 'ls', '/dest1']).stdout).toBe('tree\n');
    // ...unless the source ends in "/.": then its contents do.
    expect(d.docker(['cp', `${src}/.`, 'live:/dest2']).status).toBe(0);
    expect(d.docker(['exec', 'live', 'ls', '/dest2']).stdout).toBe('a.txt\nlink\nsub\n');
    // Out again: a whole directory, and the contents of one.
    expect(d.docker(['cp', 'live:/data', join(work, 'back')]).status).toBe(0);
    expect(readFileSync(join(work, 'back', 'sub', 'b.txt'), 'utf8')).toBe('beta\n');
    expect(readlinkSync(join(work, 'back', 'link'))).toBe('a.txt');
    mkdirSync(join(work, 'back2'));
    expect(d.docker(['cp', 'live:/data/.', join(work, 'back2')]).status).toBe(0);
    expect(readFileSync(join(work, 'back2', 'a.txt'), 'utf8')).toBe('alpha\n');
    mkdirSync(join(work, 'back3'));
    expect(d.docker(['cp', 'live:/data/', join(work, 'back3')]).status).toBe(0);
    expect(readFileSync(join(work, 'back3', 'data', 'a.txt'), 'utf8')).toBe('alpha\n');
    // A file asked for as a directory is an error, as with Docker.
    expect(d.docker(['cp', 'live:/data/a.txt/', join(work, 'nope')])).toMatchObject({ status: 1, stderr: 'Error response from daemon: lstat /data/a.txt/: not a directory\n' });
    expect(d.docker(['cp', 'live:/nosuch', join(work, 'nope')]).stderr).toContain('Could not find the file /nosuch in container live');
  });

  it('answers HEAD archive with the path stat header, as Docker encodes it', async () => {
    const r = await d.api('HEAD', '/containers/live/archive?path=/data/link');
    expect(r.status).toBe(200);
    const stat = JSON.parse(Buffer.from(String(r.headers['x-docker-container-path-stat']), 'base64').toString()) as Record<string, unknown>;
    expect(stat).toMatchObject({ name: 'link', mode: 2 ** 27 + 0o777, linkTarget: '/data/a.txt' });
    expect(String(stat.mtime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const dir = await d.api('HEAD', '/containers/live/archive?path=/tmp');
    const dstat = JSON.parse(Buffer.from(String(dir.headers['x-docker-container-path-stat']), 'base64').toString()) as { mode: number; name: string };
    expect(dstat.name).toBe('tmp');
    // Directory bit and sticky bit as Go's os.FileMode has them.
    expect(dstat.mode).toBe(2 ** 31 + 2 ** 20 + 0o777);
    const missing = await d.api('HEAD', '/containers/live/archive?path=/nosuch');
    expect(missing.status).toBe(404);
  });

  it('copies into and out of a stopped container, without leaving a mount', () => {
    expect(d.docker(['create', '--name', 'idle', IMG, 'cat', '/in.txt', '/data/sub/b.txt']).status).toBe(0);
    expect(d.docker(['cp', join(work, 'in.txt'), 'idle:/in.txt']).status).toBe(0);
    expect(d.docker(['cp', join(work, 'tree'), 'idle:/data']).status).toBe(0);
    expect(d.docker(['start', '-a', 'idle']).stdout).toBe('hello cp\nbeta\n');
    // Now exited: copy out of it.
    expect(d.docker(['cp', 'idle:/data', join(work, 'fromstopped')]).status).toBe(0);
    expect(readFileSync(join(work, 'fromstopped', 'a.txt'), 'utf8')).toBe('alpha\n');
    expect(d.docker(['cp', 'idle:/etc/passwd', join(work, 'passwd')]).status).toBe(0);
    expect(readFileSync(join(work, 'passwd'), 'utf8')).toMatch(/^root:x:0:0/);
    // The overlay was mounted in the helper's own mount namespace only.
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`${d.execRoot}/cp`);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`upperdir=${d.dataRoot}`);
  });

  it('binds a stopped container\'s volumes and binds for cp, read-only ones read-only, privately', () => {
    const ours = (): string[] =>
      readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .filter((l) => l.includes(d.dataRoot) || l.includes(d.execRoot) || l.includes(work));
    const before = ours();
    const vol = `${tag}-vol`;
    const host = join(work, 'robind');
    mkdirSync(host);
    writeFileSync(join(host, 'h.txt'), 'from host\n');
    expect(d.docker(['create', '--name', 'vols', '-v', `${vol}:/data`, '-v', `${host}:/ro:ro`, '--tmpfs', '/scratch', IMG, 'sh', '-c', 'echo inside > /data/f']).status).toBe(0);
    expect(d.docker(['start', '-a', 'vols']).status).toBe(0);
    const out = d.docker(['cp', 'vols:/data/f', '-']);
    expect(out.status).toBe(0);
    expect(out.stdout).toContain('inside\n');
    expect(out.stdout.slice(0, 1)).toBe('f');
    writeFileSync(join(work, 'into-vol.txt'), 'to the volume\n');
    expect(d.docker(['cp', join(work, 'into-vol.txt'), 'vols:/data/'])).toMatchObject({ status: 0, stderr: '' });
    const data = d.docker(['volume', 'inspect', '-f', '{{.Mountpoint}}', vol]).stdout.trim();
    expect(readFileSync(join(data, 'into-vol.txt'), 'utf8')).toBe('to the volume\n');
    // Not in the writable layer: the volume was on top.
    expect(d.docker(['diff', 'vols']).stdout).not.toContain('into-vol.txt');
    expect(d.docker(['cp', 'vols:/ro/h.txt', join(work, 'h-back.txt')]).status).toBe(0);
    expect(readFileSync(join(work, 'h-back.txt'), 'utf8')).toBe('from host\n');
    expect(d.docker(['cp', join(work, 'into-vol.txt'), 'vols:/ro/'])).toMatchObject({ status: 1, stderr: 'Error response from daemon: mounted volume is marked read-only\n' });
    expect(existsSync(join(host, 'into-vol.txt'))).toBe(false);
    // The container sees on its next run what cp put in the volume.
    expect(d.docker(['start', '-a', 'vols']).status).toBe(0);
    expect(readFileSync(join(data, 'f'), 'utf8')).toBe('inside\n');
    expect(ours()).toEqual(before);
    expect(d.docker(['rm', 'vols']).status).toBe(0);
    expect(d.docker(['volume', 'rm', vol]).status).toBe(0);
  });

  it('resolves a stopped container\'s mount targets inside its root: an image symlink out leads nowhere', async () => {
    const escape = join(work, 'escape-target');
    const tar = join(d.dataRoot, '..', 'linked.tar');
    writeFileSync(tar, await makeLayerTar([...busyboxLayerEntries(), { name: 'hostlink', type: 'symlink', linkname: escape }]));
    expect(d.docker(['import', tar, 'berthfiles/linked:1']).status).toBe(0);
    const vol = `${tag}-linked`;
    // Never started: the helper itself makes the target, through the link, inside the root.
    expect(d.docker(['create', '--name', 'linked', '-v', `${vol}:/hostlink/sub`, 'berthfiles/linked:1', 'true']).status).toBe(0);
    expect(d.docker(['cp', join(work, 'in.txt'), 'linked:/hostlink/sub/'])).toMatchObject({ status: 0, stderr: '' });
    const data = d.docker(['volume', 'inspect', '-f', '{{.Mountpoint}}', vol]).stdout.trim();
    expect(readFileSync(join(data, 'in.txt'), 'utf8')).toBe('hello cp\n');
    expect(existsSync(escape)).toBe(false);
    expect(d.docker(['rm', 'linked']).status).toBe(0);
    expect(d.docker(['volume', 'rm', vol]).status).toBe(0);
  });

  it('never escapes the container root: "..", absolute and relative symlinks, hostile tar entries', async () => {
    writeFileSync(join(work, tag), 'contained\n');
    expect(d.docker(['cp', join(work, tag), `live:../../etc/${tag}`]).status).toBe(0);
    expect(existsSync(`/etc/${tag}`)).toBe(false);
    expect(d.docker(['exec', 'live', 'cat', `/etc/${tag}`]).stdout).toBe('contained\n');
    // Symlinks inside the container resolve inside it, whatever they point at.
    expect(d.docker(['exec', 'live', 'sh', '-c', 'ln -s / /rootlink; ln -s ../../../../../.. /uplink; mkdir /t']).status).toBe(0);
    expect(d.docker(['cp', join(work, tag), 'live:/rootlink/etc/']).status).toBe(0);
    expect(d.docker(['cp', join(work, tag), 'live:/uplink/t/']).status).toBe(0);
    expect(existsSync(`/etc/${tag}`)).toBe(false);
    expect(existsSync(`/t/${tag}`)).toBe(false);
    expect(d.docker(['exec', 'live', 'cat', `/t/${tag}`]).stdout).toBe('contained\n');
    // Reading through a link to / reads the container's files, not the host's.
    expect(d.docker(['cp', 'live:/uplink/etc/passwd', join(work, 'p2')]).status).toBe(0);
    expect(readFileSync(join(work, 'p2'), 'utf8')).toBe(d.docker(['exec', 'live', 'cat', '/etc/passwd']).stdout);
    // A tar whose entries climb out is refused, and nothing is written.
    const evil = await makeLayerTar([{ name: `../../${tag}-evil`, content: 'x' }]);
    const r = await d.api<{ message: string }>('PUT', '/containers/live/archive?path=/tmp', evil);
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('is outside of "/tmp"');
    const link = await makeLayerTar([{ name: 'esc', type: 'symlink', linkname: '../../../../etc' }]);
    expect((await d.api('PUT', '/containers/live/archive?path=/tmp', link)).status).toBe(400);
    expect(existsSync(`/${tag}-evil`)).toBe(false);
    expect(d.docker(['exec', 'live', 'ls', '/']).stdout).not.toContain('evil');
    const notDir = await d.api<{ message: string }>('PUT', '/containers/live/archive?path=/etc/passwd', await makeLayerTar([{ name: 'x', content: 'x' }]));
    expect(notDir.status).toBe(400);
    expect(notDir.body.message).toBe('extraction point is not a directory');
  });

  it('diff shows A, C and D exactly', () => {
    const script = 'mkdir /newdir && echo x > /newdir/f && echo extra >> /etc/passwd && rm /etc/group && rm /bin/true';
    expect(d.docker(['run', '--name', 'changed', IMG, 'sh', '-c', script]).status).toBe(0);
    const r = d.docker(['diff', 'changed']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('C /bin\nD /bin/true\nC /etc\nD /etc/group\nC /etc/passwd\nA /newdir\nA /newdir/f\n');
    expect(d.docker(['run', '--name', 'clean', IMG, 'true']).status).toBe(0);
    expect(d.docker(['diff', 'clean']).stdout).toBe('');
    const api = d.api<Array<{ Path: string; Kind: number }>>('GET', '/containers/changed/changes');
    return api.then((res) => expect(res.body.slice(0, 2)).toEqual([{ Path: '/bin', Kind: 0 }, { Path: '/bin/true', Kind: 2 }]));
  });

  it('keeps ownership with cp -a', () => {
    const own = join(work, 'owned');
    writeFileSync(own, 'mine');
    execFileSync('chown', ['1234:4321', own]);
    expect(d.docker(['cp', '-a', own, 'live:/tmp/owned']).status).toBe(0);
    expect(d.docker(['exec', 'live', 'stat', '-c', '%u:%g', '/tmp/owned']).stdout).toBe('1234:4321\n');
    expect(statSync(own).uid).toBe(1234);
  });

  const refused = (message: string) => ({ status: 1, stdout: '', stderr: `Error response from daemon: ${message}\n` });
  const RO_VOLUME = refused('mounted volume is marked read-only');
  const RO_ROOT = refused('container rootfs is marked read-only');

  it('refuses a read-only bind or volume of a running container with dockerd\'s message', () => {
    const host = join(work, 'ro-running');
    mkdirSync(host);
    const vol = `${tag}-rovol`;
    expect(d.docker(['run', '-d', '--name', 'romounts', '-v', `${host}:/robind:ro`, '-v', `${vol}:/rovol:ro`, '-v', `${host}:/rw`, IMG, 'sleep', '300']).status).toBe(0);
    const file = join(work, 'in.txt');
    expect(d.docker(['cp', file, 'romounts:/robind/'])).toEqual(RO_VOLUME);
    expect(d.docker(['cp', file, 'romounts:/robind/renamed.txt'])).toEqual(RO_VOLUME);
    expect(d.docker(['cp', file, 'romounts:/rovol'])).toEqual(RO_VOLUME);
    expect(d.docker(['cp', join(work, 'tree'), 'romounts:/rovol/tree'])).toEqual(RO_VOLUME);
    expect(existsSync(join(host, 'in.txt'))).toBe(false);
    expect(existsSync(join(host, 'renamed.txt'))).toBe(false);
    expect(d.docker(['exec', 'romounts', 'ls', '-A', '/rovol']).stdout).toBe('');
    // The same directory bound writable elsewhere takes the copy.
    expect(d.docker(['cp', file, 'romounts:/rw/'])).toMatchObject({ status: 0, stderr: '' });
    expect(readFileSync(join(host, 'in.txt'), 'utf8')).toBe('hello cp\n');
    expect(d.docker(['rm', '-f', 'romounts']).status).toBe(0);
    expect(d.docker(['volume', 'rm', vol]).status).toBe(0);
  });

  it('with --read-only, refuses the root filesystem but copies into writable mounts, running or stopped', () => {
    const host = join(work, 'rw-of-ro');
    mkdirSync(host);
    const vol = `${tag}-rwvol`;
    const file = join(work, 'in.txt');
    const mounts = ['-v', `${vol}:/data`, '-v', `${host}:/bind`, '-v', `${host}:/robind:ro`];
    expect(d.docker(['run', '-d', '--read-only', '--name', 'ro', ...mounts, IMG, 'sleep', '300']).status).toBe(0);
    expect(d.docker(['cp', file, 'ro:/tmp/'])).toEqual(RO_ROOT);
    expect(d.berth(['cp', file, 'ro:/tmp/'])).toEqual(RO_ROOT);
    expect(d.berth(['cp', file, 'ro:/robind/'])).toEqual(RO_VOLUME);
    expect(d.berth(['cp', file, 'ro:/data/berth.txt'])).toMatchObject({ status: 0, stderr: '' });
    expect(d.docker(['cp', file, 'ro:/'])).toEqual(RO_ROOT);
    expect(d.docker(['cp', file, 'ro:/robind/'])).toEqual(RO_VOLUME);
    expect(d.docker(['cp', file, 'ro:/data/'])).toMatchObject({ status: 0, stderr: '' });
    expect(d.docker(['cp', join(work, 'tree'), 'ro:/bind/tree'])).toMatchObject({ status: 0, stderr: '' });
    expect(d.docker(['exec', 'ro', 'cat', '/data/in.txt', '/data/berth.txt', '/bind/tree/sub/b.txt']).stdout).toBe('hello cp\nhello cp\nbeta\n');
    // A link in the volume to the root filesystem leads to the read-only part: refused (dockerd resolves first).
    expect(d.docker(['exec', 'ro', 'ln', '-s', '/etc', '/data/toetc']).status).toBe(0);
    expect(d.docker(['cp', file, 'ro:/data/toetc'])).toEqual(RO_ROOT);
    expect(d.docker(['exec', 'ro', 'ls', '/etc']).stdout).not.toContain('in.txt');
    expect(d.docker(['diff', 'ro']).stdout).not.toContain('in.txt');
    // Stopped: the helper's overlay is writable, the rule still holds.
    expect(d.docker(['rm', '-f', 'ro']).status).toBe(0);
    writeFileSync(join(work, 'second.txt'), 'second\n');
    expect(d.docker(['create', '--read-only', '--name', 'rostopped', ...mounts, IMG, 'cat', '/data/second.txt', '/bind/second.txt']).status).toBe(0);
    expect(d.docker(['cp', join(work, 'second.txt'), 'rostopped:/etc/'])).toEqual(RO_ROOT);
    expect(d.docker(['cp', join(work, 'second.txt'), 'rostopped:/robind/'])).toEqual(RO_VOLUME);
    expect(d.docker(['cp', join(work, 'second.txt'), 'rostopped:/data/'])).toMatchObject({ status: 0, stderr: '' });
    expect(d.docker(['cp', join(work, 'second.txt'), 'rostopped:/bind/'])).toMatchObject({ status: 0, stderr: '' });
    expect(d.docker(['cp', join(work, 'second.txt'), 'rostopped:/data/toetc'])).toEqual(RO_ROOT);
    expect(d.docker(['start', '-a', 'rostopped'])).toMatchObject({ status: 0, stdout: 'second\nsecond\n' });
    expect(d.docker(['diff', 'rostopped']).stdout).not.toContain('second.txt');
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`${d.execRoot}/cp`);
    expect(d.docker(['rm', 'rostopped']).status).toBe(0);
    expect(d.docker(['volume', 'rm', vol]).status).toBe(0);
  });

  it('a start while cp works on the stopped container waits for it, and nothing is left mounted', async () => {
    expect(d.docker(['create', '--name', 'racer', IMG, 'cat', '/tmp/race.txt']).status).toBe(0);
    const tar = await makeLayerTar([{ name: 'race.txt', content: 'copied before the start\n' }]);
    const env = { ...process.env, DOCKER_HOST: d.host };
    const exited = (p: ReturnType<typeof spawn>): Promise<{ code: number | null; out: string }> => {
      let out = '';
      p.stdout?.on('data', (b: Buffer) => (out += b.toString()));
      p.stderr?.on('data', (b: Buffer) => (out += b.toString()));
      return new Promise((resolve) => p.on('close', (code) => resolve({ code, out })));
    };
    const cp = spawn(DOCKER, ['cp', '-', 'racer:/tmp'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const cpDone = exited(cp);
    // Half the archive: the helper is extracting and waits for the rest.
    cp.stdin?.write(tar.subarray(0, 512));
    const cmdline = (pid: string): string[] => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      } catch {
        return []; // Gone meanwhile.
      }
    };
    const helperRunning = (): boolean =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .map(cmdline)
        .some((args) => args.some((a) => a.endsWith('files/helper.js')) && args.some((a) => a.includes('"op":"put"') && a.includes(d.dataRoot)));
    for (let i = 0; i < 100 && !helperRunning(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(helperRunning()).toBe(true);
    const start = spawn(DOCKER, ['start', '-a', 'racer'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const startDone = exited(start);
    try {
      // The start is held while the copy is in flight (unheld, it runs within a second).
      const status = async (): Promise<string> => (await d.api<{ State: { Status: string } }>('GET', '/containers/racer/json')).body.State.Status;
      for (let i = 0; i < 20 && (await status()) === 'created'; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await status()).toBe('created');
      expect(start.exitCode).toBeNull();
    } finally {
      // Awaited here too: a failed check must not leave the copy (and what waits for it) hanging.
      cp.stdin?.end(tar.subarray(512));
      await cpDone;
    }
    expect(await cpDone).toEqual({ code: 0, out: '' });
    expect(await startDone).toEqual({ code: 0, out: 'copied before the start\n' });
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`${d.execRoot}/cp`);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(`upperdir=${d.dataRoot}`);
    expect(d.docker(['rm', '-f', 'racer']).status).toBe(0);
  });
});
