// GET /system/df against du, `docker system df` and `docker system prune` through the real CLI.
import { spawnSync } from 'child_process';
import { existsSync, readdirSync } from 'fs';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxArchive } from '../helpers/busybox-image';
import { hasDocker, leftovers, startDaemon, type TestDaemon } from '../helpers/daemon';

const IMG = 'berthtest/df-busybox:1';

/** Apparent bytes of files (directories left out, as dockerd counts), by find + stat. */
function du(dir: string): number {
  const r = spawnSync('sh', ['-c', `find "${dir}" -xdev ! -type d -printf '%s\\n' | awk '{s+=$1} END {print s+0}'`], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

interface Df {
  LayersSize: number;
  Images: Array<{ Id: string; Size: number; Containers: number }>;
  Containers: Array<{ Id: string; SizeRw: number; SizeRootFs: number }>;
  Volumes: Array<{ Name: string; UsageData: { Size: number; RefCount: number } }>;
  BuildCache: unknown[];
}

const near = (actual: number, expected: number): void => {
  expect(expected).toBeGreaterThan(0);
  expect(Math.abs(actual - expected) / expected).toBeLessThan(0.03);
};

describe.skipIf(!hasDocker)('disk usage and pruning', () => {
  let d: TestDaemon;

  const ok = (args: string[], input?: string): string => {
    const r = d.docker(args, input === undefined ? undefined : { input });
    if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    d = await startDaemon();
    const tar = join(d.dataRoot, '..', 'busybox.tar');
    await makeBusyboxArchive(tar, { repoTag: IMG });
    ok(['load', '-i', tar]);
  });

  afterAll(async () => {
    if (!d) return;
    const all = d.docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (all.length) d.docker(['rm', '-f', '-v', ...all]);
    await d.stop();
    expect(leftovers(d)).toEqual([]);
  });

  it('counts images, containers and volumes as du measures them', async () => {
    ok(['run', '--name', 'writer', '-v', 'dfvol:/v', IMG, 'sh', '-c', 'head -c 3000000 /dev/urandom > /v/blob; head -c 1500000 /dev/urandom > /layer-blob']);
    ok(['volume', 'create', 'dfidle']);
    const res = await d.api<Df>('GET', '/v1.43/system/df');
    expect(res.status).toBe(200);
    const df = res.body;
    const id = ok(['inspect', '-f', '{{.Id}}', 'writer']).trim();
    const c = df.Containers.find((x) => x.Id === id);
    near(c?.SizeRw ?? 0, du(join(d.dataRoot, 'containers', id, 'rw/upper')));
    const vol = df.Volumes.find((v) => v.Name === 'dfvol');
    near(vol?.UsageData.Size ?? 0, du(join(d.dataRoot, 'volumes/dfvol/_data')));
    expect(vol?.UsageData.RefCount).toBe(1);
    expect(df.Volumes.find((v) => v.Name === 'dfidle')?.UsageData).toEqual({ Size: 0, RefCount: 0 });
    const imageId = ok(['inspect', '-f', '{{.Image}}', 'writer']).trim();
    const img = df.Images.find((i) => i.Id === imageId);
    // Image sizes are the extracted layers' content (the kept source blobs are not counted, as dockerd's).
    const layers = readdirSync(join(d.dataRoot, 'layers')).filter((n) => existsSync(join(d.dataRoot, 'layers', n, 'diff')));
    const layerBytes = layers.reduce((sum, n) => sum + du(join(d.dataRoot, 'layers', n, 'diff')), 0);
    near(img?.Size ?? 0, layerBytes);
    expect(img?.Containers).toBe(1);
    near(df.LayersSize, layerBytes);
    expect(df.BuildCache).toEqual([]);
    near((c?.SizeRootFs ?? 0) - (c?.SizeRw ?? 0), img?.Size ?? 0);

    const table = ok(['system', 'df']).split('\n');
    expect(table[0]).toMatch(/^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/);
    expect(table[1]).toMatch(/^Images\s+1\s+1\s+/);
    expect(table[2]).toMatch(/^Containers\s+1\s+0\s+1\.5MB\s+1\.5MB \(100%\)$/);
    expect(table[3]).toMatch(/^Local Volumes\s+2\s+1\s+3MB\s+0B \(0%\)$/);
    expect(table[4]).toMatch(/^Build Cache\s+0\s+0\s+0B\s+0B$/);
    const verbose = ok(['system', 'df', '-v']);
    expect(verbose).toMatch(/^dfvol\s+1\s+3MB$/m);
    expect(verbose).toMatch(/^dfidle\s+0\s+0B$/m);
  });

  it('prints system df as the docker CLI does, plain, verbose and formatted', () => {
    for (const args of [['system', 'df'], ['system', 'df', '-v'], ['system', 'df', '--format', '{{json .}}'], ['system', 'df', '--format', 'table {{.Type}}\t{{.Reclaimable}}']]) {
      // Relative times ("2 seconds ago") tick between the two runs; column widths follow them.
      const steady = (out: string): string => out.replace(/(\d+ seconds?|Less than a second|About a minute) ago/g, 'T ago').replace(/ {2,}/g, '  ');
      const theirs = ok(args);
      expect(steady(d.berth(args).stdout), args.join(' ')).toBe(steady(theirs));
    }
  });

  it('berth volume commands print what docker prints', () => {
    const same = (args: string[], input?: string): string => {
      const theirs = d.docker(args, input === undefined ? undefined : { input });
      const mine = d.berth(args, input === undefined ? undefined : { input });
      expect({ out: mine.stdout, status: mine.status }, args.join(' ')).toEqual({ out: theirs.stdout, status: theirs.status });
      return mine.stdout;
    };
    expect(d.berth(['volume', 'create', '--label', 'x=1', 'bv2']).stdout).toBe('bv2\n');
    expect(d.berth(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', 'bv10']).stdout).toBe('bv10\n');
    expect(d.berth(['volume', 'create']).stdout).toMatch(/^[0-9a-f]{64}\n$/);
    same(['volume', 'ls']);
    same(['volume', 'ls', '-q']);
    same(['volume', 'ls', '-f', 'dangling=true', '--format', '{{.Name}} {{.Labels}} {{.Label "x"}} {{.Scope}} {{.Mountpoint}}']);
    same(['volume', 'ls', '--format', 'json']);
    same(['volume', 'ls', '--format', 'table {{.Name}}\t{{.Driver}}\t{{.Links}}\t{{.Size}}']);
    same(['volume', 'inspect', 'bv2', 'bv10']);
    same(['volume', 'inspect', '-f', '{{.Name}} {{json .Labels}} {{.Options}}', 'bv10']);
    expect(d.berth(['volume', 'inspect', 'nope']).stderr).toBe(d.docker(['volume', 'inspect', 'nope']).stderr);
    same(['volume', 'prune'], 'n\n');
    expect(d.berth(['volume', 'rm', 'dfvol']).stderr).toContain('volume is in use');
    expect(d.berth(['volume', 'rm', 'bv2', 'bv10']).stdout).toBe('bv2\nbv10\n');
    const pruned = d.berth(['volume', 'prune', '-f']).stdout;
    expect(pruned).toMatch(/^Deleted Volumes:\n[0-9a-f]{64}\n\nTotal reclaimed space: 0B\n$/);
  });

  it('berth run takes -v, --mount, --tmpfs, --volumes-from, --read-only and --shm-size as docker does', () => {
    const r = d.berth(['run', '--name', 'bmounts', '-v', 'bvol:/a', '--mount', 'type=volume,src=bvol2,dst=/b,volume-nocopy', '--mount', 'type=tmpfs,dst=/t,tmpfs-size=1m', '--tmpfs', '/t2:size=1m', '--read-only', '--shm-size', '8m', IMG, 'sh', '-c', 'echo a > /a/f && grep -E " /(t|t2|dev/shm) " /proc/mounts | cut -d" " -f2,4 && touch /ro 2>&1']);
    expect(r.stdout).toBe('/dev/shm rw,nosuid,nodev,noexec,relatime,size=8192k\n/t rw,nosuid,nodev,noexec,relatime,size=1024k\n/t2 rw,nosuid,nodev,noexec,relatime,size=1024k\ntouch: /ro: Read-only file system\n');
    expect(d.berth(['run', '--rm', '--volumes-from', 'bmounts:ro', IMG, 'cat', '/a/f']).stdout).toBe('a\n');
    const mine = JSON.parse(d.berth(['inspect', '-f', '{{json .HostConfig.Mounts}}', 'bmounts']).stdout);
    expect(mine).toEqual([
      { Type: 'volume', Source: 'bvol2', Target: '/b', VolumeOptions: { NoCopy: true } },
      { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 1048576 } },
    ]);
    const bad = d.berth(['run', '--rm', '--mount', 'type=bind,target=/x,volume-nocopy', IMG, 'true']);
    expect(bad.status).toBe(125);
    expect(bad.stderr).toContain("cannot mix 'volume-*' options with mount type 'bind'");
    expect(d.docker(['run', '--rm', '--mount', 'type=bind,target=/x,volume-nocopy', IMG, 'true']).stderr).toContain("cannot mix 'volume-*' options with mount type 'bind'");
    d.berth(['rm', '-v', 'bmounts']);
    d.berth(['volume', 'rm', 'bvol', 'bvol2']);
  });

  it('prunes the volumes no container uses', () => {
    const out = ok(['volume', 'prune', '-a', '-f']);
    expect(out).toBe('Deleted Volumes:\ndfidle\n\nTotal reclaimed space: 0B\n');
    expect(ok(['volume', 'ls', '-q'])).toBe('dfvol\n');
  });

  it('docker system prune asks first, then removes stopped containers, anonymous volumes and unused images', async () => {
    const other = join(d.dataRoot, '..', 'other.tar');
    await makeBusyboxArchive(other, { repoTag: 'berthtest/dfother:1', extraConfig: { config: { Env: ['PATH=/bin', 'OTHER=1'] } } });
    ok(['load', '-i', other]);
    ok(['run', '-d', '--name', 'keeper', IMG, 'sleep', '300']);
    const stopped = ok(['create', '-v', '/anon-p', IMG, 'true']).trim();
    const anon = JSON.parse(ok(['inspect', '-f', '{{json .Mounts}}', stopped]))[0].Name;
    ok(['network', 'create', 'dfnet']);

    const declined = d.docker(['system', 'prune', '--volumes'], { input: 'n\n' });
    expect(declined.stdout).toBe(
      'WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all anonymous volumes not used by at least one container\n  - all dangling images\n  - unused build cache\n\nAre you sure you want to continue? [y/N] ',
    );
    expect(d.berth(['system', 'prune', '--volumes'], { input: 'n\n' }).stdout).toBe(declined.stdout);
    expect(ok(['ps', '-aq', '--no-trunc'])).toContain(stopped);

    const out = ok(['system', 'prune', '--volumes', '-f']);
    // The stopped writer of the first test goes too.
    expect(out).toMatch(new RegExp(`^Deleted Containers:\n([0-9a-f]{64}\n)*${stopped}\n`));
    expect(out).toContain('Deleted Networks:\ndfnet\n');
    expect(out).toContain(`Deleted Volumes:\n${anon}\n`);
    expect(out).toMatch(/\nTotal reclaimed space: \S+\n$/);
    // Named volumes, running containers and tagged images stay without -a.
    expect(ok(['volume', 'ls', '-q'])).toBe('dfvol\n');
    expect(ok(['ps', '-q'])).not.toBe('');
    expect(ok(['images', '-q', 'berthtest/dfother'])).not.toBe('');

    const all = d.berth(['system', 'prune', '-a', '-f']);
    expect(all.status).toBe(0);
    expect(all.stdout).toMatch(/^Deleted Images:\nuntagged: berthtest\/dfother:1\ndeleted: sha256:[0-9a-f]{64}\n/);
    expect(all.stdout).toMatch(/\nTotal reclaimed space: \S+\n$/);
    const left = ok(['images', '--format', '{{.Repository}}:{{.Tag}}']);
    expect(left).not.toContain('berthtest/dfother:1');
    expect(left).toContain(IMG);
    ok(['rm', '-f', 'keeper']);
  });
});
