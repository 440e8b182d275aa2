// `berth run`/`berth create` flags → the POST /containers/create body, as the docker CLI's
// container options parser builds it (Config + HostConfig + NetworkingConfig).

import { readFileSync } from 'fs';
import { parseGoDurationStrict } from './format/time';
import {
  kvToMap,
  parseDevice,
  parseExpose,
  parseIntFlag,
  parseKeyValueFile,
  parseMemBytes,
  parseMount,
  parseNanoCPUs,
  parsePublish,
  parseRestartPolicy,
  parseTmpfs,
  parseUlimit,
  parseVolumes,
  validateEnv,
} from './opts';

/** The flags run and create share, as commander hands them over (camelCased). */
export interface ContainerFlags {
  attach?: string[];
  env?: string[];
  envFile?: string[];
  label?: string[];
  labelFile?: string[];
  workdir?: string;
  user?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  memorySwappiness?: string;
  oomKillDisable?: boolean;
  cpus?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  shmSize?: string;
  network?: string[];
  networkAlias?: string[];
  ip?: string;
  entrypoint?: string;
  hostname?: string;
  domainname?: string;
  interactive?: boolean;
  tty?: boolean;
  stopSignal?: string;
  stopTimeout?: string;
  rm?: boolean;
  publish?: string[];
  publishAll?: boolean;
  expose?: string[];
  volume?: string[];
  volumesFrom?: string[];
  mount?: string[];
  link?: string[];
  restart?: string;
  privileged?: boolean;
  readOnly?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  device?: string[];
  deviceCgroupRule?: string[];
  addHost?: string[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  tmpfs?: string[];
  init?: boolean;
  ipc?: string;
  pid?: string;
  uts?: string;
  groupAdd?: string[];
  securityOpt?: string[];
  sysctl?: string[];
  ulimit?: string[];
  logDriver?: string;
  logOpt?: string[];
  cgroupParent?: string;
  runtime?: string;
  macAddress?: string;
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthStartPeriod?: string;
  healthRetries?: string;
  noHealthcheck?: boolean;
}

export interface ContainerConfig {
  config: Record<string, unknown>;
  hostConfig: Record<string, unknown>;
  networkingConfig: { EndpointsConfig: Record<string, unknown> };
  autoRemove: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
}

/** The Go client's normalizeCap: "net_admin" → "CAP_NET_ADMIN"; "ALL" stays. */
export function normalizeCapability(cap: string): string {
  const c = cap.trim().toUpperCase();
  if (c === 'ALL') return c;
  return c.startsWith('CAP_') ? c : `CAP_${c}`;
}

/** The Go client's normalizeCapabilities: canonical, de-duplicated, sorted; null when empty. */
export function normalizeCapabilities(caps: string[]): string[] | null {
  const out = [...new Set(caps.map(normalizeCapability))].sort();
  return out.length ? out : null;
}

/** Wraps a flag-value error the way pflag reports it: invalid argument "v" for "-m, --memory" flag: ... */
function flagValue<T>(value: string, flag: string, parse: (v: string) => T): T {
  try {
    return parse(value);
  } catch (e) {
    throw new Error(`invalid argument ${JSON.stringify(value)} for "${flag}" flag: ${(e as Error).message}`);
  }
}

function durationNanos(value: string | undefined, flag: string): number {
  if (value === undefined) return 0;
  return Math.round(flagValue(value, flag, parseGoDurationStrict) * 1e6);
}

const num = (v: string | undefined, flag: string): number => (v === undefined ? 0 : flagValue(v, flag, parseIntFlag));

/**
 * Builds the create body. `image` and `args` are the positional IMAGE and COMMAND...;
 * `consoleSize` is the client terminal's [rows, cols] (or [0, 0]).
 */
export function buildContainerConfig(
  f: ContainerFlags,
  image: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; consoleSize?: [number, number] } = {},
): ContainerConfig {
  const env = opts.env ?? process.env;
  const attach = (f.attach ?? []).map((a) => a.toLowerCase());
  for (const a of attach) if (!['stdin', 'stdout', 'stderr'].includes(a)) throw new Error(`invalid argument ${JSON.stringify(a)} for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
  let attachStdin = attach.includes('stdin');
  let attachStdout = attach.includes('stdout');
  let attachStderr = attach.includes('stderr');
  if (f.interactive) attachStdin = true;
  if (attach.length === 0) {
    attachStdout = true;
    attachStderr = true;
  }

  const swappiness = f.memorySwappiness === undefined ? -1 : num(f.memorySwappiness, '--memory-swappiness');
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) throw new Error(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);

  const { binds, volumes } = parseVolumes(f.volume ?? [], opts.cwd);
  const { exposed, bindings } = parsePublish(f.publish ?? []);
  parseExpose(f.expose ?? [], exposed);

  const envFromFiles = (f.envFile ?? []).flatMap((file) => parseKeyValueFile(readFileSync(file, 'utf8'), env));
  const envList = [...envFromFiles, ...(f.env ?? []).map((e) => validateEnv(e, env))];
  const labelsFromFiles = (f.labelFile ?? []).flatMap((file) => parseKeyValueFile(readFileSync(file, 'utf8')));
  const labels = kvToMap([...labelsFromFiles, ...(f.label ?? [])]);

  let entrypoint: string[] | null = null;
  if (f.entrypoint !== undefined && f.entrypoint !== '') entrypoint = [f.entrypoint];
  else if (f.entrypoint === '') entrypoint = ['']; // `--entrypoint=""` resets the image's

  const restartPolicy = parseRestartPolicy(f.restart ?? 'no');
  if (f.rm && restartPolicy.Name !== 'no' && restartPolicy.Name !== '') throw new Error('conflicting options: cannot specify both --restart and --rm');

  let healthcheck: Record<string, unknown> | undefined;
  const interval = durationNanos(f.healthInterval, '--health-interval');
  const timeout = durationNanos(f.healthTimeout, '--health-timeout');
  const start = durationNanos(f.healthStartPeriod, '--health-start-period');
  const retries = num(f.healthRetries, '--health-retries');
  // As the docker CLI: a flag at its zero value counts as not given.
  const haveHealth = Boolean(f.healthCmd) || interval !== 0 || timeout !== 0 || start !== 0 || retries !== 0;
  if (f.noHealthcheck) {
    if (haveHealth) throw new Error('--no-healthcheck conflicts with --health-* options');
    healthcheck = { Test: ['NONE'] };
  } else if (haveHealth) {
    if (interval < 0) throw new Error('--health-interval cannot be negative');
    if (timeout < 0) throw new Error('--health-timeout cannot be negative');
    if (retries < 0) throw new Error('--health-retries cannot be negative');
    if (start < 0) throw new Error('--health-start-period cannot be negative');
    // Go's HealthConfig fields are all omitempty.
    healthcheck = {};
    if (f.healthCmd) healthcheck.Test = ['CMD-SHELL', f.healthCmd];
    if (interval) healthcheck.Interval = interval;
    if (timeout) healthcheck.Timeout = timeout;
    if (start) healthcheck.StartPeriod = start;
    if (retries) healthcheck.Retries = retries;
  }

  const networks = f.network ?? [];
  const networkMode = networks.length > 0 ? networks[0] : 'default';
  const endpoints: Record<string, unknown> = {};
  for (const [i, n] of networks.entries()) {
    const ep: Record<string, unknown> = {};
    if (i === 0) {
      if (f.networkAlias?.length) ep.Aliases = f.networkAlias;
      if (f.ip) ep.IPAMConfig = { IPv4Address: f.ip };
      if (f.link?.length && !['default', 'bridge', 'host', 'none'].includes(n) && !n.startsWith('container:')) ep.Links = f.link;
    }
    if (endpoints[n] !== undefined) throw new Error(`network "${n}" is specified multiple times`);
    if (i === 0 && networks.length === 1 && Object.keys(ep).length === 0) continue;
    endpoints[n] = ep;
  }
  const builtin = (n: string): boolean => ['default', 'bridge', 'host', 'none'].includes(n) || n.startsWith('container:');
  if (networks.some(builtin) && networks.some((n) => !builtin(n))) throw new Error('conflicting options: cannot attach both user-defined and non-user-defined network-modes');

  const logOpts = kvToMap(f.logOpt ?? []);
  const sysctls = f.sysctl?.length ? kvToMap(f.sysctl) : undefined;

  const config: Record<string, unknown> = {
    Hostname: f.hostname ?? '',
    Domainname: f.domainname ?? '',
    User: f.user ?? '',
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    Tty: Boolean(f.tty),
    OpenStdin: Boolean(f.interactive),
    StdinOnce: Boolean(f.interactive && attachStdin),
    Env: envList.length ? envList : null,
    Cmd: args.length > 0 ? args : null,
    Image: image,
    Volumes: volumes,
    WorkingDir: f.workdir ?? '',
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: labels,
  };
  if (Object.keys(exposed).length) config.ExposedPorts = exposed;
  if (healthcheck) config.Healthcheck = healthcheck;
  if (f.macAddress) config.MacAddress = f.macAddress;
  if (f.stopSignal) config.StopSignal = f.stopSignal;
  if (f.stopTimeout !== undefined) config.StopTimeout = num(f.stopTimeout, '--stop-timeout');

  const mem = (v: string | undefined, flag: string): number => (v === undefined ? 0 : flagValue(v, flag, parseMemBytes));
  const hostConfig: Record<string, unknown> = {
    Binds: binds.length ? binds : null,
    ContainerIDFile: '',
    LogConfig: { Type: f.logDriver ?? '', Config: logOpts },
    NetworkMode: networkMode,
    PortBindings: bindings,
    RestartPolicy: restartPolicy,
    AutoRemove: Boolean(f.rm),
    VolumeDriver: '',
    VolumesFrom: f.volumesFrom?.length ? f.volumesFrom : null,
    ConsoleSize: opts.consoleSize ?? [0, 0],
    CapAdd: normalizeCapabilities(f.capAdd ?? []),
    CapDrop: normalizeCapabilities(f.capDrop ?? []),
    CgroupnsMode: '',
    Dns: f.dns ?? [],
    DnsOptions: f.dnsOption ?? [],
    DnsSearch: f.dnsSearch ?? [],
    ExtraHosts: f.addHost?.length ? f.addHost : null,
    GroupAdd: f.groupAdd?.length ? f.groupAdd : null,
    IpcMode: f.ipc ?? '',
    Cgroup: '',
    Links: f.link?.length ? f.link : null,
    OomScoreAdj: 0,
    PidMode: f.pid ?? '',
    Privileged: Boolean(f.privileged),
    PublishAllPorts: Boolean(f.publishAll),
    ReadonlyRootfs: Boolean(f.readOnly),
    SecurityOpt: f.securityOpt?.length ? f.securityOpt : null,
    UTSMode: f.uts ?? '',
    UsernsMode: '',
    ShmSize: f.shmSize === undefined ? 0 : flagValue(f.shmSize, '--shm-size', parseMemBytes),
    Isolation: '',
    CpuShares: num(f.cpuShares, '-c, --cpu-shares'),
    Memory: mem(f.memory, '-m, --memory'),
    NanoCpus: f.cpus === undefined ? 0 : flagValue(f.cpus, '--cpus', parseNanoCPUs),
    CgroupParent: f.cgroupParent ?? '',
    BlkioWeight: 0,
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    CpuPeriod: num(f.cpuPeriod, '--cpu-period'),
    CpuQuota: num(f.cpuQuota, '--cpu-quota'),
    CpuRealtimePeriod: num(f.cpuRtPeriod, '--cpu-rt-period'),
    CpuRealtimeRuntime: num(f.cpuRtRuntime, '--cpu-rt-runtime'),
    CpusetCpus: f.cpusetCpus ?? '',
    CpusetMems: f.cpusetMems ?? '',
    Devices: (f.device ?? []).map(parseDevice),
    DeviceCgroupRules: f.deviceCgroupRule?.length ? f.deviceCgroupRule : null,
    DeviceRequests: null,
    MemoryReservation: mem(f.memoryReservation, '--memory-reservation'),
    MemorySwap: mem(f.memorySwap, '--memory-swap'),
    MemorySwappiness: swappiness,
    OomKillDisable: Boolean(f.oomKillDisable),
    PidsLimit: num(f.pidsLimit, '--pids-limit'),
    Ulimits: (f.ulimit ?? []).map((u) => flagValue(u, '--ulimit', parseUlimit)),
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    MaskedPaths: null,
    ReadonlyPaths: null,
  };
  if (f.mount?.length) hostConfig.Mounts = f.mount.map((m) => flagValue(m, '--mount', parseMount));
  const tmpfs = parseTmpfs(f.tmpfs ?? []);
  if (tmpfs) hostConfig.Tmpfs = tmpfs;
  if (sysctls) hostConfig.Sysctls = sysctls;
  if (f.runtime) hostConfig.Runtime = f.runtime;
  if (f.init !== undefined) hostConfig.Init = f.init;

  return {
    config,
    hostConfig,
    networkingConfig: { EndpointsConfig: endpoints },
    autoRemove: Boolean(f.rm),
    attachStdin,
    attachStdout,
    attachStderr,
  };
}
