// The spawn pipeline (docs/architecture.md): the init starts as PID 1 of a new PID namespace
// yet stays the daemon's own child, so exit codes arrive through the ordinary `exit` event.
import { ChildProcess, spawn } from 'child_process';
import { openSync } from 'fs';
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

export function spawnInit(args: string[], stdio: { stdin: boolean }, newPidNs: boolean): ChildProcess {
  ownPidNs ??= openSync('/proc/self/ns/pid', 'r');
  // unshare(CLONE_NEWPID) only moves this thread's future children; all three steps are one synchronous stretch.
  if (newPidNs) libc.unshare(libc.CLONE_NEWPID);
  try {
    return spawn(process.execPath, [INIT_PATH, ...args], {
      stdio: [stdio.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      env: {},
    });
  } finally {
    if (newPidNs) libc.setns(ownPidNs, libc.CLONE_NEWPID);
  }
}

/** Starts a container process and resolves once it has exec'd the user's command. */
export async function spawnContainer(spec: InitSpec, opts: { stdin: boolean }): Promise<Spawned> {
  const child = spawnInit([], opts, true);
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
