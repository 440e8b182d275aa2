// docker exec and terminals through the real CLI: namespaces, cgroup, env, user, stdin, TTY, detach, exit codes.
import { spawn } from 'child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'fs';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxArchive } from '../helpers/busybox-image';
import { DOCKER, hasDocker, leftovers, startDaemon, type TestDaemon } from '../helpers/daemon';

const IMG = 'berthexec/busybox:latest';

/** Children of `daemon` running the init with a bounding set argument: the spare exec inits (a spare container init has none). */
function initsOf(daemon: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] === String(daemon) && /runtime\/init\.bundle\.js [\d,]+$/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim());
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** Polls `f` until it gives a value, for at most 10 s. */
async function until<T>(f: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    const v = await f();
    if (v !== undefined) return v;
  }
  throw new Error('condition not met within 10 s');
}

describe.skipIf(!hasDocker)('exec', () => {
  let d: TestDaemon;

  beforeAll(async () => {
    d = await startDaemon();
    const tar = join(d.dataRoot, '..', 'busybox.tar');
    await makeBusyboxArchive(tar, { repoTag: IMG });
    expect(d.docker(['load', '-i', tar]).status).toBe(0);
    expect(d.docker(['run', '-d', '--name', 'box', '-w', '/tmp', '-e', 'A=1', IMG, 'sleep', '300']).status).toBe(0);
  });

  afterAll(async () => {
    if (!d) return;
    d.docker(['rm', '-f', 'box']);
    const spares = initsOf(d.proc.pid as number);
    await d.stop();
    expect(leftovers(d)).toEqual([]);
    // The spare exec inits go with the daemon.
    expect(spares.filter((pid) => existsSync(`/proc/${pid}`))).toEqual([]);
  });

  it('starts an exec from a spare init made before it, which waits for it outside the container cgroup', async () => {
    expect(d.docker(['exec', 'box', 'true']).status).toBe(0);
    // Spares boot at a low priority; the command runs at the daemon's. (The init that served the
    // exec may linger a moment after it: it reported the exit before its own.)
    const nice = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
    const spares = await until(() => {
      const s = initsOf(d.proc.pid as number);
      return s.length > 0 && s.every((pid) => nice(pid) === 10) ? s : undefined;
    });
    const created = await d.api<{ Id: string }>('POST', '/containers/box/exec', { Cmd: ['sleep', '30'] });
    expect(created.status).toBe(201);
    expect((await d.api('POST', `/exec/${created.body.Id}/start`, { Detach: true })).status).toBe(200);
    const pid = await until(async () => {
      const r = await d.api<{ Running: boolean; Pid: number }>('GET', `/exec/${created.body.Id}/json`);
      return r.body.Running && r.body.Pid > 0 ? r.body.Pid : undefined;
    });
    // The reported PID is the command itself, in the container's PID namespace, a child of a spare.
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\x0030\x00');
    const containerPid = Number(d.docker(['inspect', '-f', '{{.State.Pid}}', 'box']).stdout);
    expect(readlinkSync(`/proc/${pid}/ns/pid`)).toBe(readlinkSync(`/proc/${containerPid}/ns/pid`));
    const parent = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    expect(spares).toContain(parent);
    expect(nice(pid)).toBe(nice(d.proc.pid as number));
    // The init leaves the container's cgroup once its child runs, so top lists only the command.
    const id = d.docker(['inspect', '-f', '{{.Id}}', 'box']).stdout.trim();
    await until(() => (readFileSync(`/proc/${parent}/cgroup`, 'utf8').includes(id) ? undefined : true));
    expect(d.docker(['top', 'box']).stdout).not.toContain('init.bundle.js');
    // The command has its terminal as controlling tty (field 7 of stat, tty_nr, is not 0).
    const tty = d.docker(['exec', '-t', 'box', 'sh', '-c', 'cut -d" " -f7 /proc/$$/stat']);
    expect(Number(tty.stdout.trim())).toBeGreaterThan(0);
    expect(Number(d.docker(['exec', 'box', 'sh', '-c', 'cut -d" " -f7 /proc/$$/stat']).stdout.trim())).toBe(0);
    // The init reports its child's end as the exec's exit code.
    process.kill(pid, 'SIGKILL');
    const done = await until(async () => {
      const r = await d.api<{ Running: boolean; ExitCode: number }>('GET', `/exec/${created.body.Id}/json`);
      return r.body.Running ? undefined : r.body;
    });
    expect(done.ExitCode).toBe(137);
  });

  it('runs in the container: its PID namespace, hostname, working dir, env and cgroup', () => {
    const id = d.docker(['inspect', '-f', '{{.Id}}', 'box']).stdout.trim();
    const r = d.docker(['exec', 'box', 'sh', '-c', 'hostname; pwd; echo $A; ps -o pid,comm | grep -c sleep; cat /proc/1/cmdline | tr "\\0" " "']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${id.slice(0, 12)}\n/tmp\n1\n1\nsleep 300 `);
    // The exec'd shell prints its host-visible PID file: it must be in the container's cgroup.
    const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
    const procs = v2 ? `/sys/fs/cgroup/${d.cgroupParent}/${id}/cgroup.procs` : `/sys/fs/cgroup/pids/${d.cgroupParent}/${id}/cgroup.procs`;
    const inner = d.docker(['exec', 'box', 'cat', '/proc/self/cgroup']).stdout;
    expect(inner).toMatch(v2 ? /^0::\/$/m : /pids:\/$/m);
    const before = readFileSync(procs, 'utf8').trim().split('\n').length;
    const child = spawn(DOCKER, ['exec', 'box', 'sleep', '2'], { env: { ...process.env, DOCKER_HOST: d.host } });
    return new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        const during = readFileSync(procs, 'utf8').trim().split('\n').length;
        child.on('exit', () => (during === before + 1 ? resolve() : reject(new Error(`${during} processes in the cgroup, expected ${before + 1}`))));
      }, 1200);
    });
  });

  it('applies -u, -w and -e, and passes stdin with -i', () => {
    expect(d.docker(['exec', '-u', 'berthuser', '-w', '/', '-e', 'A=2', 'box', 'sh', '-c', 'id -u; pwd; echo $A']).stdout).toBe('1000\n/\n2\n');
    expect(d.docker(['exec', '-i', 'box', 'wc', '-c'], { input: 'twelve bytes' }).stdout.trim()).toBe('12');
  });

  it("keeps Docker's default capabilities, all the daemon's with --privileged, none for a non-root user", () => {
    const caps = (args: string[]): Record<string, string> =>
      Object.fromEntries([...d.docker(['exec', ...args, 'box', 'cat', '/proc/self/status']).stdout.matchAll(/^(Cap\w+):\s+([0-9a-f]+)$/gm)].map((m) => [m[1], m[2]]));
    // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
    const defaults = '00000000a80425fb';
    expect(caps([])).toEqual({ CapInh: '0'.repeat(16), CapPrm: defaults, CapEff: defaults, CapBnd: defaults, CapAmb: '0'.repeat(16) });
    // Spares narrow their bounding set before the exec comes; a privileged exec needs a fresh init.
    const own = /^CapPrm:\s+([0-9a-f]+)$/m.exec(readFileSync(`/proc/${d.proc.pid}/status`, 'utf8'))?.[1];
    expect(caps(['--privileged'])).toMatchObject({ CapPrm: own, CapEff: own, CapBnd: own });
    expect(caps(['-u', '1000'])).toMatchObject({ CapPrm: '0'.repeat(16), CapEff: '0'.repeat(16), CapBnd: defaults });
  });

  it('passes exit codes, and 126/127 with Docker message when the command cannot run', () => {
    expect(d.docker(['exec', 'box', 'sh', '-c', 'exit 9']).status).toBe(9);
    const missing = d.docker(['exec', 'box', 'nosuchcmd']);
    expect(missing.status).toBe(127);
    expect(missing.stdout + missing.stderr).toContain('exec: "nosuchcmd": executable file not found in $PATH');
    expect(d.docker(['exec', 'box', '/etc/passwd']).status).toBe(126);
  });

  it('runs detached execs and lists exec IDs in inspect', () => {
    expect(d.docker(['exec', '-d', 'box', 'sh', '-c', 'echo detached > /tmp/marker']).status).toBe(0);
    let out = '';
    for (let i = 0; i < 20 && out !== 'detached\n'; i++) out = d.docker(['exec', 'box', 'cat', '/tmp/marker']).stdout;
    expect(out).toBe('detached\n');
    expect(d.docker(['inspect', '-f', '{{len .ExecIDs}}', 'box']).stdout.trim()).not.toBe('0');
  });

  // Runs a docker command under `script`, which gives it a terminal of the given size, and types
  // only once the shell waits at its prompt: text sent earlier met the line editor while it was
  // setting up and went astray under load. Busybox's line editor also asks the terminal where the
  // cursor is (ESC [6n) and drops what is typed before the answer, so the test answers first.
  const inTerminal = (cmd: string, input: string): Promise<{ out: string; status: number | null }> => {
    const child = spawn('script', ['-qec', `stty rows 33 cols 77; ${DOCKER} ${cmd}`, '/dev/null'], { env: { ...process.env, DOCKER_HOST: d.host } });
    let out = '';
    let typed = false;
    let settle: NodeJS.Timeout | undefined;
    const type = (): void => {
      typed = true;
      child.stdin.write(input);
    };
    const step = (): void => {
      if (out.endsWith('\x1b[6n')) {
        child.stdin.write('\x1b[1;1R');
        // The editor redraws its prompt on the answer; if it stays quiet, it has gone on without one.
        settle = setTimeout(type, 1000);
      } else if (out.replaceAll('\x1b[J', '').endsWith('# ')) type();
    };
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      clearTimeout(settle);
      // Output comes in pieces: act once it pauses.
      if (!typed) settle = setTimeout(step, 200);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    return new Promise((resolve) => {
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ out: out.replace(/\r/g, ''), status });
      });
    });
  };

  it('gives run -it a terminal of the client size from the container devpts', async () => {
    const r = await inTerminal(`run -it --rm ${IMG} sh`, 'tty; stty size; echo $TERM\nexit 5\n');
    expect(r.out).toContain('/dev/pts/0\n33 77\nxterm\n');
    expect(r.status).toBe(5);
  });

  it('gives exec -it a terminal, and detach keys leave a container running', async () => {
    const r = await inTerminal('exec -it box sh', 'stty size; tty\nexit 4\n');
    expect(r.out).toMatch(/33 77\n\/dev\/pts\/\d+\n/);
    expect(r.status).toBe(4);
    expect(d.docker(['run', '-dit', '--name', 'shell', IMG, 'sh']).status).toBe(0);
    // The keys go once the client has its terminal in raw mode; before, the line discipline would eat them.
    const child = spawn('script', ['-qec', `stty rows 33 cols 77; ${DOCKER} attach shell`, '/dev/null'], { env: { ...process.env, DOCKER_HOST: d.host } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    setTimeout(() => child.stdin.write('echo attached\n'), 1000);
    setTimeout(() => child.stdin.write('\x10\x11'), 2000);
    return new Promise<void>((resolve, reject) => {
      child.on('exit', () => {
        try {
          expect(out).toContain('attached');
          expect(out).toContain('read escape sequence');
          expect(d.docker(['inspect', '-f', '{{.State.Running}}', 'shell']).stdout.trim()).toBe('true');
          d.docker(['rm', '-f', 'shell']);
          resolve();
        } catch (e) {
          reject(e);
        }
      });
    });
  });

  it('refuses exec into a stopped or missing container', async () => {
    d.docker(['create', '--name', 'idle', IMG, 'true']);
    const stopped = d.docker(['exec', 'idle', 'true']);
    expect(stopped.status).not.toBe(0);
    expect(stopped.stderr).toMatch(/is not running/);
    const created = await d.api<{ message: string }>('POST', '/containers/idle/exec', { Cmd: ['true'] });
    expect(created.status).toBe(409);
    expect(created.body.message).toMatch(/^Container [0-9a-f]{64} is not running$/);
    const missing = await d.api<{ message: string }>('POST', '/containers/nosuch/exec', { Cmd: ['true'] });
    expect(missing.status).toBe(404);
    const noCmd = await d.api<{ message: string }>('POST', '/containers/box/exec', { Cmd: [] });
    expect(noCmd.status).toBe(400);
    d.docker(['rm', 'idle']);
  });
});
