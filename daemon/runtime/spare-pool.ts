// Spare inits, started before the request. Most of an exec's or a start's latency was Node
// starting the init and loading its FFI (docs/architecture.md); a spare has done both and waits
// blocked on its spec pipe, so the request pays only for what depends on it. Each costs about
// 12 MB (proportional set); all are dropped after a quiet spell, and die with the daemon.
import type { ChildProcess } from 'child_process';
import { readdirSync } from 'fs';
import { getPriority, setPriority } from 'os';
import type { Logger } from 'pino';

const IDLE_MS = 5 * 60_000;
/**
 * Spares boot at this nice value, so that their start-up does not take the CPU from the request
 * being served; the taken one gets the daemon's own back on every thread (a thread's nice value
 * is its own; set at spawn, it reaches the threads the init makes later).
 */
const BOOT_NICE = 10;

export class SparePool {
  private spares: ChildProcess[] = [];
  private idle: NodeJS.Timeout | null = null;
  private closed = false;

  /** `kind` names the spares in logs; `spawnSpare` starts one. */
  constructor(
    private readonly log: Logger,
    private readonly kind: 'exec' | 'container',
    private readonly spawnSpare: () => ChildProcess,
  ) {}

  /** The oldest spare, at the daemon's priority; undefined when none waits (the caller starts one). */
  take(): ChildProcess | undefined {
    const spare = this.spares.shift();
    if (spare?.pid !== undefined) renice(spare.pid, getPriority(), true);
    return spare;
  }

  /** Tops the spares up to `count`, and restarts the idle clock. */
  refill(count: number): void {
    if (this.closed) return;
    while (this.spares.length < count) {
      const init = this.spawnSpare();
      if (init.pid !== undefined) renice(init.pid, BOOT_NICE, false);
      init.once('exit', (code, signal) => {
        // A taken or dropped spare is no longer ours to watch.
        if (!this.spares.includes(init)) return;
        this.spares = this.spares.filter((s) => s !== init);
        this.log.warn({ code, signal }, `spare ${this.kind} init exited`);
      });
      init.once('error', (err) => this.log.warn({ err }, `spare ${this.kind} init failed to start`));
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
