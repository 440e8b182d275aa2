// The spawn pipeline (docs/architecture.md): a container's init starts as PID 1 of a new PID
// namespace yet stays the daemon's own child, so exit codes arrive through the ordinary `exit`
// event; an exec's init is the daemon's child too and exits with its command's code.
import { ChildProcess, spawn } from 'child_process';
import { closeSync, openSync, write as writeFs } from 'fs';
import { constants as osConstants } from 'os';
import { join } from 'path';
import { Writable, type Duplex, type Readable } from 'stream';
import { ReadStream } from 'tty';
import * as libc from '../../native/libc';
import type { InitMessage, InitSpec } from './init-spec';

// init.ts with all it loads in one file (scripts/bundle-init.mjs): it starts on every container start and exec.
const INIT_PATH = join(__dirname, 'init.bundle.js');
/**
 * A young generation big enough for an init's whole life: V8's default filled up halfway through
 * an exec and scavenged (2-3 ms here) just before the command started.
 */
const INIT_HEAP = '--min-semi-space-size=16';

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
 * A container's init, not yet given its spec, as PID 1 of a new PID namespace: unshare only moves
 * this thread's future children, so it is one synchronous stretch that ends back in the daemon's
 * namespace. Its stdio are pipes whatever the container wants (the init puts the container's
 * /dev/null or terminal over those it does not use), so that it can start before the request
 * (spare-pool.ts); a spare compiles its code while it waits (`eager`, --no-lazy).
 */
export function spawnContainerInit(eager: boolean): ChildProcess {
  ownPidNs ??= openSync('/proc/self/ns/pid', 'r');
  libc.unshare(libc.CLONE_NEWPID);
  try {
    return spawn(process.execPath, [INIT_HEAP, ...(eager ? ['--no-lazy'] : []), INIT_PATH], { stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'], env: {} });
  } finally {
    libc.setns(ownPidNs, libc.CLONE_NEWPID);
  }
}

/**
 * An exec init, not yet given its spec: stdio are pipes whatever the exec wants, since it starts
 * before the request (spare-pool.ts). It stays in the daemon's PID namespace and puts its child
 * into the container's. With `bounding`, it keeps only those capabilities in its bounding set
 * from the start, so its exec may keep those or fewer. Its code is compiled eagerly (--no-lazy)
 * for the same reason: while it waits, not once the exec has come (2 ms here).
 */
export function spawnExecInit(bounding?: number[]): ChildProcess {
  const args = [INIT_HEAP, '--no-lazy', INIT_PATH, ...(bounding ? [bounding.join(',')] : [])];
  return spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'], env: {} });
}

/**
 * Gives `init` (from spawnContainerInit or spawnExecInit) its spec and resolves once the command
 * runs: a container's as the init itself after execve, an exec's as the init's child.
 */
export function startInit(init: ChildProcess, spec: InitSpec): Promise<Spawned> {
  // The process reads the pipe only when attached without a terminal; else nobody writes to it.
  const reads = spec.stdin && !spec.process.tty;
  if (!reads) init.stdin?.destroy();
  return handOver(init, spec, reads ? init.stdin : null);
}

/** Writes the spec to the init and follows its messages until the user's command runs. */
async function handOver(child: ChildProcess, spec: InitSpec, stdin: Writable | null): Promise<Spawned> {
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
  let failure: { message: string; exitCode: number } | null = null;
  let onPid: (pid: number) => void = () => undefined;
  let onExit: (code: number) => void = () => undefined;
  const started = new Promise<number>((resolve) => (onPid = resolve));
  const exitCode = new Promise<number>((resolve) => (onExit = resolve));
  const ended = readMessages(child.stdio[4] as Duplex, (msg) => {
    if ('console' in msg) consoleFd = libc.pidfdGetfd(child.pid as number, msg.console);
    else if ('failure' in msg) failure = msg.failure;
    else if ('pid' in msg) onPid(msg.pid);
    else onExit(msg.exit);
  });
  // A container's command runs once its init has exec'd, closing the pipe; an exec's once its PID comes.
  const pid = await Promise.race([started, ended.then(() => child.pid), spawnError]);
  if (failure !== null) {
    if (consoleFd !== null) closeSync(consoleFd);
    await closed;
    const { message, exitCode: code } = failure;
    throw new StartFailure(message, code);
  }
  if (pid === undefined) throw new StartFailure('container init did not start', 1);
  // An exec's init reports its command's exit and stops holding the output pipes, so the exec ends
  // without waiting for the init's own exit (5 ms here); an init that dies first reports its own.
  const reported = (output: Promise<unknown>): Promise<number> => Promise.race([closed, Promise.all([exitCode, output]).then(([code]) => code)]);
  if (consoleFd === null) {
    const stdout = child.stdout as Readable;
    const stderr = child.stderr as Readable;
    return { child, pid, stdin, stdout, stderr, console: null, exited: reported(Promise.all([ends(stdout), ends(stderr)])) };
  }
  const term = new ReadStream(consoleFd);
  // Once every process holding the terminal is gone, reading its master fails with EIO: that is its end.
  const drained = ends(term);
  return {
    child,
    pid,
    stdin: terminalWriter(consoleFd, term),
    stdout: term,
    stderr: null,
    console: consoleFd,
    exited: Promise.all([reported(drained), drained]).then(([code]) => code),
  };
}

/** Settles once a stream has ended, failed or closed. */
function ends(stream: Readable): Promise<void> {
  return new Promise((resolve) => {
    stream.on('end', resolve);
    stream.on('error', () => resolve());
    stream.on('close', () => resolve());
  });
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

/** Passes on the init's status messages until end-of-file; answers a console hand-over at once. */
function readMessages(stream: Duplex, onMessage: (msg: InitMessage) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    stream.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as InitMessage;
        buf = buf.slice(nl + 1);
        try {
          onMessage(msg);
        } finally {
          if ('console' in msg) stream.write('k');
        }
      }
    });
    stream.on('end', resolve);
    stream.on('error', reject);
  });
}
