// The spawn pipeline (docs/architecture.md): the init starts as PID 1 of a new PID namespace
// yet stays the daemon's own child, so exit codes arrive through the ordinary `exit` event.
import { ChildProcess, spawn } from 'child_process';
import { closeSync, openSync, write as writeFs } from 'fs';
import { constants as osConstants } from 'os';
import { join } from 'path';
import { Writable, type Duplex, type Readable } from 'stream';
import { ReadStream } from 'tty';
import * as libc from '../../native/libc';
import type { InitMessage, InitSpec } from './init-spec';

const INIT_PATH = join(__dirname, 'init.js');

/** Opened once: the daemon returns to its own PID namespace after every spawn. */
let ownPidNs: number | undefined;

export class StartFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** Input: the stdin pipe, or the terminal. Null when stdin is closed. */
  stdin: Writable | null;
  stdout: Readable;
  /** Null with a terminal: both streams arrive on it as one. */
  stderr: Readable | null;
  /** The terminal's master fd, for window sizes; null without a terminal. */
  console: number | null;
  /** Resolves with Docker's exit code (128+signal for a signal death) once all output is read. */
  exited: Promise<number>;
}

/**
 * Spawns the init in the right PID namespace: a new one for a container (unshare only moves this
 * thread's future children), the container's own for exec. Each is one synchronous stretch that
 * ends back in the daemon's namespace.
 */
function spawnInit(spec: InitSpec, stdin: boolean): ChildProcess {
  ownPidNs ??= openSync('/proc/self/ns/pid', 'r');
  let target: number | undefined;
  if (spec.kind === 'container') libc.unshare(libc.CLONE_NEWPID);
  else {
    target = openSync(`/proc/${spec.pid}/ns/pid`, 'r');
    libc.setns(target, libc.CLONE_NEWPID);
  }
  try {
    return spawn(process.execPath, [INIT_PATH], {
      // With a terminal the process's stdio is the terminal; the pipes would only carry init errors.
      stdio: spec.process.tty ? ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] : [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      env: {},
    });
  } finally {
    libc.setns(ownPidNs, libc.CLONE_NEWPID);
    if (target !== undefined) closeSync(target);
  }
}

/** Starts a container or exec process and resolves once it has exec'd the user's command. */
export async function spawnProcess(spec: InitSpec, opts: { stdin: boolean }): Promise<Spawned> {
  const child = spawnInit(spec, opts.stdin);
  const closed = new Promise<number>((resolve) => {
    child.on('close', (code, signal) => {
      resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
    });
  });
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  const specPipe = child.stdio[3] as Writable;
  // An init killed before it read its spec (its container died meanwhile) resets this socket; the exit reports it.
  specPipe.on('error', () => undefined);
  specPipe.end(JSON.stringify(spec));
  let consoleFd: number | null = null;
  const messages = await Promise.race([
    readMessages(child.stdio[4] as Duplex, (fd) => {
      consoleFd = libc.pidfdGetfd(child.pid as number, fd);
    }),
    spawnError,
  ]);
  const failure = messages.find((m): m is Extract<InitMessage, { failure: unknown }> => 'failure' in m);
  if (failure) {
    if (consoleFd !== null) closeSync(consoleFd);
    await closed;
    throw new StartFailure(failure.failure.message, failure.failure.exitCode);
  }
  if (child.pid === undefined) throw new StartFailure('container init did not start', 1);
  if (consoleFd === null) {
    return { child, pid: child.pid, stdin: child.stdin, stdout: child.stdout as Readable, stderr: child.stderr as Readable, console: null, exited: closed };
  }
  const term = new ReadStream(consoleFd);
  // Once every process holding the terminal is gone, reading its master fails with EIO: that is its end.
  const drained = new Promise<void>((resolve) => {
    term.on('end', resolve);
    term.on('error', () => resolve());
    term.on('close', () => resolve());
  });
  return {
    child,
    pid: child.pid,
    stdin: terminalWriter(consoleFd, term),
    stdout: term,
    stderr: null,
    console: consoleFd,
    exited: Promise.all([closed, drained]).then(([code]) => code),
  };
}

/** Writes to the terminal master; the read stream owns (and closes) the fd. */
function terminalWriter(fd: number, owner: ReadStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (owner.destroyed) return cb();
      let off = 0;
      const step = (): void => {
        writeFs(fd, chunk, off, chunk.length - off, null, (err, n) => {
          if (err && err.code === 'EAGAIN') return void setTimeout(step, 5);
          if (err) return cb();
          off += n;
          if (off < chunk.length) step();
          else cb();
        });
      };
      step();
    },
  });
}

/** Reads the init's status messages until end-of-file; answers a console hand-over at once. */
function readMessages(stream: Duplex, onConsole: (fd: number) => void): Promise<InitMessage[]> {
  return new Promise((resolve, reject) => {
    const out: InitMessage[] = [];
    let buf = '';
    stream.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as InitMessage;
        buf = buf.slice(nl + 1);
        out.push(msg);
        if ('console' in msg) {
          try {
            onConsole(msg.console);
          } finally {
            stream.write('k');
          }
        }
      }
    });
    stream.on('end', () => resolve(out));
    stream.on('error', reject);
  });
}
