// Spare exec inits, started before the request. Most of an exec's latency was Node starting the
// init and loading its FFI (about 55 ms here, see docs/architecture.md); a spare has done both
// and waits blocked on its spec pipe, so an exec pays only for joining the container and
// posix_spawn. One spare waits once a container runs; after an exec, three, so that execs in a
// row (scripts, health probes) find one ready while the next boots. Each costs about 12 MB
// (proportional set); all are dropped after a quiet spell.
import type { ChildProcess } from 'child_process';
import { readdirSync } from 'fs';
import { getPriority, setPriority } from 'os';
import type { Logger } from 'pino';
import { DEFAULT_CAPABILITIES } from './defaults';
import { spawnExecInit } from './spawn';

/** Spares kept after an exec. */
const AFTER_EXEC = 3;
const IDLE_MS = 5 * 60_000;
/**
 * Spares boot at this nice value, so that their start-up does not take the CPU from the exec
 * being served; the taken one gets the daemon's own back on every thread (a thread's nice value
 * is its own; set at spawn, it reaches the threads the init makes later).
 */
const BOOT_NICE = 10;

export class ExecPool {
  private spares: ChildProcess[] = [];
  private idle: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly log: Logger) {}

  /**
   * An init for one exec keeping `capabilities`: the oldest spare when one waits and the exec
   * keeps Docker's default set (the spares' bounding set), else a fresh one (the slow, first exec,
   * or a privileged one).
   */
  take(capabilities: number[]): ChildProcess {
    if (!sameSet(capabilities, DEFAULT_CAPABILITIES)) return spawnExecInit();
    const spare = this.spares.shift();
    if (!spare) return spawnExecInit(DEFAULT_CAPABILITIES);
    if (spare.pid !== undefined) renice(spare.pid, getPriority(), true);
    return spare;
  }

  /** Tops the spares up to `count` (AFTER_EXEC by default), and restarts the idle clock. */
  refill(count = AFTER_EXEC): void {
    if (this.closed) return;
    while (this.spares.length < count) {
      const init = spawnExecInit(DEFAULT_CAPABILITIES);
      if (init.pid !== undefined) renice(init.pid, BOOT_NICE, false);
      init.once('exit', (code, signal) => {
        // A taken or dropped spare is no longer ours to watch.
        if (!this.spares.includes(init)) return;
        this.spares = this.spares.filter((s) => s !== init);
        this.log.warn({ code, signal }, 'spare exec init exited');
      });
      init.once('error', (err) => this.log.warn({ err }, 'spare exec init failed to start'));
      this.spares.push(init);
    }
    if (this.idle) clearTimeout(this.idle);
    this.idle = setTimeout(() => this.drop(), IDLE_MS);
    this.idle.unref();
  }

  /** Stops the spares for good (daemon shutdown). */
  close(): void {
    this.closed = true;
    this.drop();
  }

  private drop(): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    const spares = this.spares;
    this.spares = [];
    for (const s of spares) s.kill('SIGKILL');
  }
}

function sameSet(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** Sets the nice value of a process's main thread, or of all its threads. */
function renice(pid: number, nice: number, allThreads: boolean): void {
  let threads = [String(pid)];
  if (allThreads) {
    try {
      threads = readdirSync(`/proc/${pid}/task`);
    } catch {
      // Gone already: its exit is reported where it is watched.
    }
  }
  for (const tid of threads) {
    try {
      setPriority(Number(tid), nice);
    } catch {
      // As above.
    }
  }
}
