// The spawn pipeline (docs/architecture.md): the init starts as PID 1 of a new PID namespace
// yet stays the daemon's own child, so exit codes arrive through the ordinary `exit` event.
import { ChildProcess, spawn } from 'child_process';
import { closeSync, openSync } from 'fs';
import { constants as osConstants } from 'os';
import { join } from 'path';
import type { Readable, Writable } from 'stream';
import * as libc from '../../native/libc';
import type { InitFailure, InitSpec } from './init-spec';

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
  stdin: Writable | null;
  stdout: Readable;
  stderr: Readable;
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
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
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
  const exited = new Promise<number>((resolve) => {
    child.on('close', (code, signal) => {
      resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0));
    });
  });
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  const specPipe = child.stdio[3] as Writable;
  specPipe.end(JSON.stringify(spec));
  const status = await Promise.race([readAll(child.stdio[4] as Readable), spawnError]);
  if (status.length > 0) {
    const failure = JSON.parse(status) as InitFailure;
    await exited;
    throw new StartFailure(failure.message, failure.exitCode);
  }
  if (child.pid === undefined) throw new StartFailure('container init did not start', 1);
  return {
    child,
    pid: child.pid,
    stdin: child.stdin,
    stdout: child.stdout as Readable,
    stderr: child.stderr as Readable,
    exited,
  };
}

function readAll(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}
