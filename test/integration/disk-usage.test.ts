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

  it('prunes the volumes no container uses', () => {
    const out = ok(['volume', 'prune', '-a', '-f']);
    expect(out).toBe('Deleted Volumes:\ndfidle\n\nTotal reclaimed space: 0B\n');
    expect(ok(['volume', 'ls', '-q'])).toBe('dfvol\n');
  });
});
