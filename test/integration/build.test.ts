// docker build (the classic builder) through the real docker CLI and berth's client: the stream
// as the CLI prints it, each instruction's effect seen by `docker run`, the build cache,
// multi-stage builds, .dockerignore, build args, ONBUILD, history, and failures that leave
// nothing behind.
import { mkdirSync, mkdtempSync, writeFileSync } from 'fs';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasDocker, startDaemonWithImage, stopAndCheck, type TestDaemon } from '../helpers/daemon';

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
});
