// --ulimit through the real CLI: the container's process, its execs and health probes start with
// the limits; inspect shows them merged with the daemon's --default-ulimit / "default-ulimits";
// values runc refuses fail the start with its words.
import { readFileSync } from 'fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasDocker, startDaemonWithImage, stopAndCheck, type TestDaemon } from '../helpers/daemon';

const IMG = 'berthulimit/busybox:latest';
/** Whether this process (and so the daemon it starts) may raise a hard limit: bit 24 of its effective set. */
const sysResource = (BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`) >> 24n) & 1n;
/** This process's hard nofile limit, which the daemon inherits. */
const hardNofile = Number(/^Max open files\s+\S+\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))![1]);

/** "soft hard" of one row of /proc/<pid>/limits ("Max open files", "Max processes", ...). */
function limitRow(limits: string, row: string): string {
  const m = new RegExp(`^${row}\\s+(\\S+)\\s+(\\S+)`, 'm').exec(limits);
  if (!m) throw new Error(`no ${row} in ${limits}`);
  return `${m[1]} ${m[2]}`;
}

describe.skipIf(!hasDocker)('--ulimit', () => {
  let d: TestDaemon;
  const hostConfig = (t: TestDaemon, name: string): Record<string, unknown> => JSON.parse(t.docker(['inspect', name]).stdout)[0].HostConfig;

  beforeAll(async () => {
    d = await startDaemonWithImage(IMG);
  });

  afterAll(async () => {
    if (d) await stopAndCheck(d);
  });

  it('sets soft and hard limits of the command as given (nofile, nproc, core), hard defaulting to soft', () => {
    const r = d.docker(['run', '--rm', '--ulimit', 'nofile=1024:2048', IMG, 'sh', '-c', 'ulimit -Sn; ulimit -Hn']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1024\n2048\n');
    const limits = d.docker(['run', '--rm', '--ulimit', 'nproc=100:200', '--ulimit', 'core=0:1048576', '--ulimit', 'nofile=512', IMG, 'cat', '/proc/self/limits']);
    expect(limits.stderr).toBe('');
    expect(limitRow(limits.stdout, 'Max processes')).toBe('100 200');
    expect(limitRow(limits.stdout, 'Max core file size')).toBe('0 1048576');
    expect(limitRow(limits.stdout, 'Max open files')).toBe('512 512');
    // Without --ulimit the command keeps the daemon's own.
    expect(limitRow(d.docker(['run', '--rm', IMG, 'cat', '/proc/self/limits']).stdout, 'Max open files')).toBe(`${hardNofile} ${hardNofile}`);
  });

  it('gives execs and health probes the container limits, and shows them in inspect (null without)', async () => {
    const run = d.docker(['run', '-d', '--name', 'lim', '--stop-timeout', '0', '--ulimit', 'nofile=1000:1500', '--ulimit', 'nproc=300', '--health-cmd', 'ulimit -Sn > /tmp/probe', '--health-interval', '1s', IMG, 'sleep', '300']);
    expect(run.stderr).toBe('');
    for (let i = 0; i < 2; i++) {
      // Twice: the first exec may find no spare init, the second is served by one.
      const e = d.docker(['exec', 'lim', 'sh', '-c', 'ulimit -Sn; ulimit -Hn; ulimit -u']);
      expect(e.stdout).toBe('1000\n1500\n300\n');
    }
    // --privileged execs start from a fresh init: the same limits.
    expect(d.docker(['exec', '--privileged', 'lim', 'sh', '-c', 'ulimit -Hn']).stdout).toBe('1500\n');
    let probe = '';
    for (let i = 0; i < 100 && probe === ''; i++) {
      probe = d.docker(['exec', 'lim', 'cat', '/tmp/probe']).stdout;
      if (probe === '') await new Promise((r) => setTimeout(r, 100));
    }
    expect(probe).toBe('1000\n');
    expect(hostConfig(d, 'lim').Ulimits).toEqual([
      { Name: 'nofile', Hard: 1500, Soft: 1000 },
      { Name: 'nproc', Hard: 300, Soft: 300 },
    ]);
    expect(d.docker(['inspect', '-f', '{{json .HostConfig.Ulimits}}', 'lim']).stdout).toBe('[{"Name":"nofile","Hard":1500,"Soft":1000},{"Name":"nproc","Hard":300,"Soft":300}]\n');
    d.docker(['rm', '-f', 'lim']);
    expect(d.docker(['create', '--name', 'plain', IMG]).status).toBe(0);
    expect(hostConfig(d, 'plain').Ulimits).toBeNull();
    d.docker(['rm', 'plain']);
  });

  it('refuses in the CLI what go-units refuses, and at start what runc refuses, with their words', async () => {
    const cli = d.docker(['run', '--rm', '--ulimit', 'nofile=2048:1024', IMG, 'true']);
    expect(cli.status).not.toBe(0);
    expect(cli.stderr).toContain('ulimit soft limit must be less than or equal to hard limit: 2048 > 1024');
    // The API takes any body (dockerd checks neither names nor values at create); runc refuses them at start.
    const created = await d.api<{ Id: string }>('POST', '/v1.43/containers/create?name=badname', { Image: IMG, Cmd: ['true'], HostConfig: { Ulimits: [{ Name: 'bogus', Soft: 1, Hard: 1 }] } });
    expect(created.status).toBe(201);
    const badName = d.docker(['start', 'badname']);
    expect(badName.status).not.toBe(0);
    expect(badName.stderr).toContain('Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: wrong rlimit value: RLIMIT_BOGUS: unknown');
    expect(hostConfig(d, 'badname').Ulimits).toEqual([{ Name: 'bogus', Hard: 1, Soft: 1 }]);
    expect((await d.api('POST', '/v1.43/containers/create?name=softhard', { Image: IMG, Cmd: ['true'], HostConfig: { Ulimits: [{ Name: 'nofile', Soft: 2048, Hard: 1024 }] } })).status).toBe(201);
    const start = await d.api<{ message: string }>('POST', '/v1.43/containers/softhard/start');
    expect(start.status).toBe(400);
    expect(start.body.message).toBe(
      'failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error setting rlimits for ready process: error setting rlimit type 7: invalid argument: unknown',
    );
    const state = JSON.parse(d.docker(['inspect', 'softhard']).stdout)[0].State as { Status: string; ExitCode: number };
    expect([state.Status, state.ExitCode]).toEqual(['created', 128]);
    const typed = await d.api<{ message: string }>('POST', '/v1.43/containers/create', { Image: IMG, HostConfig: { Ulimits: { Name: 'nofile' } } });
    expect(typed.status).toBe(400);
    expect(typed.body.message).toBe('json: cannot unmarshal object into Go struct field HostConfig.Ulimits of type []*units.Ulimit');
    d.docker(['rm', 'badname', 'softhard']);
  });

  it('raises a hard limit above the daemon own only with CAP_SYS_RESOURCE, else fails as runc does', () => {
    const r = d.docker(['run', '--rm', '--ulimit', `nofile=1024:${hardNofile + 1}`, IMG, 'sh', '-c', 'ulimit -Hn']);
    if (sysResource) {
      expect(r.stdout).toBe(`${hardNofile + 1}\n`);
    } else {
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(
        'failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error setting rlimits for ready process: error setting rlimit type 7: operation not permitted: unknown',
      );
    }
  });
});

describe.skipIf(!hasDocker)('daemon default ulimits', () => {
  it('--default-ulimit applies under the container own values, in the processes and in inspect', async () => {
    const d = await startDaemonWithImage(IMG, { args: ['--default-ulimit', 'nofile=900:1800', '--default-ulimit', 'nproc=222:333'] });
    try {
      const own = d.docker(['run', '--rm', IMG, 'sh', '-c', 'ulimit -Sn; ulimit -Hn; ulimit -u']);
      expect(own.stdout).toBe('900\n1800\n222\n');
      // The container's nofile wins; the daemon's nproc stays.
      expect(d.docker(['run', '--name', 'mine', '--ulimit', 'nofile=100:200', IMG, 'sh', '-c', 'ulimit -Sn; ulimit -Hn; ulimit -u']).stdout).toBe('100\n200\n222\n');
      expect(d.docker(['inspect', '-f', '{{json .HostConfig.Ulimits}}', 'mine']).stdout).toBe('[{"Name":"nofile","Hard":200,"Soft":100},{"Name":"nproc","Hard":333,"Soft":222}]\n');
      expect(d.docker(['create', '--name', 'none', IMG]).status).toBe(0);
      expect(JSON.parse(d.docker(['inspect', 'none']).stdout)[0].HostConfig.Ulimits).toEqual([
        { Name: 'nofile', Hard: 1800, Soft: 900 },
        { Name: 'nproc', Hard: 333, Soft: 222 },
      ]);
    } finally {
      await stopAndCheck(d);
    }
  });

  it('daemon.json "default-ulimits" does the same; a flag beside it, or a bad flag, stops the daemon with dockerd words', async () => {
    const d = await startDaemonWithImage(IMG, { config: { 'default-ulimits': { nofile: { Name: 'nofile', Hard: 1600, Soft: 800 } } } });
    try {
      expect(d.docker(['run', '--rm', IMG, 'sh', '-c', 'ulimit -Sn; ulimit -Hn']).stdout).toBe('800\n1600\n');
    } finally {
      await stopAndCheck(d);
    }
    await expect(startDaemonWithImage(IMG, { config: { 'default-ulimits': { nofile: { Name: 'nofile', Hard: 1600, Soft: 800 } } }, args: ['--default-ulimit', 'nofile=1:2'] })).rejects.toThrow(
      /the following directives are specified both as a flag and in the configuration file: default-ulimits: \(from flag: \[nofile=1:2\], from file: map\[nofile:map\[Hard:1600 Name:nofile Soft:800\]\]\)/,
    );
    await expect(startDaemonWithImage(IMG, { args: ['--default-ulimit', 'nofile=3:2'] })).rejects.toThrow(
      'invalid argument "nofile=3:2" for "--default-ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 3 > 2',
    );
  });
});
