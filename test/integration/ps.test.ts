// docker ps through the real CLI: every filter, sizes, --no-trunc, --format and relative times.
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxArchive } from '../helpers/busybox-image';
import { hasDocker, leftovers, startDaemon, type TestDaemon } from '../helpers/daemon';

const IMG = 'berthps/busybox:latest';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!hasDocker)('ps', () => {
  let d: TestDaemon;
  const names = (args: string[]): string[] => {
    const r = d.docker(['ps', ...args, '--format', '{{.Names}}']);
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter(Boolean);
  };

  beforeAll(async () => {
    d = await startDaemon();
    const tar = join(d.dataRoot, '..', 'busybox.tar');
    await makeBusyboxArchive(tar, { repoTag: IMG });
    expect(d.docker(['load', '-i', tar]).status).toBe(0);
    // Oldest to newest: one, two (exits 3), three (never started), four (running, a volume, no network).
    expect(d.docker(['run', '-d', '--name', 'one', '-l', 'tier=web', IMG, 'sleep', '300']).status).toBe(0);
    await sleep(20);
    expect(d.docker(['run', '--name', 'two', '-l', 'tier=db', IMG, 'sh', '-c', 'head -c 1000 /dev/zero > /blob; exit 3']).status).toBe(3);
    await sleep(20);
    expect(d.docker(['create', '--name', 'three', IMG, 'true']).status).toBe(0);
    await sleep(20);
    expect(d.docker(['run', '-d', '--name', 'four', '--network', 'none', '-v', 'psvol:/data', IMG, 'sleep', '300']).status).toBe(0);
  });

  afterAll(async () => {
    if (!d) return;
    d.docker(['rm', '-f', '-v', 'one', 'two', 'three', 'four']);
    d.docker(['volume', 'rm', 'psvol']);
    await d.stop();
    expect(leftovers(d)).toEqual([]);
  });

  it('filters by status, name, id, label, exited, ancestor', () => {
    expect(names([])).toEqual(['four', 'one']);
    expect(names(['-a'])).toEqual(['four', 'three', 'two', 'one']);
    expect(names(['--filter', 'status=exited'])).toEqual(['two']);
    expect(names(['--filter', 'status=created'])).toEqual(['three']);
    expect(names(['-a', '--filter', 'name=^t'])).toEqual(['three', 'two']);
    const id = d.docker(['inspect', '-f', '{{.Id}}', 'two']).stdout.trim();
    expect(names(['-a', '--filter', `id=${id.slice(0, 6)}`])).toEqual(['two']);
    expect(names(['-a', '--filter', 'label=tier'])).toEqual(['two', 'one']);
    expect(names(['-a', '--filter', 'label=tier=db'])).toEqual(['two']);
    expect(names(['-a', '--filter', 'exited=3'])).toEqual(['two']);
    expect(names(['-a', '--filter', 'exited=0'])).toEqual([]);
    expect(names(['-a', '--filter', `ancestor=${IMG}`])).toEqual(['four', 'three', 'two', 'one']);
    expect(names(['-a', '--filter', 'ancestor=berthps/busybox'])).toHaveLength(4);
    expect(names(['-a', '--filter', 'ancestor=nosuch:image'])).toEqual([]);
    // Several values of one key: any; several keys: all.
    expect(names(['-a', '--filter', 'name=one', '--filter', 'name=four'])).toEqual(['four', 'one']);
    expect(names(['-a', '--filter', 'label=tier', '--filter', 'status=running'])).toEqual(['one']);
  });

  it('filters by before and since (which include stopped containers), network and volume', () => {
    expect(names(['--filter', 'before=three'])).toEqual(['two', 'one']);
    expect(names(['--filter', 'since=two'])).toEqual(['four', 'three']);
    expect(names(['--filter', 'since=one', '--filter', 'before=four'])).toEqual(['three', 'two']);
    expect(d.docker(['ps', '--filter', 'before=nosuch']).stderr).toContain('No such container: nosuch');
    expect(names(['-a', '--filter', 'network=none'])).toEqual(['four']);
    expect(names(['--filter', 'network=bridge'])).toEqual(['one']);
    expect(names(['-a', '--filter', 'volume=psvol'])).toEqual(['four']);
    expect(names(['-a', '--filter', 'volume=/data'])).toEqual(['four']);
    const bad = d.docker(['ps', '--filter', 'colour=red']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("invalid filter 'colour'");
    expect(d.docker(['ps', '--filter', 'status=sleeping']).stderr).toContain("invalid filter 'status=sleeping'");
  });

  it('shows the image ID in IMAGE once the reference names another image or none', () => {
    const imageId = d.docker(['image', 'inspect', '-f', '{{.Id}}', IMG]).stdout.trim();
    expect(d.docker(['tag', IMG, 'berthps/alias:1']).status).toBe(0);
    expect(d.docker(['create', '--name', 'tagged', 'berthps/alias:1', 'true']).status).toBe(0);
    const image = (extra: string[] = []): string => d.docker(['ps', '-a', ...extra, '--filter', 'name=tagged', '--format', '{{.Image}}']).stdout.trim();
    expect(image()).toBe('berthps/alias:1');
    // Untagged by force while the container uses it: dockerd lists the ID (the CLI cuts it to 12 hex).
    expect(d.docker(['rmi', '-f', 'berthps/alias:1']).status).toBe(0);
    expect(image()).toBe(imageId.slice(7, 19));
    expect(image(['--no-trunc'])).toBe(imageId);
    // The name back on the same image: the name again.
    expect(d.docker(['tag', IMG, 'berthps/alias:1']).status).toBe(0);
    expect(image()).toBe('berthps/alias:1');
    d.docker(['rm', 'tagged']);
    d.docker(['rmi', 'berthps/alias:1']);
  });

  it('shows sizes with -s: the writable layer and the virtual size with the image', () => {
    const r = d.docker(['ps', '-a', '-s', '--filter', 'name=two', '--format', '{{.Names}} {{.Size}}']);
    const image = d.docker(['image', 'inspect', '-f', '{{.Size}}', IMG]).stdout.trim();
    expect(r.stdout).toMatch(/^two 1kB \(virtual [\d.]+MB\)\n$/);
    const api = d.api<Array<{ SizeRw: number; SizeRootFs: number; Names: string[] }>>('GET', `/containers/json?all=1&size=1&filters=${encodeURIComponent('{"name":["two"]}')}`);
    return api.then((res) => {
      expect(res.body[0].SizeRw).toBe(1000);
      expect(res.body[0].SizeRootFs).toBe(1000 + Number(image));
      expect(Object.keys(res.body[0]).slice(6, 9)).toEqual(['Ports', 'SizeRw', 'SizeRootFs']);
    });
  });

  it('prints full IDs and commands with --no-trunc, relative times, and Go templates', () => {
    const table = d.docker(['ps', '-a', '--no-trunc', '--filter', 'name=two']).stdout.split('\n');
    expect(table[1]).toMatch(/^[0-9a-f]{64}\s+berthps\/busybox:latest\s+"sh -c 'head -c 1000 \/dev\/zero > \/blob; exit 3'"\s+(\d+ seconds?|Less than a second) ago\s+Exited \(3\) (\d+ seconds?|Less than a second) ago\s+two\s*$/);
    expect(d.docker(['ps', '--filter', 'name=one', '--format', '{{.Status}}']).stdout).toMatch(/^Up (Less than a second|\d+ seconds?)\n$/);
    expect(d.docker(['ps', '-a', '--filter', 'name=three', '--format', '{{.Status}}|{{.State}}']).stdout).toBe('Created|created\n');
    const json = JSON.parse(d.docker(['ps', '--filter', 'name=one', '--format', '{{json .}}']).stdout) as Record<string, string>;
    expect(json).toMatchObject({ Names: 'one', Image: IMG, Labels: 'tier=web', State: 'running' });
    const fmt = ['ps', '-a', '--format', 'table {{.Names}}\t{{.Label "tier"}}\t{{.Size}}', '-s', '--filter', 'label=tier'];
    const theirs = d.docker(fmt).stdout;
    expect(theirs).toMatch(/^NAMES\s+tier\s+SIZE\ntwo\s+db\s+1kB/);
    expect(d.berth(fmt).stdout).toBe(theirs);
    expect(d.berth(['ps', '-a', '--format', '{{.Names}}:{{.Label "tier"}}', '--filter', 'label=tier']).stdout).toBe('two:db\none:web\n');
    const badFormat = d.docker(['ps', '--format', '{{.Names']);
    expect(badFormat.status).not.toBe(0);
  });
});
