// Archives and container filesystems through the docker CLI: save/load round trips checked by
// skopeo, an archive skopeo wrote loads, whiteouts and opaque dirs across image layers, commit of
// changed/added/deleted files, export of running and stopped containers. Nothing stays mounted.
import { readFileSync } from 'fs';
import { join } from 'path';
import * as tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxLayerEntries, makeArchive, makeLayerTar } from '../helpers/busybox-image';
import { hasDocker, startDaemon, type TestDaemon, stopAndCheck } from '../helpers/daemon';
import { hasSkopeo, skopeo } from '../helpers/registry';

const IMG = 'berthsave/layers:1';

/** name -> {type, content} of every member of a tar. */
async function members(buf: Buffer): Promise<Map<string, { type: string; content: Buffer }>> {
  const out = new Map<string, { type: string; content: Buffer }>();
  const ex = tar.extract();
  const done = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      out.set(e.header.name.replace(/\/$/, ''), { type: e.header.type ?? 'file', content: Buffer.concat(chunks) });
    }
  })();
  ex.end(buf);
  await done;
  return out;
}

describe.skipIf(!hasDocker || !hasSkopeo)('save, load, commit and export', () => {
  let d: TestDaemon;
  let imageId: string;
  let work: string;

  beforeAll(async () => {
    d = await startDaemon();
    work = d.dirs.base;
    // Three layers: busybox; /data/{a,b,sub/c} and /gone.txt; then /gone.txt deleted and /data made opaque with only d.
    const base = await makeLayerTar(busyboxLayerEntries());
    const second = await makeLayerTar([
      { name: 'data/', type: 'directory' },
      { name: 'data/a', content: 'a\n' },
      { name: 'data/b', content: 'b\n' },
      { name: 'data/sub/', type: 'directory' },
      { name: 'data/sub/c', content: 'c\n' },
      { name: 'gone.txt', content: 'soon gone\n' },
      { name: 'keep.txt', content: 'kept\n' },
      { name: 'old/', type: 'directory' },
      { name: 'old/x', content: 'x\n' },
    ]);
    const third = await makeLayerTar([
      { name: '.wh.gone.txt' },
      { name: 'data/', type: 'directory' },
      { name: 'data/.wh..wh..opq' },
      { name: 'data/d', content: 'd\n' },
    ]);
    const { archive, ids } = await makeArchive([{ layers: [base, second, third], repoTags: [IMG] }]);
    imageId = ids[0];
    require('fs').writeFileSync(join(work, 'layers.tar'), archive);
    expect(d.docker(['load', '-i', join(work, 'layers.tar')]).stdout).toContain(`Loaded image: ${IMG}`);
  });

  afterAll(async () => {
    if (d) await stopAndCheck(d);
  });

  it('hides deleted files and shows only the upper content of an opaque dir', () => {
    const r = d.docker(['run', '--rm', IMG, 'sh', '-c', 'ls -A /data; test -e /gone.txt && echo gone-present; cat /keep.txt']);
    expect(r.stdout).toBe('d\nkept\n');
  });

  it('saves an archive that loads back as the same image and that skopeo reads', async () => {
    const out = join(work, 'saved.tar');
    const r = d.docker(['save', '-o', out, IMG]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const m = await members(readFileSync(out));
    for (const name of ['manifest.json', 'index.json', 'oci-layout', 'repositories', `blobs/sha256/${imageId.slice(7)}`]) expect(m.has(name)).toBe(true);
    const manifest = JSON.parse(m.get('manifest.json')?.content.toString() ?? '') as Array<{ Config: string; RepoTags: string[]; Layers: string[] }>;
    expect(manifest).toHaveLength(1);
    expect(manifest[0].RepoTags).toEqual([IMG]);
    expect(manifest[0].Layers).toHaveLength(3);
    // skopeo reads both faces of the archive and verifies every blob while copying.
    const viaDocker = JSON.parse(skopeo(['inspect', `docker-archive:${out}`])) as { Layers: string[]; Architecture: string };
    expect(viaDocker.Architecture).toBe('amd64');
    const viaOci = JSON.parse(skopeo(['inspect', '--config', `oci-archive:${out}`])) as { rootfs: { diff_ids: string[] } };
    expect(viaOci.rootfs.diff_ids).toHaveLength(3);
    skopeo(['copy', `oci-archive:${out}`, `oci:${join(work, 'oci-dir')}:x`]);
    expect(d.docker(['rmi', IMG]).status).toBe(0);
    const load = d.docker(['load', '-i', out]);
    expect(load.stdout).toBe(`Loaded image: ${IMG}\n`);
    expect(JSON.parse(d.docker(['image', 'inspect', IMG]).stdout)[0].Id).toBe(imageId);
  });

  it('loads a docker-archive written by skopeo', () => {
    const out = join(work, 'skopeo.tar');
    skopeo(['copy', `docker-archive:${join(work, 'saved.tar')}`, `docker-archive:${out}:berthsave/from-skopeo:2`]);
    const load = d.docker(['load', '-i', out]);
    expect(load.stderr).toBe('');
    expect(load.stdout).toContain('Loaded image: berthsave/from-skopeo:2');
    expect(d.docker(['run', '--rm', 'berthsave/from-skopeo:2', 'cat', '/data/d']).stdout).toBe('d\n');
  });

  it('commits exactly the changed, added and deleted files, with author, message and changes', async () => {
    const run = d.docker(['run', '--name', 'tocommit', IMG, 'sh', '-c', 'echo changed > /keep.txt; echo new > /added.txt; rm /data/d; rm -r /old; mkdir /old; echo y > /old/y; mkdir -p /srv/deep; echo z > /srv/deep/z']);
    expect(run.status).toBe(0);
    const c = d.docker(['commit', '-a', 'Ann Author', '-m', 'my change', '-c', 'CMD ["cat", "/added.txt"]', '-c', 'ENV FROM_COMMIT=1', 'tocommit', 'berthsave/committed:1']);
    expect(c.stderr).toBe('');
    const id = c.stdout.trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(d.docker(['run', '--rm', 'berthsave/committed:1']).stdout).toBe('new\n');
    const check = d.docker(['run', '--rm', 'berthsave/committed:1', 'sh', '-c', 'cat /keep.txt; ls -A /data; ls -A /old; cat /srv/deep/z; test -e /gone.txt || echo no-gone; echo $FROM_COMMIT']);
    // /data is empty: d deleted here, a and b hidden by the image's opaque dir.
    expect(check.stdout).toBe('changed\ny\nz\nno-gone\n1\n');
    const [info] = JSON.parse(d.docker(['image', 'inspect', id]).stdout) as Array<{ Author: string; Comment: string; Config: { Cmd: string[]; Env: string[] }; RootFS: { Layers: string[] }; Container: string }>;
    expect(info.Author).toBe('Ann Author');
    expect(info.Comment).toBe('my change');
    expect(info.Config.Cmd).toEqual(['cat', '/added.txt']);
    expect(info.Config.Env).toContain('FROM_COMMIT=1');
    expect(info.RootFS.Layers).toHaveLength(4);
    expect(info.Container).toBe(d.docker(['inspect', '-f', '{{.Id}}', 'tocommit']).stdout.trim());
    const history = d.docker(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', id]).stdout.split('\n');
    expect(history[0]).toContain('sh -c echo changed > /keep.txt');
    expect(history[0]).toContain('|my change');
    // The new layer holds exactly the changes, whiteouts in OCI form, no runtime mount points.
    const saved = join(work, 'committed.tar');
    d.docker(['save', '-o', saved, 'berthsave/committed:1']);
    const archive = await members(readFileSync(saved));
    const top = info.RootFS.Layers[3].slice(7);
    const layer = await members(archive.get(`blobs/sha256/${top}`)?.content ?? Buffer.alloc(0));
    expect([...layer.keys()].sort()).toEqual(['added.txt', 'data', 'data/.wh.d', 'keep.txt', 'old', 'old/.wh..wh..opq', 'old/y', 'srv', 'srv/deep', 'srv/deep/z']);
    expect(layer.get('keep.txt')?.content.toString()).toBe('changed\n');
  });

  it('commits a container without changes as an empty layer', () => {
    d.docker(['run', '--name', 'nochange', IMG, 'true']);
    const id = d.docker(['commit', 'nochange']).stdout.trim();
    const [info] = JSON.parse(d.docker(['image', 'inspect', id]).stdout) as Array<{ RootFS: { Layers: string[] }; RepoTags: string[] }>;
    expect(info.RootFS.Layers).toHaveLength(3);
    expect(info.RepoTags).toEqual([]);
    d.docker(['rmi', id]);
  });

  it('commits a running container, pausing it', () => {
    d.docker(['run', '-d', '--name', 'live', IMG, 'sh', '-c', 'echo live > /live.txt; sleep 300']);
    for (let i = 0; i < 50 && d.docker(['exec', 'live', 'cat', '/live.txt']).stdout !== 'live\n'; i++) spawnSleep(100);
    const id = d.docker(['commit', 'live', 'berthsave/live:1']).stdout.trim();
    expect(id).toMatch(/^sha256:/);
    expect(d.docker(['inspect', '-f', '{{.State.Status}}', 'live']).stdout).toBe('running\n');
    expect(d.docker(['run', '--rm', 'berthsave/live:1', 'cat', '/live.txt']).stdout).toBe('live\n');
  });

  it('exports the flattened filesystem of a running and of a stopped container', async () => {
    for (const name of ['live', 'tocommit']) {
      const out = join(work, `${name}-export.tar`);
      const r = d.docker(['export', '-o', out, name]);
      expect(r.stderr).toBe('');
      const m = await members(readFileSync(out));
      expect(m.get('bin/busybox')?.type).toBe('file');
      expect(m.get('bin/sh')?.type).toBe('symlink');
      // dockerd exports the init layer's marker with the rest; commits leave it out (checked above).
      expect(m.get('.dockerenv')?.content.length).toBe(0);
      expect(m.has('gone.txt')).toBe(false);
      expect(m.has('data/a')).toBe(false);
      if (name === 'live') {
        expect(m.get('live.txt')?.content.toString()).toBe('live\n');
        expect(m.get('data/d')?.content.toString()).toBe('d\n');
      } else {
        expect(m.get('keep.txt')?.content.toString()).toBe('changed\n');
        expect(m.has('data/d')).toBe(false);
        expect(m.has('old/x')).toBe(false);
        expect(m.get('old/y')?.content.toString()).toBe('y\n');
      }
      expect([...m.keys()].some((k) => k.includes('.wh.'))).toBe(false);
    }
    // An export imports as a one-layer image that runs.
    const imp = d.docker(['import', join(work, 'tocommit-export.tar'), 'berthsave/imported:1']);
    expect(imp.status).toBe(0);
    expect(d.docker(['run', '--rm', 'berthsave/imported:1', 'cat', '/srv/deep/z']).stdout).toBe('z\n');
  });

  it('commits a container whose image was deleted with force meanwhile', () => {
    d.docker(['create', '--name', 'orphan', 'berthsave/live:1', 'true']);
    const rmi = d.docker(['rmi', '-f', 'berthsave/live:1']);
    expect(rmi.status).toBe(0);
    expect(d.docker(['images', '-q', 'berthsave/live']).stdout).toBe('');
    const id = d.docker(['commit', 'orphan', 'berthsave/orphan:1']).stdout.trim();
    expect(JSON.parse(d.docker(['image', 'inspect', id]).stdout)[0].RootFS.Layers).toHaveLength(4);
    expect(d.docker(['run', '--rm', 'berthsave/orphan:1', 'cat', '/live.txt']).stdout).toBe('live\n');
  });

  it('reports load, save, commit, import, untag and delete on the event stream', async () => {
    const until = Math.ceil(Date.now() / 1000) + 1;
    const res = await d.api('GET', `/events?since=0&until=${until}&filters=${encodeURIComponent(JSON.stringify({ type: ['image'] }))}`);
    const actions = new Set(res.raw.trim().split('\n').map((l) => (JSON.parse(l) as { Action: string }).Action));
    for (const a of ['load', 'save', 'commit', 'import', 'untag', 'delete']) expect(actions).toContain(a);
  });

  it('refuses to save or export what is not there', () => {
    expect(d.docker(['save', '-o', join(work, 'x.tar'), 'nosuch:9']).stderr).toContain('No such image: nosuch:9');
    expect(d.docker(['export', '-o', join(work, 'x.tar'), 'nosuchctr']).stderr).toContain('No such container: nosuchctr');
  });
});

function spawnSleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
