// The environment variables of legacy links through the real docker CLI: what the linking
// container's own process and its execs see, with and without an alias, port ranges, and how
// they follow the linked container to a new address. Expected lists follow moby 20.10-27
// (daemon/links ToEnv, CreateDaemonEnvironment): PATH, HOSTNAME, the link variables, the
// container's own Env, then HOME, which the init adds as runc does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasDocker, startDaemonWithImage, stopAndCheck, type TestDaemon } from '../helpers/daemon';

const IMG = 'berthlinks/busybox:latest';
const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The variables of one exposed port, as dockerd names them. */
function portVars(alias: string, ip: string, port: number, proto: string): string[] {
  const p = `${alias}_PORT_${port}_${proto.toUpperCase()}`;
  return [`${p}=${proto}://${ip}:${port}`, `${p}_ADDR=${ip}`, `${p}_PORT=${port}`, `${p}_PROTO=${proto}`];
}

describe.skipIf(!hasDocker)('link environment variables', () => {
  let d: TestDaemon;
  const ok = (args: string[]): string => {
    const r = d.docker(args);
    if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  };
  const inspect = (ref: string, format: string): string => ok(['inspect', '-f', format, ref]).trim();
  const lines = (s: string, sep = '\n'): string[] => s.split(sep).filter(Boolean);
  /** The env of the container's own process, as it started. */
  const mainEnv = (ref: string): string[] => lines(ok(['exec', ref, 'cat', '/proc/1/environ']), '\0');
  /** What linking to the db container gives, under `alias` for a link named `name`. */
  const dbVars = (alias: string, name: string, ip: string): string[] => [
    `${alias}_PORT=tcp://${ip}:80`,
    ...portVars(alias, ip, 80, 'tcp'),
    ...portVars(alias, ip, 8080, 'udp'),
    `${alias}_NAME=${name}`,
    `${alias}_ENV_FOO=bar`,
  ];

  beforeAll(async () => {
    d = await startDaemonWithImage(IMG);
    ok(['run', '-d', '--name', 'db', '--expose', '80', '--expose', '8080/udp', '-e', 'FOO=bar', IMG, 'sleep', '300']);
  });

  afterAll(async () => {
    if (d) await stopAndCheck(d);
  });

  it('gives an aliased link its variables before the container Env, in the process and its execs, not in inspect', () => {
    const ip = inspect('db', '{{.NetworkSettings.IPAddress}}');
    ok(['run', '-d', '--name', 'web', '--link', 'db:my-db', '-e', 'MINE=1', IMG, 'sleep', '300']);
    const host = `HOSTNAME=${inspect('web', '{{.Config.Hostname}}')}`;
    const expected = [PATH, host, ...dbVars('MY_DB', '/web/my-db', ip), 'MINE=1', 'HOME=/root'];
    expect(mainEnv('web')).toEqual(expected);
    expect(lines(ok(['exec', 'web', 'env']))).toEqual(expected);
    // An exec's own -e comes over them, as over the container's Env.
    const overridden = expected.map((e) => (e === 'MY_DB_ENV_FOO=bar' ? 'MY_DB_ENV_FOO=mine' : e));
    expect(lines(ok(['exec', '-e', 'MY_DB_ENV_FOO=mine', '-e', 'X=2', 'web', 'env']))).toEqual([...overridden.slice(0, -1), 'X=2', 'HOME=/root']);
    expect(inspect('web', '{{json .Config.Env}}')).toBe(JSON.stringify([PATH, 'MINE=1']));
    // The linked container gets nothing back.
    expect(lines(ok(['exec', 'db', 'env'])).filter((e) => e.includes('_PORT') || e.includes('_NAME='))).toEqual([]);
    ok(['rm', '-f', 'web']);
  });

  it('names the variables after the linked name without alias, and ranges three consecutive ports', () => {
    const ip = inspect('db', '{{.NetworkSettings.IPAddress}}');
    const out = ok(['run', '--name', 'plain', '--link', 'db', IMG, 'env']);
    const host = `HOSTNAME=${inspect('plain', '{{.Config.Hostname}}')}`;
    expect(lines(out)).toEqual([PATH, host, ...dbVars('DB', '/plain/db', ip), 'HOME=/root']);
    ok(['rm', 'plain']);

    ok(['run', '-d', '--name', 'svc-range', '--expose', '7000-7002', IMG, 'sleep', '300']);
    const rip = inspect('svc-range', '{{.NetworkSettings.IPAddress}}');
    const r = ok(['run', '--rm', '--name', 'ranger', '--link', 'svc-range', IMG, 'env']);
    expect(lines(r).filter((e) => e.startsWith('SVC_RANGE_'))).toEqual([
      `SVC_RANGE_PORT=tcp://${rip}:7000`,
      `SVC_RANGE_PORT_7000_TCP_START=tcp://${rip}:7000`,
      `SVC_RANGE_PORT_7000_TCP_ADDR=${rip}`,
      'SVC_RANGE_PORT_7000_TCP_PROTO=tcp',
      'SVC_RANGE_PORT_7000_TCP_PORT_START=7000',
      `SVC_RANGE_PORT_7000_TCP_END=tcp://${rip}:7002`,
      'SVC_RANGE_PORT_7000_TCP_PORT_END=7002',
      ...portVars('SVC_RANGE', rip, 7000, 'tcp'),
      ...portVars('SVC_RANGE', rip, 7001, 'tcp'),
      ...portVars('SVC_RANGE', rip, 7002, 'tcp'),
      'SVC_RANGE_NAME=/ranger/svc-range',
    ]);
    ok(['rm', '-f', 'svc-range']);
  });

  it('follows the linked container to its new address: execs at once, the process at its restart', () => {
    const old = inspect('db', '{{.NetworkSettings.IPAddress}}');
    ok(['run', '-d', '--name', 'app', '--link', 'db:store', IMG, 'sleep', '300']);
    const vars = (env: string[]): string[] => env.filter((e) => e.startsWith('STORE_'));
    expect(vars(mainEnv('app'))).toEqual(dbVars('STORE', '/app/store', old));

    ok(['stop', '-t', '0', 'db']);
    // As dockerd: an exec needs the linked container running.
    const r = d.docker(['exec', 'app', 'true']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toBe('Error response from daemon: Cannot link to a non running container: /db AS /app/store\n');

    ok(['start', 'db']);
    const now = inspect('db', '{{.NetworkSettings.IPAddress}}');
    expect(now).not.toBe(old);
    // An exec's env is made when it is created; the running process keeps what it started with.
    expect(vars(lines(ok(['exec', 'app', 'env'])))).toEqual(dbVars('STORE', '/app/store', now));
    expect(vars(mainEnv('app'))).toEqual(dbVars('STORE', '/app/store', old));
    ok(['restart', '-t', '0', 'app']);
    expect(vars(mainEnv('app'))).toEqual(dbVars('STORE', '/app/store', now));
    ok(['rm', '-f', 'app']);
  });

  it('fails an exec once the linked container is removed, as dockerd keeps the link to it', () => {
    ok(['run', '-d', '--name', 'brief', IMG, 'sleep', '300']);
    ok(['run', '-d', '--name', 'holder', '--link', 'brief:b', IMG, 'sleep', '300']);
    ok(['rm', '-f', 'brief']);
    const r = d.docker(['exec', 'holder', 'true']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toBe('Error response from daemon: Cannot link to a non running container: /brief AS /holder/b\n');
    ok(['rm', '-f', 'holder']);
  });

  it('gives no link variables to a container off the default bridge', () => {
    ok(['network', 'create', '--subnet', `10.215.${Math.floor(Math.random() * 200)}.0/24`, 'linknet']);
    try {
      const out = ok(['run', '--rm', '--network', 'linknet', '--link', 'db:db', IMG, 'env']);
      expect(lines(out).filter((e) => e.startsWith('DB_'))).toEqual([]);
    } finally {
      ok(['network', 'rm', 'linknet']);
    }
  });
});
