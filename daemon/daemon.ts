// Assembles berthd: state stores, networking, cgroups, the API server; and takes it all down again.
import { randomUUID } from 'crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { connect } from 'net';
import type { Logger } from 'pino';
import { detectCgroupDriver } from './cgroups/driver';
import type { DaemonConfig } from './config';
import { socketPath } from './config';
import { ExecManager } from './containers/exec';
import { ContainerManager } from './containers/manager';
import { ContainerStore } from './containers/store';
import { EventBus } from './events/bus';
import { HealthMonitor } from './health/monitor';
import { dirSize } from './util/disk-usage';
import { ImageStore } from './images/store';
import { BlobOrigins } from './registry/origins';
import { familiarName } from './images/reference';
import { NetworkManager } from './network/manager';
import { createApp } from './server/app';
import { HijackRouter } from './server/hijack';
import { registerContainerRoutes } from './server/routes/containers';
import { registerEventRoutes } from './server/routes/events';
import { registerExecRoutes } from './server/routes/exec';
import { registerFileRoutes } from './server/routes/files';
import { registerHousekeepingRoutes } from './server/routes/housekeeping';
import { registerCommitRoutes } from './server/routes/commit';
import { registerImageRoutes } from './server/routes/images';
import { registerProcessRoutes } from './server/routes/processes';
import { registerNetworkRoutes } from './server/routes/networks';
import { registerSystemRoutes } from './server/routes/system';
import { registerVolumeRoutes } from './server/routes/volumes';
import { registerDiskUsageRoutes } from './server/routes/disk-usage';
import { registerBuildRoutes } from './server/routes/build';
import { buildContainers, pullForBuild } from './build/backend';
import { summarizeContainer } from './containers/inspect';
import { ContainerMounts } from './volumes/container-mounts';
import { VolumeStore } from './volumes/store';
import { DEFAULT_CAPABILITIES } from './runtime/defaults';
import { processSecurity } from './security/container-seccomp';

export interface RunningDaemon {
  shutdown(): Promise<void>;
}

/** Refuses to start beside a live daemon that owns the pidfile or the socket. */
async function claim(cfg: DaemonConfig, socket: string): Promise<void> {
  if (existsSync(cfg.pidfile)) {
    const pid = Number(readFileSync(cfg.pidfile, 'utf8').trim());
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new Error(`pid file found, ensure berthd is not running or delete ${cfg.pidfile}`);
    }
  }
  if (existsSync(socket)) {
    const live = await new Promise<boolean>((resolve) => {
      const s = connect(socket, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (live) throw new Error(`another daemon is listening on ${socket}`);
    rmSync(socket, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function startDaemon(cfg: DaemonConfig, log: Logger): Promise<RunningDaemon> {
  if (process.getuid?.() !== 0) throw new Error('berthd needs to be started with root privileges');
  if (cfg.hosts.length !== 1) throw new Error('berthd listens on exactly one socket');
  const socket = socketPath(cfg.hosts[0]);
  // Before anything is made: it refuses daemon real-time values the host cannot give containers.
  const cgroups = detectCgroupDriver('/sys/fs/cgroup', cfg.cgroupParent, { period: cfg.cpuRtPeriod, runtime: cfg.cpuRtRuntime });
  await claim(cfg, socket);
  for (const dir of [cfg.dataRoot, cfg.execRoot, `${cfg.execRoot}/containers`]) mkdirSync(dir, { recursive: true, mode: 0o711 });
  writeFileSync(cfg.pidfile, `${process.pid}`);

  const idFile = `${cfg.dataRoot}/engine-id`;
  if (!existsSync(idFile)) writeFileSync(idFile, randomUUID());
  const daemonId = readFileSync(idFile, 'utf8').trim();

  const images = await ImageStore.open(cfg.dataRoot, log);
  const store = new ContainerStore(`${cfg.dataRoot}/containers`);
  const bus = new EventBus();
  const network = await NetworkManager.open({ dataRoot: cfg.dataRoot, execRoot: cfg.execRoot, bridge: cfg.bridge, bip: cfg.bip, dns: cfg.dns, log, events: bus });
  const volumes = new VolumeStore(`${cfg.dataRoot}/volumes`, bus, log);
  const mounts = new ContainerMounts(volumes, () => store.all(), log);
  const layersRoot = `${cfg.dataRoot}/layers`;
  mkdirSync(layersRoot, { recursive: true });
  const containers = new ContainerManager(
    store,
    { layerDirs: (id) => images.layerDirs(id) },
    network,
    cgroups,
    { layersRoot, execRoot: cfg.execRoot },
    log,
    bus,
    mounts,
    { ulimits: cfg.defaultUlimits },
  );
  await containers.reconcile();
  // Docker's default filter for the default capabilities, compiled before the first start needs it.
  setImmediate(() => processSecurity({}, DEFAULT_CAPABILITIES));
  const execs = new ExecManager(
    cgroups,
    log,
    bus,
    (c, tty) => containers.processEnv(c, tty),
    (c) => containers.rlimits(c),
  );
  containers.onRemove((id) => execs.forget(id));
  const health = new HealthMonitor({ execs, bus, log, find: (id) => store.byId(id), save: (c) => store.save(c) }, store.all());

  const origins = new BlobOrigins(`${cfg.dataRoot}/image/distribution.json`);
  const app = createApp(log);
  const hijack = new HijackRouter();
  hijack.attach(app.server);
  app.addHook('preClose', async () => hijack.closeAll());
  registerSystemRoutes(app, {
    counts: () => {
      const all = containers.list();
      const running = all.filter((c) => c.State.Running && !c.State.Paused).length;
      const paused = all.filter((c) => c.State.Paused).length;
      return { containers: all.length, running, paused, stopped: all.length - running - paused, images: images.list().length };
    },
    cgroupVersion: cgroups.version,
    cgroupMount: '/sys/fs/cgroup',
    dataRoot: cfg.dataRoot,
    daemonId,
    insecureRegistries: cfg.insecureRegistries,
    registryMirrors: cfg.registryMirrors,
  });
  registerContainerRoutes(app, hijack, {
    containers,
    resolveImage: (ref) => {
      const rec = images.resolve(ref);
      return rec ? { id: rec.id, config: rec.config.config ?? {} } : undefined;
    },
    familiarName: (ref) => familiarName(ref),
    inspectContext: (c) => ({
      containerDir: store.dir(c.Id),
      logPath: containers.logPath(c),
      layerDirs: images.get(c.Image) ? images.layerDirs(c.Image) : [],
      bridgeNetworkId: network.bridgeNetworkId,
      networkId: (name) => network.networkId(name),
      cgroupVersion: cgroups.version,
      execIds: execs.idsOf(c.Id),
      ulimits: containers.ulimits(c),
    }),
    networkId: (name) => network.networkId(name),
    sizes: (c) => ({ rw: dirSize(`${store.dir(c.Id)}/rw/upper`), image: images.get(c.Image)?.size ?? 0 }),
    attachMounts: (c) => {
      c.MountPoints = mounts.plan(c, images.layerDirs(c.Image), (ref) => containers.find(ref));
      const made = mounts.materialize(c.MountPoints);
      return { undo: () => mounts.undo(made) };
    },
  });
  registerVolumeRoutes(app, { volumes, usedBy: (name) => mounts.usedBy(name), events: bus });
  registerDiskUsageRoutes(app, {
    images: () => images.list(),
    containers: () => containers.list(),
    upperDir: (c) => `${store.dir(c.Id)}/rw/upper`,
    summarize: (c) => summarizeContainer(c, (name) => network.networkId(name), (ref) => images.resolve(ref)?.id),
    volumes,
    usedBy: (name) => mounts.usedBy(name),
  });
  registerNetworkRoutes(app, { network, containers });
  registerExecRoutes(app, hijack, { containers, execs });
  registerEventRoutes(app, bus);
  registerProcessRoutes(app, containers);
  registerFileRoutes(app, { containers, mounts, containerDir: (id) => store.dir(id), layersRoot, execRoot: cfg.execRoot });
  registerHousekeepingRoutes(app, { containers, bus, rwDir: (id) => `${store.dir(id)}/rw/upper` });
  registerImageRoutes(app, {
    images,
    log,
    usedBy: (imageId) => containers.list().filter((c) => c.Image === imageId).map((c) => c.Id),
    runningUsers: (imageId) => containers.list().filter((c) => c.Image === imageId && c.State.Running).map((c) => c.Id),
    registry: { insecureRegistries: cfg.insecureRegistries, registryMirrors: cfg.registryMirrors },
    events: bus,
    origins,
  });
  registerBuildRoutes(app, {
    images,
    containers: buildContainers({ images, containers, mounts, containerDir: (id) => store.dir(id) }),
    pull: pullForBuild({ images, log, events: bus, registry: { insecureRegistries: cfg.insecureRegistries, registryMirrors: cfg.registryMirrors }, origins }),
    usedBy: (imageId) => containers.list().filter((c) => c.Image === imageId).map((c) => c.Id),
    events: bus,
    log,
  });
  registerCommitRoutes(app, {
    images,
    log,
    events: bus,
    findContainer: (ref) => containers.find(ref),
    upperDir: (c) => `${store.dir(c.Id)}/rw/upper`,
    pause: (c) => containers.pause(c),
    unpause: (c) => containers.unpause(c),
  });

  try {
    await app.listen({ path: socket });
  } catch (e) {
    await network.shutdown();
    rmSync(cfg.pidfile, { force: true });
    throw e;
  }
  chmodSync(socket, 0o660);
  log.info({ socket, dataRoot: cfg.dataRoot, cgroupVersion: cgroups.version, bridge: cfg.bridge }, 'berthd is listening');
  containers.prepareSpares();
  await containers.startByPolicy();

  let closing: Promise<void> | undefined;
  return {
    shutdown: () =>
      (closing ??= (async () => {
        log.info('shutting down');
        // Containers first, while their clients can still be told; then every connection goes.
        await containers.stopAll();
        health.close();
        execs.close();
        containers.closeSpares();
        await app.close().catch(() => undefined);
        await network.shutdown();
        volumes.unmountAll();
        await cgroups.removeParent();
        rmSync(socket, { force: true });
        rmSync(cfg.pidfile, { force: true });
        log.info('berthd stopped');
      })()),
  };
}
