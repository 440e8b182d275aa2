// Container lifecycle: create, start, stop, kill, wait, remove, and the output of running containers.
import { EventEmitter } from 'events';
import { mkdirSync, rmSync, writeFileSync } from 'fs';
import { constants as osConstants } from 'os';
import { relative } from 'path';
import type { Logger } from 'pino';
import type { CgroupDriver } from '../cgroups/driver';
import { CgroupApplyError, type CpusetInfo, type Limits } from '../cgroups/limits';
import type { CgroupStats } from '../cgroups/stats';
import type { EventBus } from '../events/bus';
import { containerEvent } from '../events/container';
import type { NetworkManager, Sandbox } from '../network/manager';
import type { InitMount } from '../runtime/init-spec';
import { SparePool } from '../runtime/spare-pool';
import { spawnContainerInit, startInit, StartFailure, type Spawned } from '../runtime/spawn';
import { MASKED_PATHS, READONLY_PATHS } from '../runtime/defaults';
import { processSecurity } from '../security/container-seccomp';
import { containerCapabilities } from './capabilities';
import { containerDevices } from './devices';
import { sysctlRefusal } from './sysctls';
import { etcFiles } from '../runtime/etc-files';
import { etcContext, joinedSandbox, linkedEnv, prepareNetworking } from './networking';
import { containerEnv } from './process-env';
import { badRequest, conflict, notFound, serverError, ApiError } from '../server/errors';
import { mountsUnder } from '../util/mounts';
import * as libc from '../../native/libc';
import { validName } from './names';
import { JsonLogWriter, logRotation, logsDisabled, type LogEntry, type StreamName } from './logs';
import { nowNano, ZERO_TIME, type ContainerRecord, type HostConfig } from './record';
import { mergeUpdate, type UpdateRequest } from './update';
import { policyWantsRestart, RestartBackoff } from './restart-policy';
import type { ContainerStore } from './store';
import { mergeUlimits, toRlimits, type Rlimit, type Ulimit } from './ulimits';

export interface ImageSource {
  layerDirs(imageId: string): string[];
}

/** The volumes side of a start and a removal (daemon/volumes/container-mounts.ts). */
export interface MountHooks {
  /** Host-side preparation before a start; the init's mounts for the container's volumes, binds and tmpfs. */
  prepare(c: ContainerRecord): InitMount[];
  /** The container stopped (or failed to start after prepare). */
  release(c: ContainerRecord): void;
  /** The container is gone; `removeVolumes` takes its anonymous volumes with it. */
  removed(c: ContainerRecord, removeVolumes: boolean): void;
}

export interface OutputListener {
  data(stream: StreamName, chunk: Buffer): void;
  end(): void;
}

interface Running {
  spawned: Spawned;
  logs: JsonLogWriter | null;
  /** Resolves when exit handling (state, teardown, auto-remove) is complete. */
  done: Promise<void>;
}

/** Docker omits Error for a normal exit; the CLI treats any Error as a failure (exit 125). */
export interface WaitResult {
  StatusCode: number;
  Error?: { Message: string };
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** A spare's replacement waits this long after the start that took it: forking one stalls the daemon some milliseconds. */
const REFILL_AFTER_START_MS = 15;

export class ContainerManager {
  private readonly running = new Map<string, Running>();
  private readonly listeners = new Map<string, Set<OutputListener>>();
  private readonly events = new EventEmitter();
  private readonly removing = new Set<string>();
  private readonly starting = new Map<string, Promise<void>>();
  /** The cleanup after a container's end (after its die event): starts and removals wait for it. */
  private readonly cleanups = new Map<string, Promise<void>>();
  /** docker cp on a stopped container, which mounts its overlay: starts and removals wait for it. */
  private readonly fsHolds = new Map<string, Promise<unknown>>();
  /** stdin that arrived before the process existed; null marks its end. */
  private readonly pendingStdin = new Map<string, Array<Buffer | null>>();
  private readonly removeHooks: Array<(id: string) => void> = [];
  /** The restart state of containers that ran since the daemon started (moby's restart manager). */
  private readonly backoffs = new Map<string, RestartBackoff>();
  /** Containers waiting out their backoff before their policy starts them again. */
  private readonly pendingRestarts = new Map<string, NodeJS.Timeout>();
  /** Container inits started before the request, each waiting in a PID namespace of its own. */
  private readonly spares: SparePool;
  private shuttingDown = false;

  constructor(
    private readonly store: ContainerStore,
    private readonly images: ImageSource,
    private readonly network: NetworkManager,
    private readonly cgroups: CgroupDriver,
    private readonly paths: { layersRoot: string; execRoot: string },
    private readonly log: Logger,
    private readonly bus: EventBus,
    private readonly mounts: MountHooks,
    private readonly defaults: { ulimits: Record<string, Ulimit> },
  ) {
    this.events.setMaxListeners(0);
    this.spares = new SparePool(log, 'container', () => spawnContainerInit(true));
  }

  /** Starts the spare container init, so that the first start finds one (daemon start). */
  prepareSpares(): void {
    this.spares.refill(1);
  }

  /** Stops the spare container init (daemon shutdown). */
  closeSpares(): void {
    this.spares.close();
  }

  /** After a daemon restart no container process survives: mark them exited and free what they held. */
  async reconcile(): Promise<void> {
    for (const c of this.store.all()) {
      if (c.State.Running || c.State.Status === 'removing') {
        c.State = { ...c.State, Status: 'exited', Running: false, Paused: false, Restarting: false, Pid: 0, ExitCode: c.State.ExitCode || 255, FinishedAt: nowNano() };
        c.Sandbox = null;
        this.store.save(c);
      }
      await this.cgroups.remove(c.Id).catch(() => undefined);
    }
    this.network.reconcile(new Set());
    for (const m of mountsUnder(`${this.paths.execRoot}/containers`)) libc.umount2(m, libc.MNT_DETACH);
  }

  /**
   * After reconcile, as dockerd's restore: starts what the policies want back (always; unless-stopped
   * unless the user stopped it; on-failure after a failure with retries left), each with a fresh count.
   */
  async startByPolicy(): Promise<void> {
    const due = this.store
      .all()
      .filter((c) => !c.State.Running && c.State.StartedAt !== ZERO_TIME && policyWantsRestart(c.HostConfig.RestartPolicy, c.State.ExitCode, c.HasBeenManuallyStopped === true, c.RestartCount));
    await Promise.all(
      due.map((c) =>
        this.start(c).catch((e: Error) => this.log.warn({ container: c.Id, err: e.message }, 'restart policy could not start container')),
      ),
    );
  }

  /** Called with the ID of every removed container (execs and other per-container state). */
  onRemove(fn: (id: string) => void): void {
    this.removeHooks.push(fn);
  }

  find(ref: string): ContainerRecord {
    const c = this.store.find(ref);
    if (c === 'ambiguous') throw badRequest(`multiple IDs found with provided prefix: ${ref}`);
    if (!c) throw notFound(`No such container: ${ref}`);
    return c;
  }

  list(): ContainerRecord[] {
    return this.store.all();
  }

  logPath(c: ContainerRecord): string {
    return `${this.store.dir(c.Id)}/${c.Id}-json.log`;
  }

  etcPath(c: ContainerRecord, name: 'hostname' | 'hosts' | 'resolv.conf'): string {
    return `${this.store.dir(c.Id)}/${name}`;
  }

  /** Stores a new container; returns Docker's warnings for it. */
  add(c: ContainerRecord): string[] {
    const warnings = prepareNetworking(this.network, c, (ref) => this.store.find(ref));
    const taken = this.store.byName(c.Name);
    if (taken) {
      throw conflict(
        `Conflict. The container name "${c.Name}" is already in use by container "${taken.Id}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    mkdirSync(`${this.store.dir(c.Id)}/rw/upper`, { recursive: true });
    mkdirSync(`${this.store.dir(c.Id)}/rw/work`, { recursive: true });
    this.store.save(c);
    this.log.info({ container: c.Id, name: c.Name }, 'container created');
    this.emitEvent(c, 'create');
    return warnings;
  }

  /** Writes a changed record (after network connect or disconnect). */
  save(c: ContainerRecord): void {
    this.store.save(c);
  }

  nameTaken(name: string): boolean {
    return !!this.store.byName(`/${name}`);
  }

  /**
   * After a running container joins or leaves a network: its resolv.conf follows the embedded DNS
   * it now has (a default-bridge container connected to a user network resolves that network's
   * names, as with dockerd). Written in place: the container's /etc/resolv.conf binds this inode.
   */
  refreshResolvConf(c: ContainerRecord): void {
    if (!c.State.Running || !c.Sandbox) return;
    const find = (ref: string) => this.store.find(ref);
    try {
      const files = etcFiles(c, c.Sandbox, etcContext(c, c.Sandbox, this.network, find, (x, name) => this.etcPath(x, name)));
      writeFileSync(this.etcPath(c, 'resolv.conf'), files['resolv.conf']);
    } catch (e) {
      this.log.warn({ container: c.Id, err: (e as Error).message }, 'resolv.conf not updated');
    }
  }

  /**
   * The env of a process in `c`, its own (on `sandbox`, at start) or an exec's (with `tty`), as
   * dockerd builds both: with the link variables of the linked containers as they are now.
   */
  processEnv(c: ContainerRecord, tty: boolean, sandbox: Sandbox | null = c.Sandbox): string[] {
    const linked = sandbox ? linkedEnv(c, sandbox, this.network.bridgeNetworkId, (ref) => this.store.find(ref)) : [];
    return containerEnv(c.Config, tty, linked);
  }

  /** The container's ulimits under the daemon's defaults, as moby merges them: what inspect shows (null for none). */
  ulimits(c: ContainerRecord): Ulimit[] | null {
    return mergeUlimits(c.HostConfig.Ulimits as Ulimit[] | null | undefined, this.defaults.ulimits);
  }

  /** The rlimits its processes start with (its own and every exec's, as moby copies the process spec); runc's refusal of an unknown name. */
  rlimits(c: ContainerRecord): Rlimit[] {
    try {
      return toRlimits(this.ulimits(c));
    } catch (e) {
      throw new StartError(`failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: ${(e as Error).message}: unknown`);
    }
  }

  /** One start at a time per container; remove and stop wait for a start in flight. */
  start(c: ContainerRecord): Promise<void> {
    if (c.State.Running || this.starting.has(c.Id)) return Promise.reject(new ApiError(304, ''));
    if (this.removing.has(c.Id)) return Promise.reject(conflict(`removal of container ${c.Id} is already in progress`));
    // A start by the user begins the policy afresh, as dockerd resets its restart manager.
    c.RestartCount = 0;
    c.HasBeenManuallyStopped = false;
    this.backoffs.delete(c.Id);
    return this.launch(c);
  }

  private launch(c: ContainerRecord): Promise<void> {
    // A start right after the die event must not race the cleanup of the run that ended.
    const waits = [this.fsHolds.get(c.Id), this.cleanups.get(c.Id)].filter((w) => w !== undefined);
    const p = (waits.length ? Promise.all(waits.map((w) => w.catch(() => undefined))).then(() => this.doStart(c)) : this.doStart(c))
      .finally(() => this.starting.delete(c.Id))
      .catch(async (e: unknown) => {
        // As dockerd: a container that cannot start, for whatever reason, is removed when it was meant to be (--rm).
        if (c.HostConfig.AutoRemove) await this.remove(c, { force: true, volumes: true }).catch(() => undefined);
        throw e;
      });
    this.starting.set(c.Id, p);
    return p;
  }

  private async doStart(c: ContainerRecord): Promise<void> {
    const dir = this.store.dir(c.Id);
    const find = (ref: string) => this.store.find(ref);
    const joined = joinedSandbox(c, find);
    const hc = c.HostConfig;
    const sysctls = (hc.Sysctls as Record<string, string> | null | undefined) ?? {};
    for (const key of Object.keys(sysctls)) {
      const refused = sysctlRefusal(key, { hostNetwork: hc.NetworkMode === 'host', hostIpc: hc.IpcMode === 'host' });
      if (refused) throw new StartError(`failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: ${refused}: unknown`);
    }
    const rlimits = this.rlimits(c);
    // Before the cgroup: a device the host lacks fails the start with nothing made.
    const devices = containerDevices(hc, this.log, c.Id);
    const capabilities = containerCapabilities(hc);
    // A profile that does not compile fails the start before anything is set up, as in dockerd.
    const security = processSecurity(hc, capabilities);
    let cgroupJoin: string[];
    try {
      cgroupJoin = await this.cgroups.create(c.Id, cgroupLimits(hc), devices.rules);
    } catch (e) {
      if (e instanceof CgroupApplyError) throw new StartError(`failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${e.message}: unknown`);
      throw e;
    }
    let sandbox = null;
    let prepared = false;
    try {
      sandbox = await this.network.setup(c, joined?.sandbox);
      const userMounts = this.mounts.prepare(c);
      prepared = true;
      const files = etcFiles(c, sandbox, etcContext(c, sandbox, this.network, find, (x, name) => this.etcPath(x, name), joined?.from));
      for (const [name, content] of Object.entries(files)) writeFileSync(`${dir}/${name}`, content);
      const mountpoint = `${this.paths.execRoot}/containers/${c.Id}/rootfs`;
      mkdirSync(mountpoint, { recursive: true });
      const lower = this.lowerDirs(c);
      const env = this.processEnv(c, c.Config.Tty, sandbox);
      // A spare booted beforehand (Node and its FFI are most of an init's start), else a fresh one.
      const init = this.spares.take() ?? spawnContainerInit(false);
      setTimeout(() => this.spares.refill(1), REFILL_AFTER_START_MS);
      const spawned = await startInit(init, {
          kind: 'container',
          rootfs: { layersRoot: this.paths.layersRoot, lower, upper: `${dir}/rw/upper`, work: `${dir}/rw/work`, mountpoint },
          hostname: c.Config.Hostname,
          netns: sandbox.key || null,
          mounts: [
            ...(['hostname', 'hosts', 'resolv.conf'] as const).map((name) => ({
              source: `${dir}/${name}`,
              target: `/etc/${name}`,
              fstype: null,
              flags: libc.MS_BIND,
              data: null,
              file: true,
            })),
            ...userMounts,
          ],
          // --privileged: nothing masked or read-only, /sys writable, the host's devices (dockerd's WithMounts, WithDevices).
          maskedPaths: hc.Privileged ? [] : MASKED_PATHS,
          readonlyPaths: hc.Privileged ? [] : READONLY_PATHS,
          devices: devices.nodes,
          sysWritable: hc.Privileged,
          cgroupfs: this.cgroups.cgroupfs(),
          readonlyRootfs: hc.ReadonlyRootfs === true,
          shmSize: typeof hc.ShmSize === 'number' && hc.ShmSize > 0 ? hc.ShmSize : undefined,
          sysctls,
          stdin: c.Config.OpenStdin,
          process: { args: [c.Path, ...c.Args], env, cwd: c.Config.WorkingDir || '/', user: c.Config.User, capabilities, rlimits, cgroupJoin, tty: c.Config.Tty, ...security },
        });
      const size = hc.ConsoleSize as [number, number] | undefined;
      if (spawned.console !== null && size && size[0] > 0 && size[1] > 0) libc.setWindowSize(spawned.console, size[0], size[1]);
      c.Sandbox = sandbox;
      c.State = { ...c.State, Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Pid: spawned.pid, ExitCode: 0, Error: '', StartedAt: nowNano(), FinishedAt: c.State.FinishedAt };
      this.store.save(c);
      this.watch(c, spawned);
      this.log.info({ container: c.Id, pid: spawned.pid }, 'container started');
      this.emitEvent(c, 'start');
    } catch (e) {
      if (prepared) this.mounts.release(c);
      if (sandbox) await this.network.teardown(c, sandbox);
      await this.cgroups.remove(c.Id).catch(() => undefined);
      if (e instanceof StartFailure) {
        c.State = { ...c.State, Status: c.State.Status === 'created' ? 'created' : 'exited', Running: false, Restarting: false, ExitCode: e.exitCode, Error: e.message };
        this.store.save(c);
        this.log.warn({ container: c.Id, err: e.message }, 'container failed to start');
        this.endListeners(c.Id);
        this.events.emit(`exit:${c.Id}`);
        throw new StartError(`failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${e.message}: unknown`);
      }
      throw e;
    }
  }

  /**
   * Runs `fn` on the container's filesystem: given its pid while it runs (its live root), else null
   * with the stopped filesystem held, one holder at a time. It waits for a start in flight, and a
   * start or removal waits for it, so the overlay is never mounted twice nor removed under it.
   */
  async withFilesystem<T>(c: ContainerRecord, fn: (pid: number | null) => Promise<T>): Promise<T> {
    for (;;) {
      const start = this.starting.get(c.Id);
      if (start) {
        await start.catch(() => undefined);
        continue;
      }
      if (c.State.Running && c.State.Pid) return fn(c.State.Pid);
      const held = this.fsHolds.get(c.Id);
      if (!held) break;
      await held.catch(() => undefined);
    }
    if (!this.store.byId(c.Id)) throw notFound(`No such container: ${c.Id}`);
    const mine = fn(null);
    this.fsHolds.set(c.Id, mine);
    try {
      return await mine;
    } finally {
      if (this.fsHolds.get(c.Id) === mine) this.fsHolds.delete(c.Id);
    }
  }

  /** The overlay's lower dirs, topmost first and relative to the layers root (as the mount wants them). */
  lowerDirs(c: ContainerRecord): string[] {
    const dir = this.store.dir(c.Id);
    const layers = this.images.layerDirs(c.Image);
    if (layers.length === 0) mkdirSync(`${dir}/rw/empty`, { recursive: true });
    return (layers.length ? layers : [`${dir}/rw/empty`]).map((l) => relative(this.paths.layersRoot, l)).reverse();
  }

  /** The image's layer directories, bottom first (for the changes of the writable layer). */
  imageLayers(c: ContainerRecord): string[] {
    return this.images.layerDirs(c.Image);
  }

  private watch(c: ContainerRecord, spawned: Spawned): void {
    const logs = logsDisabled(c.HostConfig.LogConfig) ? null : new JsonLogWriter(this.logPath(c), logRotation(c.HostConfig.LogConfig));
    const forward = (stream: StreamName) => (chunk: Buffer) => {
      logs?.write(stream, chunk);
      for (const l of this.listeners.get(c.Id) ?? []) l.data(stream, chunk);
    };
    spawned.stdout.on('data', forward('stdout'));
    spawned.stderr?.on('data', forward('stderr'));
    spawned.stdin?.on('error', () => undefined);
    const done = spawned.exited.then(async (code) => {
      logs?.close();
      await this.onExit(c, code);
    });
    this.running.set(c.Id, { spawned, logs, done });
    this.flushStdin(c, spawned.stdin);
  }

  /** What an ended container held: its mounts, network, cgroup and run directory. */
  private async cleanUp(c: ContainerRecord, sandbox: Sandbox | null): Promise<void> {
    this.mounts.release(c);
    if (sandbox) await this.network.teardown(c, sandbox).catch((e: Error) => this.log.error({ container: c.Id, err: e.message }, 'network teardown failed'));
    await this.cgroups.remove(c.Id).catch((e: Error) => this.log.error({ container: c.Id, err: e.message }, 'cgroup removal failed'));
    rmSync(`${this.paths.execRoot}/containers/${c.Id}`, { recursive: true, force: true });
  }

  private async onExit(c: ContainerRecord, code: number): Promise<void> {
    const sandbox = c.Sandbox;
    c.Sandbox = null;
    const oom = await this.cgroups.oomKilled(c.Id);
    const ranMs = Date.now() - Date.parse(c.State.StartedAt);
    const delay = this.shuttingDown ? null : this.backoff(c).next(c.HostConfig.RestartPolicy, code, c.HasBeenManuallyStopped === true, ranMs);
    // As dockerd: a container waiting to be restarted counts as running (stop, kill and rm -f apply to it).
    const restarting = delay !== null;
    if (restarting) c.RestartCount++;
    c.State = { ...c.State, Status: restarting ? 'restarting' : 'exited', Running: restarting, Restarting: restarting, Paused: false, OOMKilled: oom, Pid: 0, ExitCode: code, FinishedAt: nowNano() };
    this.store.save(c);
    this.running.delete(c.Id);
    // As dockerd 20.10: die comes with the new state, before the cleanup and its network disconnect events
    // (25+ cleans up first). Whoever sees the new state can see its die.
    if (oom) this.emitEvent(c, 'oom');
    this.emitEvent(c, 'die', { exitCode: String(code) });
    const cleanup = this.cleanUp(c, sandbox);
    this.cleanups.set(c.Id, cleanup);
    await cleanup;
    this.cleanups.delete(c.Id);
    this.log.info({ container: c.Id, exitCode: code }, 'container exited');
    this.endListeners(c.Id);
    this.events.emit(`exit:${c.Id}`, code);
    if (restarting) this.scheduleRestart(c, delay);
    else if (c.HostConfig.AutoRemove) await this.remove(c, { force: true, volumes: true }).catch(() => undefined);
  }

  private backoff(c: ContainerRecord): RestartBackoff {
    let b = this.backoffs.get(c.Id);
    if (!b) this.backoffs.set(c.Id, (b = new RestartBackoff(c.RestartCount)));
    return b;
  }

  private scheduleRestart(c: ContainerRecord, delay: number): void {
    // A stop, kill or rm -f during the exit's teardown has already settled it; a shutdown began meanwhile.
    if (!c.State.Restarting || !this.store.byId(c.Id)) return;
    if (this.shuttingDown) return this.settleStopped(c);
    this.log.info({ container: c.Id, delayMs: delay, restartCount: c.RestartCount }, 'container restarting by policy');
    const timer = setTimeout(() => {
      this.pendingRestarts.delete(c.Id);
      if (!c.State.Restarting || this.shuttingDown || !this.store.byId(c.Id)) return;
      this.launch(c).catch((e: Error) => {
        this.log.warn({ container: c.Id, err: e.message }, 'restart by policy failed');
        if (c.State.Restarting) this.settleStopped(c);
      });
    }, delay);
    this.pendingRestarts.set(c.Id, timer);
  }

  /** Ends a wait for a restart (stop, kill, rm -f, shutdown): the container stays exited. */
  private cancelRestart(c: ContainerRecord): void {
    this.backoffs.get(c.Id)?.cancel();
    const timer = this.pendingRestarts.get(c.Id);
    if (timer) clearTimeout(timer);
    this.pendingRestarts.delete(c.Id);
    if (c.State.Restarting) this.settleStopped(c);
  }

  private settleStopped(c: ContainerRecord): void {
    c.State = { ...c.State, Status: 'exited', Running: false, Restarting: false };
    if (this.store.byId(c.Id)) this.store.save(c);
    this.events.emit(`exit:${c.Id}`, c.State.ExitCode);
  }

  /** Waiting for a restart: there is no process, but it counts as running. */
  private awaitingRestart(c: ContainerRecord): boolean {
    return c.State.Restarting && !this.running.has(c.Id) && !this.starting.has(c.Id);
  }

  /**
   * As dockerd's kill: the user stopped it (remembered for unless-stopped; a daemon shutdown is not
   * the user), and SIGKILL, the stop signal or any signal when none is configured ends the restarts.
   */
  private stoppedByUser(c: ContainerRecord, sig: number): boolean {
    const configured = c.Config.StopSignal;
    let ends = !configured || sig === osConstants.signals.SIGKILL;
    if (!ends) {
      try {
        ends = signalNumber(configured!) === sig;
      } catch {
        ends = false;
      }
    }
    if (ends) this.backoff(c).cancel();
    if (!this.shuttingDown) {
      c.HasBeenManuallyStopped = true;
      this.store.save(c);
    }
    return ends;
  }

  /** Attached clients see the end of the stream when a run ends, or fails to begin. */
  private endListeners(id: string): void {
    for (const l of this.listeners.get(id) ?? []) l.end();
    this.listeners.delete(id);
  }

  /** Registers for the output of the container's current or next run. */
  listen(c: ContainerRecord, l: OutputListener): () => void {
    let set = this.listeners.get(c.Id);
    if (!set) this.listeners.set(c.Id, (set = new Set()));
    set.add(l);
    return () => set.delete(l);
  }

  /** Live log entries of the running container, `end` once it has stopped; null when it is not running. */
  followLogs(c: ContainerRecord, onEntry: (e: LogEntry) => void, onEnd: () => void): (() => void) | null {
    const logs = this.running.get(c.Id)?.logs;
    if (!logs) return null;
    const unsubscribe = logs.subscribe(onEntry);
    const unlisten = this.listen(c, { data: () => undefined, end: onEnd });
    return () => {
      unsubscribe();
      unlisten();
    };
  }

  /** Input for the container's stdin; kept until the process exists, as `docker run -i` attaches first. */
  writeStdin(c: ContainerRecord, chunk: Buffer | null): void {
    const stdin = this.running.get(c.Id)?.spawned.stdin;
    if (stdin) {
      if (chunk) stdin.write(chunk);
      else stdin.end();
      return;
    }
    let queue = this.pendingStdin.get(c.Id);
    if (!queue) this.pendingStdin.set(c.Id, (queue = []));
    queue.push(chunk);
  }

  private flushStdin(c: ContainerRecord, stdin: NodeJS.WritableStream | null): void {
    const queue = this.pendingStdin.get(c.Id);
    this.pendingStdin.delete(c.Id);
    if (!stdin || !queue) return;
    for (const chunk of queue) {
      if (chunk) stdin.write(chunk);
      else stdin.end();
    }
  }

  /** Sets the terminal size of a running TTY container; Docker ignores the call for others. */
  resize(c: ContainerRecord, rows: number, cols: number): void {
    const run = this.running.get(c.Id);
    if (!run) throw conflict(`Container ${c.Id} is not running`);
    if (run.spawned.console !== null) libc.setWindowSize(run.spawned.console, rows, cols);
  }

  kill(c: ContainerRecord, signal: string | number = 'SIGKILL'): void {
    const sig = signalNumber(signal);
    if (this.awaitingRestart(c)) {
      // No process to signal: dockerd only tells the restart to give up.
      if (this.stoppedByUser(c, sig)) this.cancelRestart(c);
      return;
    }
    const run = this.running.get(c.Id);
    if (!run || !c.State.Running) throw conflict(`Container ${c.Id} is not running`);
    this.stoppedByUser(c, sig);
    this.signal(c, run, sig);
  }

  /** Sends a signal and logs Docker's kill event. */
  private signal(c: ContainerRecord, run: Running, sig: number): void {
    run.spawned.child.kill(sig);
    this.emitEvent(c, 'kill', { signal: String(sig) });
    // As runc: a frozen task dies of SIGKILL only once thawed (cgroup v1); other signals wait for unpause.
    if (sig === osConstants.signals.SIGKILL && c.State.Paused) {
      this.cgroups.freeze(c.Id, false).catch((e: Error) => this.log.error({ container: c.Id, err: e.message }, 'thaw failed'));
    }
  }

  async pause(c: ContainerRecord): Promise<void> {
    if (c.State.Restarting) throw conflict(`Container ${c.Id} is restarting, wait until the container is running`);
    if (!this.running.has(c.Id) || !c.State.Running) throw conflict(`Container ${c.Id} is not running`);
    if (c.State.Paused) throw conflict(`Container ${c.Id} is already paused`);
    await this.cgroups.freeze(c.Id, true);
    c.State = { ...c.State, Status: 'paused', Paused: true };
    this.store.save(c);
    this.log.info({ container: c.Id }, 'container paused');
    this.emitEvent(c, 'pause');
  }

  async unpause(c: ContainerRecord): Promise<void> {
    if (!this.running.has(c.Id) || !c.State.Paused) throw conflict(`Container ${c.Id} is not paused`);
    await this.cgroups.freeze(c.Id, false);
    c.State = { ...c.State, Status: 'running', Paused: false };
    this.store.save(c);
    this.log.info({ container: c.Id }, 'container unpaused');
    this.emitEvent(c, 'unpause');
  }

  /** Docker's rename: the name must be valid and free; the event carries the old name with its slash. */
  rename(c: ContainerRecord, newName: string): void {
    const name = newName.startsWith('/') ? newName : `/${newName}`;
    if (!validName(name)) throw badRequest(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const oldName = c.Name;
    if (oldName === name) throw badRequest('Renaming a container with the same name as its current name');
    const taken = this.store.byName(name);
    if (taken) {
      throw conflict(
        `Error when allocating new name: Conflict. The container name "${name}" is already in use by container "${taken.Id}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    c.Name = name;
    this.store.save(c);
    this.log.info({ container: c.Id, oldName, name }, 'container renamed');
    this.emitEvent(c, 'rename', { oldName });
  }

  /**
   * docker update: the new HostConfig is written into the live cgroup first (a running container,
   * not one waiting to restart), then stored; a refused write changes nothing.
   */
  async update(c: ContainerRecord, req: UpdateRequest): Promise<void> {
    const next = mergeUpdate(c.Id, c.HostConfig, req);
    if (this.running.has(c.Id)) {
      try {
        await this.cgroups.update(c.Id, cgroupLimits(next));
      } catch (e) {
        await this.cgroups.update(c.Id, cgroupLimits(c.HostConfig)).catch(() => undefined);
        this.log.warn({ container: c.Id, err: (e as Error).message }, 'update of cgroup limits refused');
        throw serverError(`Cannot update container ${c.Id}: ${(e as Error).message}`);
      }
    }
    c.HostConfig = next;
    this.store.save(c);
    this.log.info({ container: c.Id }, 'container updated');
    this.emitEvent(c, 'update');
  }

  /** The container's cgroup counters; null when it is not running. */
  async cgroupStats(c: ContainerRecord): Promise<CgroupStats | null> {
    if (!this.running.has(c.Id)) return null;
    return this.cgroups.stats(c.Id).catch(() => null);
  }

  async pids(c: ContainerRecord): Promise<number[]> {
    if (!this.running.has(c.Id)) throw conflict(`Container ${c.Id} is not running`);
    return this.cgroups.pids(c.Id);
  }

  /** Reports a container event on the daemon's bus (routes report attach, rename, ...). */
  emitEvent(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    containerEvent(this.bus, c, action, extra);
  }

  /** StopSignal, then SIGKILL after the timeout (seconds; -1 waits forever). */
  async stop(c: ContainerRecord, timeout?: number, signal?: string): Promise<void> {
    await this.starting.get(c.Id)?.catch(() => undefined);
    if (this.awaitingRestart(c)) {
      this.stoppedByUser(c, osConstants.signals.SIGKILL);
      this.cancelRestart(c);
      this.emitEvent(c, 'stop');
      return;
    }
    const run = this.running.get(c.Id);
    if (!run) throw new ApiError(304, '');
    const t = timeout ?? c.Config.StopTimeout ?? 10;
    const sig = signalNumber(signal || c.Config.StopSignal || 'SIGTERM');
    this.stoppedByUser(c, sig);
    this.signal(c, run, sig);
    const exitedInTime = t < 0 ? await run.done.then(() => true) : await Promise.race([run.done.then(() => true), delay(t * 1000).then(() => false)]);
    if (!exitedInTime) {
      this.stoppedByUser(c, osConstants.signals.SIGKILL);
      this.signal(c, run, osConstants.signals.SIGKILL);
      await run.done;
    }
    this.emitEvent(c, 'stop');
  }

  async restart(c: ContainerRecord, timeout?: number): Promise<void> {
    if (this.running.has(c.Id) || c.State.Restarting) await this.stop(c, timeout);
    await this.start(c);
    this.emitEvent(c, 'restart');
  }

  /** `volumes` (rm -v, --rm) also removes the container's anonymous volumes. */
  async remove(c: ContainerRecord, opts: { force: boolean; volumes?: boolean }): Promise<void> {
    if (this.removing.has(c.Id)) throw conflict(`removal of container ${c.Id} is already in progress`);
    const inFlight = this.starting.get(c.Id);
    if (inFlight) {
      if (!opts.force) throw conflict(`cannot remove container "${c.Name}": container is starting: stop the container before removing or force remove`);
      await inFlight.catch(() => undefined);
    }
    if (this.awaitingRestart(c)) {
      if (!opts.force) throw conflict(`cannot remove container "${c.Name}": container is restarting: stop the container before removing or force remove`);
      this.stoppedByUser(c, osConstants.signals.SIGKILL);
      this.cancelRestart(c);
    }
    if (this.running.has(c.Id)) {
      if (!opts.force) {
        throw conflict(`cannot remove container "${c.Name}": container is running: stop the container before removing or force remove`);
      }
      this.removing.add(c.Id);
      try {
        const run = this.running.get(c.Id);
        this.stoppedByUser(c, osConstants.signals.SIGKILL);
        // Through signal(): a paused container must be thawed to die.
        if (run) this.signal(c, run, osConstants.signals.SIGKILL);
        await run?.done;
      } finally {
        this.removing.delete(c.Id);
      }
    }
    while (this.fsHolds.has(c.Id)) await this.fsHolds.get(c.Id)?.catch(() => undefined);
    await this.cleanups.get(c.Id)?.catch(() => undefined);
    if (!this.store.byId(c.Id)) return;
    this.store.delete(c.Id);
    this.backoffs.delete(c.Id);
    this.log.info({ container: c.Id }, 'container removed');
    this.emitEvent(c, 'destroy');
    this.mounts.removed(c, opts.volumes === true);
    for (const fn of this.removeHooks) fn(c.Id);
    this.events.emit(`removed:${c.Id}`);
  }

  /** Resolves when the condition holds, with the exit status Docker's wait endpoint returns. */
  wait(c: ContainerRecord, condition: WaitCondition): Promise<WaitResult> {
    const result = (): WaitResult => ({ StatusCode: c.State.ExitCode });
    if (condition === 'not-running' && !this.running.has(c.Id) && !c.State.Restarting) return Promise.resolve(result());
    return new Promise((resolve) => {
      const event = condition === 'removed' ? `removed:${c.Id}` : `exit:${c.Id}`;
      this.events.once(event, () => resolve(result()));
    });
  }

  /** Daemon shutdown: stop every running container as `docker stop` would. */
  async stopAll(): Promise<void> {
    // Not the user's stop: policies bring these back when the daemon starts again.
    this.shuttingDown = true;
    for (const c of this.store.all()) if (this.awaitingRestart(c)) this.cancelRestart(c);
    // A start in flight (the user's or a policy's) ends as a running container, to be stopped with the rest.
    await Promise.all([...this.starting.values()].map((p) => p.catch(() => undefined)));
    await Promise.all(
      [...this.running.keys()].map((id) => {
        const c = this.store.byId(id);
        return c ? this.stop(c).catch(() => undefined) : undefined;
      }),
    );
  }

  supportsBlkioWeight(): boolean {
    return this.cgroups.supportsBlkioWeight();
  }

  cpusetInfo(): CpusetInfo | null {
    return this.cgroups.cpusetInfo();
  }

  supportsCpuRealtime(): boolean {
    return this.cgroups.supportsCpuRealtime();
  }

  countRunning(): number {
    return this.running.size;
  }
}

/** The process could not be started (missing executable, unknown user, ...): a 400 as Docker's. */
class StartError extends ApiError {
  constructor(message: string) {
    super(400, message);
  }
}

export function signalNumber(signal: string | number): number {
  if (typeof signal === 'number') return signal;
  if (/^\d+$/.test(signal)) return Number(signal);
  const name = (signal.toUpperCase().startsWith('SIG') ? signal.toUpperCase() : `SIG${signal.toUpperCase()}`) as keyof typeof osConstants.signals;
  const n = osConstants.signals[name];
  if (n === undefined) throw new ApiError(400, `Invalid signal: ${signal}`);
  return n;
}

/** The cgroup limits a HostConfig asks for. */
function cgroupLimits(hc: HostConfig): Limits {
  return {
    memory: hc.Memory,
    memorySwap: hc.MemorySwap,
    nanoCpus: hc.NanoCpus,
    cpuQuota: hc.CpuQuota,
    cpuPeriod: hc.CpuPeriod,
    cpuShares: hc.CpuShares,
    pidsLimit: hc.PidsLimit ?? 0,
    memoryReservation: hc.MemoryReservation ?? 0,
    blkioWeight: hc.BlkioWeight ?? 0,
    cpusetCpus: hc.CpusetCpus ?? '',
    cpusetMems: hc.CpusetMems ?? '',
    cpuRtPeriod: hc.CpuRealtimePeriod ?? 0,
    cpuRtRuntime: hc.CpuRealtimeRuntime ?? 0,
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
