// docker build (the classic builder) through the real docker CLI and berth's client: the stream
// as the CLI prints it, each instruction's effect seen by `docker run`, the build cache,
// multi-stage builds, .dockerignore, build args, ONBUILD, history, and failures that leave
// nothing behind.
import { execFileSync, spawn } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import * as tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCKER, hasDocker, startDaemonWithImage, stopAndCheck, type TestDaemon } from '../helpers/daemon';
import { hasRegistry, startRegistry } from '../helpers/registry';

const BASE = 'busybox:latest';

describe.skipIf(!hasDocker)('docker build', () => {
  let d: TestDaemon;
  let n = 0;

  /** A context directory with these files (a `dir/` suffix makes a directory). */
  const context = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(d.dirs.base, `ctx${n++}-`));
    for (const [name, content] of Object.entries(files)) {
      const path = join(dir, name);
      mkdirSync(join(path, '..'), { recursive: true });
      if (name.endsWith('/')) mkdirSync(path, { recursive: true });
      else writeFileSync(path, content);
    }
    return dir;
  };
  const containerCount = (): number => d.docker(['ps', '-aq']).stdout.split('\n').filter(Boolean).length;

  beforeAll(async () => {
    d = await startDaemonWithImage(BASE);
  });

  afterAll(async () => {
    if (d) await stopAndCheck(d);
  });

  it('builds an image whose ENV, WORKDIR, RUN, COPY, EXPOSE and CMD each took effect, printing the classic stream', () => {
    const dir = context({
      Dockerfile: 'FROM busybox\nENV GREETING=hello\nWORKDIR /app\nRUN echo built > made.txt && echo to-stderr >&2\nCOPY data.txt sub/\nEXPOSE 8080/tcp\nCMD ["sh", "-c", "echo $GREETING; pwd; cat made.txt sub/data.txt"]\n',
      'data.txt': 'copied\n',
    });
    const before = containerCount();
    const r = d.docker(['build', '-t', 'berthbuild/app:1', dir]);
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^Sending build context to Docker daemon/m);
    expect(out).toMatch(/^Step 1\/7 : FROM busybox\n ---> [0-9a-f]{12}\n/m);
    expect(out).toMatch(/^Step 2\/7 : ENV GREETING=hello\n ---> Running in ([0-9a-f]{12})\nRemoving intermediate container \1\n ---> [0-9a-f]{12}\n/m);
    expect(out).toMatch(/^Step 4\/7 : RUN echo built > made.txt && echo to-stderr >&2\n ---> Running in ([0-9a-f]{12})\n/m);
    expect(out + r.stderr).toContain('to-stderr');
    expect(out).toMatch(/^Step 5\/7 : COPY data.txt sub\/\n ---> [0-9a-f]{12}\n/m);
    expect(out).toMatch(/^Successfully built ([0-9a-f]{12})\nSuccessfully tagged berthbuild\/app:1\n$/m);
    expect(containerCount()).toBe(before);

    const run = d.docker(['run', '--rm', 'berthbuild/app:1']);
    expect(run.stdout).toBe('hello\n/app\nbuilt\ncopied\n');
    const cfg = JSON.parse(d.docker(['image', 'inspect', '-f', '{{json .Config}}', 'berthbuild/app:1']).stdout) as Record<string, unknown>;
    expect(cfg.ExposedPorts).toEqual({ '8080/tcp': {} });
    expect(cfg.WorkingDir).toBe('/app');
    expect(cfg.Env).toContain('GREETING=hello');
  });

  it('reuses every step of an identical second build (Using cache) and --no-cache rebuilds', () => {
    const files = { Dockerfile: 'FROM busybox\nRUN echo one > /one\nCOPY f.txt /f.txt\nCMD ["cat", "/f.txt"]\n', 'f.txt': 'v1\n' };
    const first = d.docker(['build', '-t', 'berthbuild/cache', context(files)]);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).not.toContain('Using cache');
    const second = d.docker(['build', '-t', 'berthbuild/cache', context(files)]);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout.match(/ ---> Using cache\n/g)).toHaveLength(3);
    expect(second.stdout).not.toContain('Running in');
    const id = (s: string): string => (/Successfully built (\w+)/.exec(s) as RegExpExecArray)[1];
    expect(id(second.stdout)).toBe(id(first.stdout));
    // A changed file breaks the cache from its COPY on.
    const changed = d.docker(['build', context({ ...files, 'f.txt': 'v2\n' })]);
    expect(changed.stdout.match(/ ---> Using cache\n/g)).toHaveLength(1);
    const none = d.docker(['build', '--no-cache', context(files)]);
    expect(none.stdout).not.toContain('Using cache');
  });

  it('fails a RUN with Docker\'s message and exit code, leaving no container behind', () => {
    const before = containerCount();
    const r = d.docker(['build', context({ Dockerfile: 'FROM busybox\nRUN exit 3\n' })]);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("The command '/bin/sh -c exit 3' returned a non-zero code: 3");
    expect(containerCount()).toBe(before);
  });

  it('refuses bad Dockerfiles with Docker\'s messages', () => {
    const unknown = d.docker(['build', context({ Dockerfile: 'FROM busybox\nFOO bar\n' })]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('dockerfile parse error on line 2: unknown instruction: FOO');
    const noFrom = d.docker(['build', context({ Dockerfile: 'RUN true\n' })]);
    expect(noFrom.stderr).toContain('no build stage in current context');
    const empty = d.docker(['build', context({ Dockerfile: '' })]);
    expect(empty.stderr).toContain('the Dockerfile (Dockerfile) cannot be empty');
    const outside = d.docker(['build', context({ Dockerfile: 'FROM busybox\nCOPY ../secret /x\n' })]);
    expect(outside.stderr).toContain('COPY failed: forbidden path outside the build context: ../secret ()');
    const missing = d.docker(['build', context({ Dockerfile: 'FROM busybox\nCOPY nope.txt /x\n' })]);
    expect(missing.stderr).toContain('COPY failed: file not found in build context or excluded by .dockerignore: stat nope.txt: file does not exist');
  });

  it('runs the CMD vs ENTRYPOINT demo: CMD is replaced by run arguments, ENTRYPOINT takes them', () => {
    const dir = context({ 'dockerfile-cmd-test': 'FROM busybox\nCMD ["ls", "-a"]\n', 'dockerfile-ep-test': 'FROM busybox\nENTRYPOINT ["ls", "-a"]\n' });
    expect(d.docker(['build', '-f', join(dir, 'dockerfile-cmd-test'), '-t', 'berthbuild/cmd', dir]).status).toBe(0);
    expect(d.docker(['run', '--rm', 'berthbuild/cmd']).stdout.split('\n')).toEqual(expect.arrayContaining(['.', '..', 'bin', 'etc']));
    const bad = d.docker(['run', '--rm', 'berthbuild/cmd', '-l']);
    expect(bad.status).toBe(127);
    expect(bad.stderr).toContain('exec: "-l": executable file not found in $PATH');
    expect(d.docker(['build', '-f', join(dir, 'dockerfile-ep-test'), '-t', 'berthbuild/ep', dir]).status).toBe(0);
    expect(d.docker(['run', '--rm', 'berthbuild/ep', '-l', '/']).stdout).toMatch(/^total \d+\ndrwx/);
  });

  it('builds multi-stage: COPY --from a stage name and index, --target, untagged stages, build args in FROM and RUN', () => {
    const dir = context({
      Dockerfile: 'ARG BASE=busybox\nFROM ${BASE} AS builder\nARG MSG=default\nRUN echo "msg=$MSG" > /out.txt\nFROM busybox\nCOPY --from=builder /out.txt /from-name.txt\nCOPY --from=0 /out.txt /from-index.txt\nCMD ["cat", "/from-name.txt", "/from-index.txt"]\n',
    });
    const r = d.docker(['build', '--build-arg', 'MSG=given', '--build-arg', 'UNUSED=1', '-t', 'berthbuild/multi', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Step 1/8 : ARG BASE=busybox\nStep 2/8 : FROM ${BASE} AS builder\n');
    expect(r.stdout).toContain('[Warning] One or more build-args [UNUSED] were not consumed\n');
    expect(d.docker(['run', '--rm', 'berthbuild/multi']).stdout).toBe('msg=given\nmsg=given\n');
    // Only the last stage is tagged; the first stage's image is an untagged step under nothing tagged.
    expect(d.docker(['images', '--format', '{{.Repository}}:{{.Tag}}', 'berthbuild/multi']).stdout.trim()).toBe('berthbuild/multi:latest');
    const target = d.docker(['build', '--target', 'builder', '-t', 'berthbuild/stage', dir]);
    expect(target.stdout).not.toContain('Step 5/');
    expect(d.docker(['run', '--rm', 'berthbuild/stage', 'cat', '/out.txt']).stdout).toBe('msg=default\n');
    const missing = d.docker(['build', '--target', 'nope', dir]);
    expect(missing.stderr).toContain('failed to reach build target nope in Dockerfile');
  });

  it('leaves out what .dockerignore excludes, with exceptions', () => {
    const dir = context({
      Dockerfile: 'FROM busybox\nCOPY . /ctx/\nCMD ["find", "/ctx", "-type", "f"]\n',
      '.dockerignore': 'secret.txt\n**/*.log\n!keep.log\n',
      'app.txt': 'a',
      'secret.txt': 's',
      'sub/debug.log': 'l',
      'keep.log': 'k',
    });
    expect(d.docker(['build', '-t', 'berthbuild/ignore', dir]).status).toBe(0);
    const files = d.docker(['run', '--rm', 'berthbuild/ignore']).stdout.split('\n').filter(Boolean).sort();
    expect(files).toEqual(['/ctx/.dockerignore', '/ctx/Dockerfile', '/ctx/app.txt', '/ctx/keep.log']);
  });

  it('runs ONBUILD triggers when a child image is built FROM the image', () => {
    const parent = context({ Dockerfile: 'FROM busybox\nONBUILD COPY greeting.txt /greeting.txt\nONBUILD RUN echo triggered >> /greeting.txt\n' });
    expect(d.docker(['build', '-t', 'berthbuild/onbuild', parent]).status).toBe(0);
    expect(d.docker(['image', 'inspect', '-f', '{{json .Config.OnBuild}}', 'berthbuild/onbuild']).stdout.trim()).toBe('["COPY greeting.txt /greeting.txt","RUN echo triggered >> /greeting.txt"]');
    const child = context({ Dockerfile: 'FROM berthbuild/onbuild\nCMD ["cat", "/greeting.txt"]\n', 'greeting.txt': 'hello\n' });
    const r = d.docker(['build', '-t', 'berthbuild/child', child]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Step 1/2 : FROM berthbuild/onbuild\n# Executing 2 build triggers\n');
    expect(d.docker(['run', '--rm', 'berthbuild/child']).stdout).toBe('hello\ntriggered\n');
    // Triggers do not pass on to grandchildren.
    expect(d.docker(['image', 'inspect', '-f', '{{json .Config.OnBuild}}', 'berthbuild/child']).stdout.trim()).toBe('null');
  });

  it('shows each step in docker history with its image ID, #(nop) rows for metadata', () => {
    const dir = context({ Dockerfile: 'FROM busybox\nRUN echo x > /x\nENV A=b\nCMD ["sh"]\n' });
    const r = d.docker(['build', '-t', 'berthbuild/history', dir]);
    const ids = [...r.stdout.matchAll(/^ ---> ([0-9a-f]{12})$/gm)].map((m) => m[1]);
    const h = d.docker(['history', '--format', '{{.ID}}\t{{.CreatedBy}}', '--no-trunc', 'berthbuild/history']).stdout.split('\n').filter(Boolean);
    expect(h.slice(0, 3).map((l) => l.split('\t')[1])).toEqual(['/bin/sh -c #(nop)  CMD ["sh"]', '/bin/sh -c #(nop)  ENV A=b', '/bin/sh -c echo x > /x']);
    expect(h.slice(0, 4).map((l) => l.split('\t')[0].slice(7, 19))).toEqual([...ids].reverse());
    expect(d.docker(['history', 'berthbuild/history']).stdout).toMatch(/^IMAGE +CREATED +CREATED BY +SIZE +COMMENT\n[0-9a-f]{12} /);
  });

  it('ADD unpacks local tar archives (gzip, bzip2, xz) and copies other files as they are', () => {
    const src = context({ 'pkg/a.txt': 'from-archive\n' });
    const dir = context({ Dockerfile: 'FROM busybox\nADD plain.tar /plain/\nADD pkg.tar.gz /gz/\nADD pkg.tar.bz2 /bz/\nADD pkg.tar.xz /xz/\nADD note.txt /note/\nCMD ["cat", "/plain/pkg/a.txt", "/gz/pkg/a.txt", "/bz/pkg/a.txt", "/xz/pkg/a.txt", "/note/note.txt"]\n', 'note.txt': 'plain file\n' });
    execFileSync('tar', ['-cf', join(dir, 'plain.tar'), '-C', src, 'pkg']);
    execFileSync('tar', ['-czf', join(dir, 'pkg.tar.gz'), '-C', src, 'pkg']);
    execFileSync('tar', ['-cjf', join(dir, 'pkg.tar.bz2'), '-C', src, 'pkg']);
    execFileSync('tar', ['-cJf', join(dir, 'pkg.tar.xz'), '-C', src, 'pkg']);
    const r = d.docker(['build', '-t', 'berthbuild/add', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(d.docker(['run', '--rm', 'berthbuild/add']).stdout).toBe('from-archive\n'.repeat(4) + 'plain file\n');
  });

  it('builds from a context tar on stdin, prints only the ID with -q, and builder prune removes what builds left dangling', async () => {
    const dir = context({ Dockerfile: 'FROM busybox\nRUN echo one > /f\n' });
    const tarball = execFileSync('tar', ['-c', '-C', dir, '.']);
    const q = d.docker(['build', '-q', '-t', 'berthbuild/quiet', '-'], { input: tarball });
    expect(q.status, q.stderr).toBe(0);
    expect(q.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const missing = d.docker(['build', '-f', 'Nope', '-'], { input: tarball });
    expect(missing.stderr).toContain('Cannot locate specified Dockerfile: Nope');
    // Retagging the name to a new build leaves the old one and its steps dangling: the build cache to prune.
    expect(d.docker(['build', '-q', '-t', 'berthbuild/quiet', context({ Dockerfile: 'FROM busybox\nRUN echo two > /f\n' })]).status).toBe(0);
    const before = (await d.api<Array<{ Id: string }>>('GET', '/images/json?all=1')).body.length;
    const pruned = d.docker(['builder', 'prune', '-f']);
    expect(pruned.status, pruned.stderr).toBe(0);
    expect(pruned.stdout).toMatch(/^Deleted build cache objects:\nsha256:[0-9a-f]{64}\n/);
    const after = (await d.api<Array<{ Id: string }>>('GET', '/images/json?all=1')).body.length;
    expect(after).toBeLessThan(before);
    expect(d.docker(['run', '--rm', 'berthbuild/quiet', 'cat', '/f']).stdout).toBe('two\n');
  });

  it('builds with berth\'s own client: tags, -f, build args, --target, -q, a Dockerfile on stdin, a failing RUN\'s exit code', () => {
    const dir = context({ 'build.Dockerfile': 'FROM busybox AS one\nARG WHO=nobody\nRUN echo "hi $WHO" > /hi\nFROM one\nCMD ["cat", "/hi"]\n', '.dockerignore': '*.tmp\n', 'x.tmp': 'x' });
    const r = d.berth(['build', '-t', 'berthbuild/client:1', '-t', 'berthbuild/client:2', '-f', join(dir, 'build.Dockerfile'), '--build-arg', 'WHO=berth', '--label', 'built.by=berth', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Sending build context to Docker daemon {2}[\d.]+kB\r\r\nStep 1\/6 : FROM busybox AS one\n ---> [0-9a-f]{12}\n/);
    expect(r.stdout).toMatch(/Successfully built [0-9a-f]{12}\nSuccessfully tagged berthbuild\/client:1\nSuccessfully tagged berthbuild\/client:2\n$/);
    expect(d.docker(['run', '--rm', 'berthbuild/client:2']).stdout).toBe('hi berth\n');
    expect(r.stdout).toContain('Step 6/6 : LABEL built.by=berth\n');
    expect(d.docker(['image', 'inspect', '-f', '{{index .Config.Labels "built.by"}}', 'berthbuild/client:1']).stdout).toBe('berth\n');
    const q = d.berth(['build', '-q', '--target', 'one', '-f', join(dir, 'build.Dockerfile'), dir]);
    expect(q.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const failed = d.berth(['build', '-'], { input: 'FROM busybox\nRUN echo out; exit 5\n' });
    expect(failed.status).toBe(5);
    expect(failed.stdout).toContain('\nout\n');
    expect(failed.stderr).toContain("The command '/bin/sh -c echo out; exit 5' returned a non-zero code: 5");
    const noFile = d.berth(['build', context({ 'a.txt': 'a' })]);
    expect(noFile.status).toBe(1);
    expect(noFile.stderr).toMatch(/unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat .*\/Dockerfile: no such file or directory/);
  });

  it('refuses a context tar with a ../ entry: a 400, nothing written outside, nothing left', async () => {
    const pack = tar.pack();
    pack.entry({ name: 'Dockerfile' }, 'FROM busybox\n');
    pack.entry({ name: '../escape.txt' }, 'x');
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack as unknown as AsyncIterable<Buffer>) chunks.push(c);
    const r = await d.api<{ message: string }>('POST', '/build?t=berthbuild/escape', Buffer.concat(chunks));
    expect(r.status).toBe(400);
    expect(r.body.message).toBe('invalid tar entry "../escape.txt": the path climbs out of the root');
    const tmp = join(d.dataRoot, 'image/tmp');
    expect(existsSync(join(tmp, 'escape.txt'))).toBe(false);
    expect(readdirSync(tmp)).toEqual([]);
    expect(d.docker(['images', '-q', 'berthbuild/escape']).stdout).toBe('');
  });

  it('keeps parent links: a base with children is only untagged, removing the child takes the untagged steps, df has no BuildKit cache', () => {
    expect(d.docker(['build', '-t', 'berthbuild/base', context({ Dockerfile: 'FROM busybox\nRUN echo base > /base\n' })]).status).toBe(0);
    const baseId = d.docker(['images', '-q', '--no-trunc', 'berthbuild/base']).stdout.trim();
    expect(d.docker(['build', '-t', 'berthbuild/leaf', context({ Dockerfile: 'FROM berthbuild/base\nRUN cat /base > /leaf\n' })]).status).toBe(0);
    expect(d.docker(['image', 'inspect', '-f', '{{.Parent}}', 'berthbuild/leaf']).stdout.trim()).not.toBe('');
    const untag = d.docker(['rmi', 'berthbuild/base']);
    expect(untag.status, untag.stderr).toBe(0);
    expect(untag.stdout).toBe('Untagged: berthbuild/base:latest\n');
    // Untagged but with a child: hidden from `images`, listed by `images -a`.
    expect(d.docker(['images', '-q', '--no-trunc']).stdout).not.toContain(baseId);
    expect(d.docker(['images', '-aq', '--no-trunc']).stdout).toContain(baseId);
    const rm = d.docker(['rmi', 'berthbuild/leaf']);
    expect(rm.stdout).toContain(`Deleted: ${baseId}\n`);
    expect(d.docker(['images', '-aq', '--no-trunc']).stdout).not.toContain(baseId);
    const df = d.docker(['system', 'df']);
    expect(df.status, df.stderr).toBe(0);
    expect(df.stdout).toMatch(/^Build Cache +0 +0 +0B +0B$/m);
  });

  it('cancels the build when the client goes away: the running step\'s container is removed, no image is tagged', async () => {
    const before = containerCount();
    const dir = context({ Dockerfile: 'FROM busybox\nRUN echo started; sleep 60\nRUN echo never\n' });
    const cli = spawn(DOCKER, ['build', '--no-cache', '-t', 'berthbuild/cancelled', dir], { env: { ...process.env, DOCKER_HOST: d.host } });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`RUN did not start: ${out}`)), 20_000);
      cli.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('started\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    cli.kill('SIGINT');
    await new Promise((r) => cli.once('exit', r));
    const deadline = Date.now() + 10_000;
    while (containerCount() !== before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(containerCount()).toBe(before);
    expect(d.docker(['images', '-q', 'berthbuild/cancelled']).stdout).toBe('');
  });

  it('COPY --chown (ids and names), a relative WORKDIR, USER for RUN and the image, COPY through a symlinked directory of the image', () => {
    const dir = context({
      Dockerfile:
        'FROM busybox\nRUN mkdir -p /real && ln -s /real /link\nWORKDIR /srv\nWORKDIR web\nCOPY --chown=1000:1001 a.txt ./\nCOPY --chown=nobody b.txt /link/\nCOPY dir/ /tree/\nUSER nobody\nRUN id -un > /tmp/who\nCMD ["sh", "-c", "pwd; stat -c %u:%g a.txt /real/b.txt /tree/x/y.txt; cat /tmp/who; id -un"]\n',
      'a.txt': 'a',
      'b.txt': 'b',
      'dir/x/y.txt': 'y',
    });
    const r = d.docker(['build', '-t', 'berthbuild/owners', dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(d.docker(['run', '--rm', 'berthbuild/owners']).stdout).toBe('/srv/web\n1000:1001\n65534:65534\n0:0\nnobody\nnobody\n');
    const bad = d.docker(['build', context({ Dockerfile: 'FROM busybox\nCOPY --chown=nosuchuser Dockerfile /\n' })]);
    expect(bad.stderr).toContain("unable to convert uid/gid chown string to host mapping: can't find uid for user nosuchuser: no such user: nosuchuser");
  });

  it.skipIf(!hasRegistry)('pulls a missing base image through the registry client, its progress in the build output', async () => {
    const reg = await startRegistry();
    try {
      const ref = `${reg.host}/berthbuild/base:1`;
      expect(d.docker(['tag', BASE, ref]).status).toBe(0);
      expect(d.docker(['push', ref]).status).toBe(0);
      expect(d.docker(['rmi', ref]).status).toBe(0);
      const r = d.docker(['build', '-t', 'berthbuild/pulled', context({ Dockerfile: `FROM ${ref}\nRUN echo ok\n` })]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`Step 1/2 : FROM ${ref}\n1: Pulling from berthbuild/base\n`);
      expect(r.stdout).toContain(`Status: Downloaded newer image for ${ref}\n`);
      expect(d.docker(['images', '-q', ref]).stdout.trim()).not.toBe('');
      const missing = d.docker(['build', context({ Dockerfile: `FROM ${reg.host}/berthbuild/nope:1\n` })]);
      expect(missing.status).toBe(1);
      expect(missing.stderr).toContain(`manifest for ${reg.host}/berthbuild/nope:1 not found: manifest unknown`);
    } finally {
      d.docker(['rmi', `${reg.host}/berthbuild/base:1`]);
      await reg.stop();
    }
  });
});
