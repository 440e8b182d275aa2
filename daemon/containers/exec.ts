// Exec instances: a process started in a running container's namespaces and cgroup.
import { randomBytes } from 'crypto';
import type { Logger } from 'pino';
import type { CgroupDriver } from '../cgroups/driver';
import type { EventBus } from '../events/bus';
import { containerEvent } from '../events/container';
import { DEFAULT_CAPABILITIES, privilegedCapabilities } from '../runtime/defaults';
import { SparePool } from '../runtime/spare-pool';
import { spawnExecInit, startInit, StartFailure, type Spawned } from '../runtime/spawn';
import { processSecurity } from '../security/container-seccomp';
import { containerCapabilities } from './capabilities';
import { conflict, notFound } from '../server/errors';
import { setWindowSize } from '../../native/libc';
import type { StreamName } from './logs';
import { replaceOrAppendEnv } from './process-env';
import type { ContainerRecord } from './record';
import type { Rlimit } from './ulimits';

export interface ExecConfig {
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  Env: string[];
  Cmd: string[];
  Privileged: boolean;
  User: string;
  WorkingDir: string;
  DetachKeys: string;
  ConsoleSize?: [number, number];
}

export interface ExecInstance {
  ID: string;
  ContainerID: string;
  config: ExecConfig;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  started: boolean;
  /** The process's env, fixed at create as dockerd does (link variables as they were then). */
  env: string[];
  spawned?: Spawned;
  /** The last size asked for; a resize may arrive before the process exists. */
  size?: [number, number];
}

export interface ExecIO {
  data(stream: StreamName, chunk: Buffer): void;
  end(): void;
}

/** Spares kept after an exec: execs in a row (scripts, health probes) find one ready while the next boots. */
const SPARES_AFTER_EXEC = 3;

/** How long after an exec ends its spare is replaced: past the client's inspect of the exit code. */
const REFILL_AFTER_EXIT_MS = 15;

/** The env a process in the container starts from (ContainerManager.processEnv). */
export type BaseEnv = (c: ContainerRecord, tty: boolean) => string[];

/** The container's rlimits (ContainerManager.rlimits): moby's execs copy the container's process spec, rlimits included. */
export type ContainerRlimits = (c: ContainerRecord) => Rlimit[];

export class ExecManager {
  private readonly execs = new Map<string, ExecInstance>();
  private readonly pool: SparePool;

  constructor(
    private readonly cgroups: CgroupDriver,
    private readonly log: Logger,
    private readonly bus: EventBus,
    private readonly baseEnv: BaseEnv,
    private readonly rlimits: ContainerRlimits,
  ) {
    this.pool = new SparePool(log, 'exec', () => spawnExecInit(DEFAULT_CAPABILITIES));
    // A running container is what execs need: have an init ready before the first one.
    bus.subscribe((msg) => {
      if (msg.Type === 'container' && msg.Action === 'start') this.pool.refill(1);
    });
  }

  /** Stops the spare init (daemon shutdown). */
  close(): void {
    this.pool.close();
  }

  create(c: ContainerRecord, config: ExecConfig): ExecInstance {
    if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
    if (c.State.Paused) throw conflict(`Container ${c.Id} is paused, unpause the container before exec`);
    if (c.State.Restarting) throw conflict(`Container ${c.Id} is restarting, wait until the container is running`);
    const env = replaceOrAppendEnv(this.baseEnv(c, config.Tty), config.Env);
    const inst: ExecInstance = { ID: randomBytes(32).toString('hex'), ContainerID: c.Id, config, Running: false, ExitCode: null, Pid: 0, started: false, env, size: config.ConsoleSize };
    this.execs.set(inst.ID, inst);
    containerEvent(this.bus, c, `exec_create: ${config.Cmd.join(' ')}`, { execID: inst.ID });
    return inst;
  }

  get(id: string): ExecInstance {
    const inst = this.execs.get(id);
    if (!inst) throw notFound(`No such exec instance: ${id}`);
    return inst;
  }

  /** Execs of a container, for its inspect output. */
  idsOf(containerId: string): string[] {
    return [...this.execs.values()].filter((e) => e.ContainerID === containerId).map((e) => e.ID);
  }

  /** Forgets a removed container's execs. */
  forget(containerId: string): void {
    for (const [id, e] of this.execs) if (e.ContainerID === containerId) this.execs.delete(id);
  }

  /** Forgets one finished exec (a health probe, which nobody inspects afterwards). */
  discard(id: string): void {
    this.execs.delete(id);
  }

  /**
   * Starts the process; output goes to `io` until it exits. A process that cannot start reports
   * Docker's message on stdout and gets exit code 126 or 127, as Docker's exec does.
   */
  async start(c: ContainerRecord, inst: ExecInstance, io: ExecIO, stdin: NodeJS.ReadableStream | null): Promise<void> {
    if (inst.started) throw conflict(`Error: Exec command ${inst.ID} has already run`);
    if (!c.State.Running) throw conflict(`Container ${c.Id} is not running`);
    if (c.State.Paused) throw conflict(`Container ${c.Id} is paused, unpause the container before exec`);
    if (c.State.Restarting) throw conflict(`Container ${c.Id} is restarting, wait until the container is running`);
    inst.started = true;
    const cfg = inst.config;
    containerEvent(this.bus, c, `exec_start: ${cfg.Cmd.join(' ')}`, { execID: inst.ID });
    // Docker's execs get the container's capabilities (its --cap-add and --cap-drop; all for a privileged container), all with exec --privileged.
    const own = containerCapabilities(c.HostConfig);
    const capabilities = cfg.Privileged ? privilegedCapabilities() : own;
    // The container's filter and no-new-privileges, whatever the exec's own privileges (as runc exec).
    const security = processSecurity(c.HostConfig, own);
    // Spares keep Docker's default set in their bounding set: a set within it (--cap-drop) can use
    // one, a wider one needs a fresh init.
    const init = capabilities.every((cap) => DEFAULT_CAPABILITIES.includes(cap)) ? (this.pool.take() ?? spawnExecInit(DEFAULT_CAPABILITIES)) : spawnExecInit();
    try {
      inst.spawned = await startInit(init, {
        kind: 'exec',
        pid: c.State.Pid,
        stdin: cfg.AttachStdin,
        process: {
          args: cfg.Cmd,
          env: inst.env,
          cwd: cfg.WorkingDir || c.Config.WorkingDir || '/',
          user: cfg.User || c.Config.User,
          capabilities,
          rlimits: this.rlimits(c),
          cgroupJoin: this.cgroups.joinFiles(c.Id),
          tty: cfg.Tty,
          ...security,
        },
      });
    } catch (e) {
      this.pool.refill(SPARES_AFTER_EXEC);
      if (!(e instanceof StartFailure)) throw e;
      inst.ExitCode = e.exitCode;
      this.log.warn({ container: c.Id, exec: inst.ID, err: e.message }, 'exec failed to start');
      io.data('stdout', Buffer.from(`OCI runtime exec failed: exec failed: unable to start container process: ${e.message}: unknown\r\n`));
      containerEvent(this.bus, c, 'exec_die', { execID: inst.ID, exitCode: String(e.exitCode) });
      io.end();
      return;
    }
    // Spares are topped up once the exec has ended, or after a second of a long one: forking one
    // stalls the daemon for some milliseconds (4 here), which should not fall on the exec's own path.
    const refill = setTimeout(() => this.pool.refill(SPARES_AFTER_EXEC), 1000);
    const s = inst.spawned;
    // The init waits for its child outside the container's cgroup, so it is neither charged nor listed there.
    if (init.pid !== undefined) this.cgroups.reclaim(init.pid).catch((err: unknown) => this.log.warn({ container: c.Id, exec: inst.ID, err }, 'exec init stays in the container cgroup'));
    if (inst.size) this.resize(inst, ...inst.size);
    inst.Running = true;
    inst.Pid = s.pid;
    this.log.info({ container: c.Id, exec: inst.ID, pid: s.pid }, 'exec started');
    s.stdout.on('data', (d: Buffer) => io.data('stdout', d));
    s.stderr?.on('data', (d: Buffer) => io.data('stderr', d));
    if (s.stdin && stdin) {
      s.stdin.on('error', () => undefined);
      stdin.on('data', (d: Buffer) => s.stdin?.write(d));
      stdin.on('end', () => s.stdin?.end());
    }
    const code = await s.exited;
    clearTimeout(refill);
    inst.Running = false;
    inst.ExitCode = code;
    inst.spawned = undefined;
    this.log.info({ container: c.Id, exec: inst.ID, exitCode: code }, 'exec exited');
    containerEvent(this.bus, c, 'exec_die', { execID: inst.ID, exitCode: String(code) });
    io.end();
    // After the client has its end of stream and, usually, the exit code it asks for next.
    setTimeout(() => this.pool.refill(SPARES_AFTER_EXEC), REFILL_AFTER_EXIT_MS);
  }

  resize(inst: ExecInstance, rows: number, cols: number): void {
    if (rows <= 0 || cols <= 0) return;
    inst.size = [rows, cols];
    const fd = inst.spawned?.console;
    if (fd !== undefined && fd !== null) setWindowSize(fd, rows, cols);
  }

  inspect(inst: ExecInstance): Record<string, unknown> {
    const cfg = inst.config;
    return {
      ID: inst.ID,
      Running: inst.Running,
      ExitCode: inst.ExitCode,
      ProcessConfig: { tty: cfg.Tty, entrypoint: cfg.Cmd[0], arguments: cfg.Cmd.slice(1), privileged: cfg.Privileged, ...(cfg.User ? { user: cfg.User } : {}) },
      OpenStdin: cfg.AttachStdin,
      OpenStderr: cfg.AttachStderr,
      OpenStdout: cfg.AttachStdout,
      CanRemove: false,
      ContainerID: inst.ContainerID,
      DetachKeys: cfg.DetachKeys,
      Pid: inst.Pid,
    };
  }
}
