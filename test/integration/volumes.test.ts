// Volumes and mounts end to end through the real docker CLI: named, anonymous, bind, read-only,
// tmpfs, volumes-from, copy-up, the volume API, and no mount left on the host.
import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxLayerEntries, makeLayerTar } from '../helpers/busybox-image';
import { hasDocker, leftovers, startDaemon, type TestDaemon } from '../helpers/daemon';

const IMG = 'berthtest/vol-busybox:1';
const POPULATED = 'berthtest/populated:1';
const WITH_VOLUME = 'berthtest/with-volume:1';

describe.skipIf(!hasDocker)('volumes and mounts through the docker CLI', () => {
  let d: TestDaemon;
  let hostDir: string;

  const ok = (args: string[]): string => {
    const r = d.docker(args);
    if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    d = await startDaemon();
    hostDir = mkdtempSync(join(tmpdir(), 'berth-vol-host-'));
    const base = await makeLayerTar(busyboxLayerEntries());
    const populated = await makeLayerTar([
      ...busyboxLayerEntries(),
      { name: 'srv/', type: 'directory', mode: 0o750, uid: 1000, gid: 1000 },
      { name: 'srv/app.conf', content: 'setting=1\n', mode: 0o640, uid: 1000, gid: 1000 },
      { name: 'srv/sub/', type: 'directory', mode: 0o700 },
      { name: 'srv/sub/deep.txt', content: 'deep\n', mode: 0o600, uid: 1, gid: 1 },
      { name: 'srv/link', type: 'symlink', linkname: 'app.conf' },
      { name: 'etc/motd', content: 'hello\n' },
    ]);
    for (const [tar, name, changes] of [
      [base, IMG, []],
      [populated, POPULATED, []],
      [populated, WITH_VOLUME, ['-c', 'VOLUME /srv']],
    ] as const) {
      const file = join(d.dataRoot, '..', `${name.replace(/[/:]/g, '_')}.tar`);
      writeFileSync(file, tar);
      ok(['import', ...changes, '-c', 'CMD ["sh"]', file, name]);
    }
  });

  afterAll(async () => {
    if (!d) return;
    const all = d.docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (all.length) d.docker(['rm', '-f', '-v', ...all]);
    await d.stop();
    rmSync(hostDir, { recursive: true, force: true });
    expect(leftovers(d)).toEqual([]);
  });

  it('keeps a named volume from one container to the next, on the host at its Mountpoint', () => {
    ok(['run', '--rm', '-v', 'shared:/data', IMG, 'sh', '-c', 'echo persisted > /data/file']);
    expect(ok(['run', '--rm', '-v', 'shared:/data', IMG, 'cat', '/data/file'])).toBe('persisted\n');
    const mountpoint = ok(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'shared']).trim();
    expect(mountpoint).toBe(join(d.dataRoot, 'volumes/shared/_data'));
    expect(readFileSync(join(mountpoint, 'file'), 'utf8')).toBe('persisted\n');
    const ls = ok(['volume', 'ls']);
    expect(ls).toMatch(/^DRIVER\s+VOLUME NAME\n/);
    expect(ls).toMatch(/^local\s+shared$/m);
    const inspect = JSON.parse(ok(['volume', 'inspect', 'shared']))[0];
    expect(inspect).toMatchObject({ Driver: 'local', Name: 'shared', Scope: 'local', Mountpoint: mountpoint });
    expect(Date.parse(inspect.CreatedAt)).toBeGreaterThan(Date.now() - 600_000);
  });

  it('gives an anonymous volume a 64-hex name and removes it with --rm', () => {
    const before = ok(['volume', 'ls', '-q']).split('\n').filter(Boolean);
    ok(['run', '-d', '--name', 'anon', '-v', '/scratch', IMG, 'sleep', '300']);
    const mounts = JSON.parse(ok(['inspect', '-f', '{{json .Mounts}}', 'anon']));
    expect(mounts).toHaveLength(1);
    expect(mounts[0]).toMatchObject({ Type: 'volume', Destination: '/scratch', Driver: 'local', RW: true, Propagation: '' });
    expect(mounts[0].Name).toMatch(/^[0-9a-f]{64}$/);
    expect(mounts[0].Source).toBe(join(d.dataRoot, 'volumes', mounts[0].Name, '_data'));
    ok(['rm', '-f', 'anon']);
    // Plain rm keeps it; --rm (and rm -v) remove it.
    expect(ok(['volume', 'ls', '-q'])).toContain(mounts[0].Name);
    ok(['volume', 'rm', mounts[0].Name]);
    ok(['run', '--rm', '-v', '/scratch', IMG, 'sh', '-c', 'echo x > /scratch/y']);
    expect(ok(['volume', 'ls', '-q']).split('\n').filter(Boolean).sort()).toEqual(before.sort());
  });

  it('never removes a named volume with rm -v or --rm', () => {
    ok(['create', '--name', 'keeper', '-v', 'kept:/k', '-v', '/anon-k', IMG, 'true']);
    const anon = JSON.parse(ok(['inspect', '-f', '{{json .Mounts}}', 'keeper'])).find((m: { Destination: string }) => m.Destination === '/anon-k').Name;
    ok(['rm', '-v', 'keeper']);
    const names = ok(['volume', 'ls', '-q']);
    expect(names).toContain('kept');
    expect(names).not.toContain(anon);
    ok(['volume', 'rm', 'kept']);
  });

  it('creates a missing bind source several levels deep; data flows both ways', () => {
    const deep = join(hostDir, 'deep/er/dir');
    expect(existsSync(deep)).toBe(false);
    ok(['run', '--rm', '-v', `${deep}:/mnt/b`, IMG, 'sh', '-c', 'echo from-container > /mnt/b/out']);
    expect(statSync(deep).isDirectory()).toBe(true);
    expect(readFileSync(join(deep, 'out'), 'utf8')).toBe('from-container\n');
    writeFileSync(join(deep, 'in'), 'from-host\n');
    expect(ok(['run', '--rm', '-v', `${deep}:/mnt/b`, IMG, 'cat', '/mnt/b/in'])).toBe('from-host\n');
    ok(['create', '--name', 'bindshape', '-v', `${deep}:/mnt/b:ro`, '--mount', `type=bind,source=${hostDir},target=/h,bind-propagation=rslave`, IMG, 'true']);
    const mounts = JSON.parse(ok(['inspect', '-f', '{{json .Mounts}}', 'bindshape']));
    expect(mounts).toEqual([
      { Type: 'bind', Source: hostDir, Destination: '/h', Mode: '', RW: true, Propagation: 'rslave' },
      { Type: 'bind', Source: deep, Destination: '/mnt/b', Mode: 'ro', RW: false, Propagation: 'rprivate' },
    ]);
    expect(JSON.parse(ok(['inspect', '-f', '{{json .HostConfig.Binds}}', 'bindshape']))).toEqual([`${deep}:/mnt/b:ro`]);
    expect(JSON.parse(ok(['inspect', '-f', '{{json .HostConfig.Mounts}}', 'bindshape']))).toEqual([{ Type: 'bind', Source: hostDir, Target: '/h', BindOptions: { Propagation: 'rslave' } }]);
    ok(['rm', 'bindshape']);
  });

  it('propagates host mounts into an rslave bind, and refuses propagation from a private source as dockerd does', () => {
    const priv = join(hostDir, 'private-src');
    mkdirSync(priv);
    const refused = d.docker(['run', '--name', 'slave-refused', '-v', `${priv}:/p:rslave`, IMG, 'true']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/path .*private-src is mounted on \S+ but it is not a shared or slave mount/);
    const sharedRefused = d.docker(['start', 'slave-refused']);
    expect(sharedRefused.status).not.toBe(0);
    ok(['rm', 'slave-refused']);

    // A shared mount of the test's own: host mounts below it reach the container.
    const shared = join(hostDir, 'shared-src');
    mkdirSync(join(shared, 'sub'), { recursive: true });
    const sh = (cmd: string): void => {
      const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
    };
    sh(`mount --bind ${shared} ${shared} && mount --make-shared ${shared}`);
    try {
      ok(['run', '-d', '--name', 'slave', '-v', `${shared}:/s:rslave`, IMG, 'sleep', '300']);
      expect(ok(['exec', 'slave', 'sh', '-c', 'grep -c " /s/sub " /proc/mounts || true'])).toBe('0\n');
      sh(`mount -t tmpfs -o size=1m berthprop ${shared}/sub && echo seen > ${shared}/sub/f`);
      expect(ok(['exec', 'slave', 'cat', '/s/sub/f'])).toBe('seen\n');
      sh(`umount ${shared}/sub`);
      expect(ok(['exec', 'slave', 'sh', '-c', 'grep -c " /s/sub " /proc/mounts || true'])).toBe('0\n');
      ok(['rm', '-f', 'slave']);
    } finally {
      spawnSync('umount', ['-l', `${shared}/sub`]);
      spawnSync('umount', ['-l', shared]);
    }
  });

  it('carries a mount made in the container under an rshared bind to the host, and nothing else', () => {
    const shared = join(hostDir, 'rshared-src');
    mkdirSync(join(shared, 'sub'), { recursive: true });
    const sh = (cmd: string): void => {
      const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
    };
    // Other test files' daemons come and go meanwhile (their network namespaces, say): their dirs are not looked at.
    const others = (point: string): boolean =>
      ['berth-test-', 'berth-vol-host-'].some((p) => point.startsWith(join(tmpdir(), p))) && !point.startsWith(d.dirs.base) && !point.startsWith(hostDir);
    // Mount points, filesystems and sources of the host's mount table (IDs differ run to run).
    const hostMounts = (): string[] =>
      readFileSync('/proc/self/mountinfo', 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' '))
        .filter((f) => !others(f[4]))
        .map((f) => {
          const sep = f.indexOf('-');
          return `${f[4]} ${f[sep + 1]} ${f[sep + 2]}`;
        });
    // Private first: on a host whose / is shared the bind would join /'s peer group, and the
    // container's mount would show up twice (there and under the bind).
    sh(`mount --bind ${shared} ${shared} && mount --make-private ${shared} && mount --make-shared ${shared}`);
    try {
      const before = hostMounts();
      ok(['run', '-d', '--name', 'rshared', '-v', `${shared}:/m:rshared`, IMG, 'sleep', '300']);
      // As under runc with a shared bind: the container's root is shared, /m a peer of the host's mount.
      const inside = ok(['exec', 'rshared', 'cat', '/proc/self/mountinfo']).split('\n');
      const optional = (point: string): string => inside.find((l) => l.split(' ')[4] === point)?.split(' ')[6] ?? '';
      expect(optional('/')).toMatch(/^shared:\d+$/);
      const hostPeer = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === shared)?.split(' ')[6];
      expect(hostPeer).toMatch(/^shared:\d+$/);
      expect(optional('/m')).toBe(hostPeer);
      // The container has no CAP_SYS_ADMIN (as under Docker without --privileged): the mount is
      // made in its mount namespace from outside, with the container's own mount binary.
      const pid = ok(['inspect', '-f', '{{.State.Pid}}', 'rshared']).trim();
      sh(`nsenter -t ${pid} -m -- mount -t tmpfs -o size=1m berthrshared /m/sub && nsenter -t ${pid} -m -- sh -c 'echo from-container > /m/sub/f'`);
      expect(readFileSync(join(shared, 'sub/f'), 'utf8')).toBe('from-container\n');
      ok(['rm', '-f', 'rshared']);
      const after = hostMounts();
      // Only the test's own tmpfs is new; nothing of the container's (overlay, proc, binds) reached
      // the host and nothing of the host's was unmounted when the container's root went.
      expect(after.filter((m) => !before.includes(m))).toEqual([`${join(shared, 'sub')} tmpfs berthrshared`]);
      expect(before.filter((m) => !after.includes(m))).toEqual([]);
      sh(`umount ${join(shared, 'sub')}`);
      expect(hostMounts().sort()).toEqual([...before].sort());
      expect(leftovers(d).filter((l) => l.startsWith('mount '))).toEqual([]);
    } finally {
      spawnSync('umount', ['-l', join(shared, 'sub')]);
      spawnSync('umount', ['-l', shared]);
    }
  });

  it('makes :ro read-only inside while the host can still write', () => {
    const dir = join(hostDir, 'ro');
    mkdirSync(dir);
    ok(['run', '-d', '--name', 'ro', '-v', `${dir}:/ro:ro`, IMG, 'sleep', '300']);
    const w = d.docker(['exec', 'ro', 'sh', '-c', 'echo x > /ro/f']);
    expect(w.status).not.toBe(0);
    expect(w.stderr).toContain('Read-only file system');
    writeFileSync(join(dir, 'host'), 'host-wrote\n');
    expect(ok(['exec', 'ro', 'cat', '/ro/host'])).toBe('host-wrote\n');
    ok(['rm', '-f', 'ro']);
  });

  it('shares volumes with --volumes-from, data and modes alike, and :ro there too', () => {
    ok(['create', '--name', 'datasrc', '-v', 'fromvol:/shared', '-v', '/anon-shared', IMG, 'true']);
    ok(['run', '--rm', '--volumes-from', 'datasrc', IMG, 'sh', '-c', 'echo v > /shared/f && chmod 0604 /shared/f && chown 1000:1000 /shared/f && echo a > /anon-shared/g']);
    expect(ok(['run', '--rm', '--volumes-from', 'datasrc', IMG, 'sh', '-c', 'cat /shared/f /anon-shared/g; stat -c "%a %u %g" /shared/f'])).toBe('v\na\n604 1000 1000\n');
    const ro = d.docker(['run', '--rm', '--volumes-from', 'datasrc:ro', IMG, 'sh', '-c', 'echo no > /shared/f']);
    expect(ro.status).not.toBe(0);
    expect(ro.stderr).toContain('Read-only file system');
    // The anonymous volume belongs to datasrc: rm -v of a borrower does not take it.
    ok(['run', '--rm', '--volumes-from', 'datasrc', IMG, 'true']);
    expect(ok(['run', '--rm', '--volumes-from', 'datasrc', IMG, 'cat', '/anon-shared/g'])).toBe('a\n');
    ok(['rm', '-v', 'datasrc']);
    ok(['volume', 'rm', 'fromvol']);
  });

  it('answers --volumes-from of a missing container with 404 "No such container" and makes nothing', async () => {
    const ids = (): string => ok(['ps', '-aq']);
    const before = ids();
    const volsBefore = ok(['volume', 'ls', '-q']);
    // --pull never: the CLI would otherwise take the 404 for a missing image and pull it.
    const r = d.docker(['create', '--pull', 'never', '--name', 'vf-missing', '-v', 'vfshouldnotexist:/v', '--volumes-from', 'nosuchctr', IMG, 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('Error response from daemon: No such container: nosuchctr\n');
    const run = d.docker(['run', '--pull', 'never', '--rm', '--volumes-from', 'nosuchctr:ro', IMG, 'true']);
    expect(run.status).toBe(125);
    expect(run.stderr).toMatch(/^docker: Error response from daemon: No such container: nosuchctr\n/);
    const api = await d.api('POST', '/containers/create?name=vf-missing', { Image: IMG, HostConfig: { VolumesFrom: ['nosuchctr'] } });
    expect(api.status).toBe(404);
    expect(api.body).toEqual({ message: 'No such container: nosuchctr' });
    expect(ids()).toBe(before);
    expect(ok(['volume', 'ls', '-q'])).toBe(volsBefore);
    expect(d.docker(['inspect', 'vf-missing']).status).not.toBe(0);
  });

  it('copies the image content into an empty volume the first time, with owners, modes and links', () => {
    const out = ok(['run', '--rm', '-v', 'copied:/srv', POPULATED, 'sh', '-c', 'cat /srv/app.conf /srv/sub/deep.txt; readlink /srv/link; stat -c "%a %u %g %n" /srv /srv/app.conf /srv/sub /srv/sub/deep.txt']);
    expect(out).toBe('setting=1\ndeep\napp.conf\n750 1000 1000 /srv\n640 1000 1000 /srv/app.conf\n700 0 0 /srv/sub\n600 1 1 /srv/sub/deep.txt\n');
    // Not empty any more: what the volume holds wins over the image.
    ok(['run', '--rm', '-v', 'copied:/srv', POPULATED, 'sh', '-c', 'echo changed > /srv/app.conf && rm /srv/sub/deep.txt']);
    expect(ok(['run', '--rm', '-v', 'copied:/srv', POPULATED, 'sh', '-c', 'cat /srv/app.conf; ls /srv/sub'])).toBe('changed\n');
    ok(['volume', 'rm', 'copied']);
  });

  it('does not copy with nocopy, nor into binds', () => {
    expect(ok(['run', '--rm', '-v', 'nocp:/srv:nocopy', POPULATED, 'ls', '-A', '/srv'])).toBe('');
    expect(ok(['run', '--rm', '--mount', 'type=volume,source=nocp2,target=/srv,volume-nocopy', POPULATED, 'ls', '-A', '/srv'])).toBe('');
    const empty = join(hostDir, 'emptybind');
    mkdirSync(empty);
    expect(ok(['run', '--rm', '-v', `${empty}:/srv`, POPULATED, 'ls', '-A', '/srv'])).toBe('');
    ok(['volume', 'rm', 'nocp', 'nocp2']);
  });

  it('shows volume Labels and mount Modes as dockerd: Labels as sent (null when made by -v), the anonymous label; Mode z for -v and --mount volumes', async () => {
    // The docker CLI 23+ leaves out empty Labels (20.10's sent {}): dockerd keeps what came, nil or empty.
    ok(['volume', 'create', 'plainlabels']);
    const labels = (name: string): unknown => JSON.parse(ok(['volume', 'inspect', name]))[0].Labels;
    expect(labels('plainlabels')).toBeNull();
    expect((await d.api('POST', '/v1.43/volumes/create', { Name: 'emptylabels', Labels: {} })).status).toBe(201);
    expect(labels('emptylabels')).toEqual({});
    const anon = ok(['volume', 'create']).trim();
    expect(labels(anon)).toEqual({ 'com.docker.volume.anonymous': '' });
    ok(['create', '--name', 'modes', '-v', 'bymount:/a', '-v', 'romount:/r:ro', '--mount', 'type=volume,source=viamount,target=/b', '--mount', 'type=volume,target=/c', '-v', '/d', '-v', `${hostDir}:/h`, IMG]);
    expect(labels('bymount')).toBeNull();
    const mounts = JSON.parse(ok(['inspect', '-f', '{{json .Mounts}}', 'modes'])) as Array<{ Destination: string; Mode: string; Name?: string }>;
    const mode = Object.fromEntries(mounts.map((m) => [m.Destination, m.Mode]));
    expect(mode).toEqual({ '/a': 'z', '/r': 'ro', '/b': 'z', '/c': 'z', '/d': '', '/h': '' });
    for (const dest of ['/c', '/d']) expect(labels(mounts.find((m) => m.Destination === dest)!.Name!)).toEqual({ 'com.docker.volume.anonymous': '' });
    ok(['rm', '-v', 'modes']);
    ok(['volume', 'rm', 'plainlabels', 'emptylabels', anon, 'bymount', 'romount', 'viamount']);
  });

  it('turns an image VOLUME into an anonymous volume shown in inspect Mounts, filled from the image', () => {
    ok(['run', '--name', 'imgvol', WITH_VOLUME, 'cat', '/srv/app.conf']);
    const mounts = JSON.parse(ok(['inspect', '-f', '{{json .Mounts}}', 'imgvol']));
    expect(mounts).toHaveLength(1);
    expect(mounts[0]).toMatchObject({ Type: 'volume', Destination: '/srv', Driver: 'local', Mode: '', RW: true });
    expect(mounts[0].Name).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(join(mounts[0].Source, 'app.conf'), 'utf8')).toBe('setting=1\n');
    expect(ok(['logs', 'imgvol'])).toBe('setting=1\n');
    ok(['rm', '-v', 'imgvol']);
    expect(existsSync(mounts[0].Source)).toBe(false);
  });

  it('resolves mount targets inside the root: an image symlink to a host path does not lead out', async () => {
    const escape = join(hostDir, 'escape-target');
    const tar = await makeLayerTar([...busyboxLayerEntries(), { name: 'hostlink', type: 'symlink', linkname: escape }, { name: 'uplink', type: 'symlink', linkname: '../../../..' + escape }]);
    const file = join(d.dataRoot, '..', 'evil.tar');
    writeFileSync(file, tar);
    ok(['import', '-c', 'CMD ["sh"]', file, 'berthtest/evil:1']);
    const out = ok(['run', '--rm', '-v', 'evilvol:/hostlink/sub', '--tmpfs', '/uplink/t', 'berthtest/evil:1', 'sh', '-c', `grep -c " ${escape}/" /proc/mounts; ls -d ${escape}/sub ${escape}/t`]);
    expect(out).toBe(`2\n${escape}/sub\n${escape}/t\n`);
    expect(existsSync(escape)).toBe(false);
    ok(['volume', 'rm', 'evilvol']);
    ok(['rmi', 'berthtest/evil:1']);
  });

  it('mounts --tmpfs and --mount type=tmpfs as tmpfs with their options', () => {
    const out = ok(['run', '--rm', '--tmpfs', '/cache:size=2m,mode=1770', '--mount', 'type=tmpfs,target=/t2,tmpfs-size=1048576,tmpfs-mode=0700', IMG, 'sh', '-c', 'grep -E " /(cache|t2) " /proc/mounts; stat -c "%a" /cache /t2']);
    expect(out).toMatch(/^tmpfs \/cache tmpfs rw,nosuid,nodev,noexec,relatime,size=2048k,mode=1770/m);
    expect(out).toMatch(/^tmpfs \/t2 tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k,mode=700/m);
    expect(out).toMatch(/1770\n700\n$/);
  });

  it('fills a --tmpfs with tmpcopyup from the image, owners, modes and links kept, the image untouched', () => {
    const script = [
      'grep " /srv " /proc/mounts',
      'cat /srv/app.conf /srv/sub/deep.txt',
      'stat -c "%n %a %u %g" /srv/app.conf /srv/sub /srv/sub/deep.txt',
      'readlink /srv/link',
      'echo new > /srv/app.conf',
    ].join('; ');
    const out = ok(['run', '--rm', '--tmpfs', '/srv:tmpcopyup,size=1m', POPULATED, 'sh', '-c', script]);
    expect(out).toBe(
      [
        'tmpfs /srv tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k 0 0',
        'setting=1',
        'deep',
        '/srv/app.conf 640 1000 1000',
        '/srv/sub 700 0 0',
        '/srv/sub/deep.txt 600 1 1',
        'app.conf',
        '',
      ].join('\n'),
    );
    // The write went to the tmpfs: a new container sees the image's file; without tmpcopyup it is empty.
    expect(ok(['run', '--rm', POPULATED, 'cat', '/srv/app.conf'])).toBe('setting=1\n');
    expect(ok(['run', '--rm', '--tmpfs', '/srv', POPULATED, 'ls', '-A', '/srv'])).toBe('');
    const ro = d.docker(['run', '--rm', '--tmpfs', '/srv:ro,tmpcopyup', POPULATED, 'sh', '-c', 'cat /srv/app.conf; grep " /srv " /proc/mounts; touch /srv/x']);
    expect(ro.stdout).toMatch(/^setting=1\ntmpfs \/srv tmpfs ro,/);
    expect(ro.stderr).toContain('Read-only file system');
  });

  it('honours --read-only and --shm-size', () => {
    const r = d.docker(['run', '--rm', '--read-only', '-v', '/writable', IMG, 'sh', '-c', 'echo ok > /writable/f && cat /writable/f; touch /nope']);
    expect(r.stdout).toBe('ok\n');
    expect(r.stderr).toContain('Read-only file system');
    expect(r.status).not.toBe(0);
    expect(ok(['run', '--rm', '--shm-size', '16m', IMG, 'sh', '-c', 'grep " /dev/shm " /proc/mounts'])).toContain('size=16384k');
  });

  it('makes tmpfs driver-option volumes on the host while in use only', () => {
    ok(['volume', 'create', '--driver', 'local', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=8m', 'tmpvol']);
    const inspect = JSON.parse(ok(['volume', 'inspect', 'tmpvol']))[0];
    expect(inspect.Options).toEqual({ type: 'tmpfs', device: 'tmpfs', o: 'size=8m' });
    ok(['run', '-d', '--name', 'tmpuser', '-v', 'tmpvol:/t', IMG, 'sleep', '300']);
    expect(ok(['exec', 'tmpuser', 'sh', '-c', 'grep " /t " /proc/mounts'])).toMatch(/^tmpfs \/t tmpfs rw,relatime,size=8192k/);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(` ${inspect.Mountpoint} `);
    ok(['rm', '-f', 'tmpuser']);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(` ${inspect.Mountpoint} `);
    ok(['volume', 'rm', 'tmpvol']);
  });

  it('refuses to remove a volume in use, naming the container; force does not override that', () => {
    const id = ok(['create', '-v', 'busy:/b', IMG, 'true']).trim();
    const r = d.docker(['volume', 'rm', 'busy']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`Error response from daemon: remove busy: volume is in use - [${id}]`);
    expect(d.docker(['volume', 'rm', '-f', 'busy']).stderr).toContain('volume is in use');
    expect(ok(['ps', '-aq', '--no-trunc', '-f', 'volume=busy'])).toBe(`${id}\n`);
    ok(['rm', id]);
    ok(['volume', 'rm', 'busy']);
    expect(d.docker(['volume', 'rm', 'busy']).stderr).toContain('no such volume');
    expect(d.docker(['volume', 'rm', '-f', 'busy']).status).toBe(0);
  });

  it('lists with filters and prunes only what no container uses', () => {
    ok(['volume', 'create', '--label', 'tier=a', 'la']);
    ok(['volume', 'create', '--label', 'tier=b', 'lb']);
    ok(['create', '--name', 'holder', '-v', 'la:/x', IMG, 'true']);
    expect(ok(['volume', 'ls', '-q', '-f', 'label=tier=b'])).toBe('lb\n');
    expect(ok(['volume', 'ls', '-q', '-f', 'dangling=true', '-f', 'label=tier'])).toBe('lb\n');
    expect(ok(['volume', 'ls', '-q', '-f', 'name=l', '-f', 'dangling=false'])).toBe('la\n');
    expect(ok(['volume', 'ls', '--format', '{{.Name}}:{{.Driver}}:{{.Labels}}', '-f', 'name=lb'])).toBe('lb:local:tier=b\n');
    expect(d.docker(['volume', 'ls', '-f', 'bogus=1']).stderr).toContain("invalid filter 'bogus'");
    // An anonymous unused volume goes with a plain prune; named ones only with --all.
    ok(['create', '--name', 'anonholder', '-v', '/gone', IMG, 'true']);
    const anon = JSON.parse(ok(['inspect', '-f', '{{json .Mounts}}', 'anonholder']))[0].Name;
    ok(['rm', 'anonholder']);
    const prune = ok(['volume', 'prune', '-f']);
    expect(prune).toContain(`Deleted Volumes:\n${anon}\n`);
    expect(ok(['volume', 'ls', '-q'])).toContain('lb');
    const all = ok(['volume', 'prune', '-a', '-f']);
    expect(all).toContain('lb');
    expect(all).not.toContain('la\n');
    expect(ok(['volume', 'ls', '-q'])).toContain('la');
    ok(['rm', 'holder']);
    ok(['volume', 'rm', 'la']);
  });

  it('reports create, mount, unmount and destroy volume events', () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    ok(['volume', 'create', 'evvol']);
    ok(['run', '--rm', '-v', 'evvol:/e', IMG, 'true']);
    ok(['volume', 'rm', 'evvol']);
    const until = Math.floor(Date.now() / 1000) + 1;
    const ev = ok(['events', '--since', String(since), '--until', String(until), '--filter', 'type=volume', '--format', '{{.Action}} {{.Actor.ID}} {{index .Actor.Attributes "driver"}}']);
    expect(ev.split('\n').filter((l) => l.includes(' evvol '))).toEqual(['create evvol local', 'mount evvol local', 'unmount evvol local', 'destroy evvol local']);
  });

  it('keeps volume metadata across a daemon restart', async () => {
    ok(['volume', 'create', '--label', 'keep=1', 'survivor']);
    ok(['run', '--rm', '-v', 'survivor:/s', IMG, 'sh', '-c', 'echo still > /s/here']);
    const before = JSON.parse(ok(['volume', 'inspect', 'survivor']))[0];
    await d.stop({ keep: true });
    d = await startDaemon(d.dirs);
    expect(JSON.parse(ok(['volume', 'inspect', 'survivor']))[0]).toEqual(before);
    expect(ok(['run', '--rm', '-v', 'survivor:/s', IMG, 'cat', '/s/here'])).toBe('still\n');
    ok(['volume', 'rm', 'survivor']);
  });

  it('takes down a driver mount a killed daemon left behind when it starts again', async () => {
    ok(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=4m', 'crashvol']);
    ok(['run', '-d', '--name', 'crashuser', '-v', 'crashvol:/c', IMG, 'sleep', '300']);
    const point = join(d.dataRoot, 'volumes/crashvol/_data');
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(` ${point} `);
    d.proc.kill('SIGKILL');
    await new Promise((resolve) => d.proc.once('close', resolve));
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(` ${point} `);
    d = await startDaemon(d.dirs);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(` ${point} `);
    expect(ok(['inspect', '-f', '{{.State.Running}}', 'crashuser'])).toBe('false\n');
    ok(['start', 'crashuser']);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toContain(` ${point} `);
    ok(['rm', '-f', 'crashuser']);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(` ${point} `);
    ok(['volume', 'rm', 'crashvol']);
  });

  it('refuses bad mounts with Docker messages and leaves nothing behind', () => {
    const count = (): number => ok(['ps', '-aq']).split('\n').filter(Boolean).length;
    const vols = (): string => ok(['volume', 'ls', '-q']);
    const before = count();
    const volsBefore = vols();
    const fail = (args: string[], message: string): void => {
      const r = d.docker(['create', ...args]);
      expect(r.status, r.stderr).not.toBe(0);
      expect(r.stderr).toContain(message);
    };
    fail(['-v', 'relative/path:/x', IMG], 'create relative/path: "relative/path" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path');
    fail(['-v', `${hostDir}:rel`, IMG], `invalid volume specification: '${hostDir}:rel': invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute`);
    fail(['-v', `${hostDir}:/x`, '-v', 'named1:/x', IMG], 'Duplicate mount point: /x');
    fail(['-v', `${hostDir}:/x:bogus`, IMG], 'invalid mode: bogus');
    fail(['--mount', `type=bind,source=${hostDir}/does-not-exist,target=/x`, IMG], `invalid mount config for type "bind": bind source path does not exist: ${hostDir}/does-not-exist`);
    const file = join(hostDir, 'a-file');
    writeFileSync(file, 'f');
    fail(['-v', `${file}:/etc`, '-v', 'shouldnotexist:/y', IMG], 'Are you trying to mount a directory onto a file (or vice-versa)?');
    fail(['-v', `${hostDir}:/etc/motd`, POPULATED], 'Are you trying to mount a directory onto a file (or vice-versa)?');
    fail(['--mount', 'type=volume,source=optvol,target=/x,volume-opt=bogus=1', IMG], 'invalid option key: "bogus"');
    expect(d.docker(['volume', 'create', 'x']).stderr).toContain('create x: volume name is too short, names should be at least two alphanumeric characters');
    ok(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=bogus', 'badmount']);
    const badMount = d.docker(['run', '--rm', '-v', 'badmount:/m', IMG, 'true']);
    expect(badMount.status).not.toBe(0);
    expect(badMount.stderr).toContain(`error while mounting volume '${join(d.dataRoot, 'volumes/badmount/_data')}': failed to mount local volume: mount tmpfs:`);
    ok(['volume', 'rm', 'badmount']);
    const api = d.docker(['volume', 'create', '--opt', 'nope=1', 'badopt']);
    expect(api.stderr).toContain('invalid option key: "nope"');
    expect(count()).toBe(before);
    expect(vols()).toBe(volsBefore);
  });
});
