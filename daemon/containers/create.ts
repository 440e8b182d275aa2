// POST /containers/create: validate the body as Docker does and merge the image's defaults into it.
import { cpus, hostname } from 'os';
import { mergeHealthcheck, parseHealthcheck, type HealthConfig } from '../health/config';
import { badRequest } from '../server/errors';
import { parseNetworkMode, type EndpointConfig } from '../network/manager';
import { newId } from '../util/ids';
import { parseSecurityOpt } from '../security/security-opt';
import { checkCapabilities } from './capabilities';
import { checkDeviceMappings } from './devices';
import { validateRestartPolicy } from './restart-policy';
import { initialState, nowNano, type ContainerConfig, type ContainerRecord, type HostConfig } from './record';
import { DEFAULT_PATH_ENV } from './process-env';
import { decodeUlimits } from './ulimits';

export interface ImageDefaults {
  id: string;
  config: {
    Env?: string[] | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    WorkingDir?: string;
    User?: string;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, object> | null;
    Volumes?: Record<string, object> | null;
    StopSignal?: string;
    OnBuild?: string[] | null;
    Healthcheck?: HealthConfig | null;
  };
}

const MIN_MEMORY = 6 * 1024 * 1024;

type Json = Record<string, unknown>;

function field<T>(obj: Json, key: string, type: 'string' | 'boolean' | 'number' | 'object' | 'array', where: string): T | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  const ok = type === 'array' ? Array.isArray(v) : type === 'object' ? typeof v === 'object' && !Array.isArray(v) : typeof v === type;
  if (!ok) throw badRequest(`json: cannot unmarshal ${describe(v)} into Go struct field ${where}.${key} of type ${goType(type)}`);
  return v as T;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v;
}

function goType(type: string): string {
  return { string: 'string', boolean: 'bool', number: 'int64', object: 'map', array: '[]string' }[type] ?? type;
}

function stringList(obj: Json, key: string, where: string): string[] | undefined {
  const v = obj[key];
  // Docker's StrSlice accepts a single string as well as a list.
  if (typeof v === 'string') return [v];
  const list = field<unknown[]>(obj, key, 'array', where);
  if (list?.some((s) => typeof s !== 'string')) throw badRequest(`json: cannot unmarshal ${key} of type []string`);
  return list as string[] | undefined;
}

/** Docker clamps CPU shares into the kernel's range rather than failing at start. */
function clampShares(shares: number): number {
  if (shares === 0) return 0;
  return Math.min(Math.max(shares, 2), 262144);
}

function envKey(e: string): string {
  const i = e.indexOf('=');
  return i < 0 ? e : e.slice(0, i);
}

/**
 * dockerd's validateResources on the create body, before the image is looked up: real-time
 * values need the kernel's CPU real-time scheduler (cgroup v1 cpu.rt_period_us; never v2), and
 * no runtime above the period.
 */
export function verifyRealtime(body: Json, cpuRealtime: boolean): void {
  const hc = body.HostConfig;
  if (typeof hc !== 'object' || hc === null) return;
  const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const period = num((hc as Json).CpuRealtimePeriod);
  const runtime = num((hc as Json).CpuRealtimeRuntime);
  if ((period !== 0 || runtime !== 0) && !cpuRealtime) throw badRequest('Your kernel does not support CPU real-time scheduler');
  if (period !== 0 && runtime !== 0 && runtime > period) throw badRequest('cpu real-time runtime cannot be higher than cpu real-time period');
}

/** Builds the record for a new container; `image` is the resolved image of body.Image. */
export function buildContainer(body: Json, name: string, image: ImageDefaults): ContainerRecord {
  const id = newId();
  const hc = (field<Json>(body, 'HostConfig', 'object', 'ContainerCreateConfig') ?? {}) as Json;
  const memory = field<number>(hc, 'Memory', 'number', 'HostConfig') ?? 0;
  if (memory > 0 && memory < MIN_MEMORY) throw badRequest('Minimum memory limit allowed is 6MB');
  if (memory < 0) throw badRequest('Invalid memory limit: must be a positive number');
  const memorySwap = field<number>(hc, 'MemorySwap', 'number', 'HostConfig') ?? 0;
  if (memory > 0 && memorySwap > 0 && memorySwap < memory) throw badRequest('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory === 0 && memorySwap > 0) throw badRequest('You should always set the Memory limit when using Memoryswap limit, see usage');
  const nanoCpus = field<number>(hc, 'NanoCpus', 'number', 'HostConfig') ?? 0;
  const ncpu = cpus().length;
  if (nanoCpus !== 0 && (nanoCpus < 1e7 || nanoCpus > ncpu * 1e9)) {
    throw badRequest(`Range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
  }
  const cpuQuota = field<number>(hc, 'CpuQuota', 'number', 'HostConfig') ?? 0;
  if (nanoCpus > 0 && cpuQuota > 0) throw badRequest('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  const networkMode = field<string>(hc, 'NetworkMode', 'string', 'HostConfig') || 'default';
  const mode = parseNetworkMode(networkMode);
  if ('error' in mode) throw badRequest(mode.error);
  const networking = field<Json>(body, 'NetworkingConfig', 'object', 'ContainerCreateConfig') ?? {};
  const endpoints = field<Record<string, EndpointConfig>>(networking, 'EndpointsConfig', 'object', 'NetworkingConfig') ?? {};

  const userEnv = stringList(body, 'Env', 'Config') ?? [];
  const imageEnv = image.config.Env ?? [];
  const env = [...imageEnv.filter((e) => !userEnv.some((u) => envKey(u) === envKey(e))), ...userEnv];
  if (!env.some((e) => envKey(e) === 'PATH')) env.unshift(DEFAULT_PATH_ENV);

  let entrypoint = stringList(body, 'Entrypoint', 'Config') ?? null;
  let cmd = stringList(body, 'Cmd', 'Config') ?? null;
  // An explicit empty entrypoint (`--entrypoint ""`) clears the image's, and with it the image's CMD.
  const resetEntrypoint = entrypoint !== null && (entrypoint.length === 0 || (entrypoint.length === 1 && entrypoint[0] === ''));
  if (resetEntrypoint) entrypoint = null;
  else if (entrypoint === null) {
    entrypoint = image.config.Entrypoint ?? null;
    if (!cmd || cmd.length === 0) cmd = image.config.Cmd ?? null;
  }
  const argv = [...(entrypoint ?? []), ...(cmd ?? [])];
  if (argv.length === 0) throw badRequest('No command specified');

  const healthcheck = mergeHealthcheck(parseHealthcheck(body.Healthcheck), image.config.Healthcheck);
  const labels = { ...(image.config.Labels ?? {}), ...(field<Record<string, string>>(body, 'Labels', 'object', 'Config') ?? {}) };
  const exposed = { ...(image.config.ExposedPorts ?? {}), ...(field<Record<string, object>>(body, 'ExposedPorts', 'object', 'Config') ?? {}) };
  // The image's VOLUME entries and the container's own add up, as dockerd merges them.
  const volumes = { ...(image.config.Volumes ?? {}), ...(field<Record<string, object>>(body, 'Volumes', 'object', 'Config') ?? {}) };
  const config: ContainerConfig = {
    // Host networking shares the host's name, as Docker does.
    Hostname: field<string>(body, 'Hostname', 'string', 'Config') || (mode.kind === 'host' ? hostname() : id.slice(0, 12)),
    Domainname: field<string>(body, 'Domainname', 'string', 'Config') ?? '',
    // An empty User (what the docker CLI sends without -u) means the image's, as Docker's merge does.
    User: field<string>(body, 'User', 'string', 'Config') || image.config.User || '',
    AttachStdin: field<boolean>(body, 'AttachStdin', 'boolean', 'Config') ?? false,
    AttachStdout: field<boolean>(body, 'AttachStdout', 'boolean', 'Config') ?? false,
    AttachStderr: field<boolean>(body, 'AttachStderr', 'boolean', 'Config') ?? false,
    ...(Object.keys(exposed).length ? { ExposedPorts: exposed } : {}),
    Tty: field<boolean>(body, 'Tty', 'boolean', 'Config') ?? false,
    OpenStdin: field<boolean>(body, 'OpenStdin', 'boolean', 'Config') ?? false,
    StdinOnce: field<boolean>(body, 'StdinOnce', 'boolean', 'Config') ?? false,
    Env: env,
    Cmd: cmd,
    ...(healthcheck ? { Healthcheck: healthcheck } : {}),
    Image: field<string>(body, 'Image', 'string', 'Config') ?? '',
    Volumes: Object.keys(volumes).length ? volumes : null,
    WorkingDir: field<string>(body, 'WorkingDir', 'string', 'Config') || image.config.WorkingDir || '',
    Entrypoint: entrypoint,
    OnBuild: image.config.OnBuild ?? null,
    Labels: labels,
  };
  const mac = field<string>(body, 'MacAddress', 'string', 'Config');
  if (mac) {
    if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac)) throw badRequest(`invalid MAC address: ${mac}`);
    config.MacAddress = mac;
  }
  if (mode.kind === 'container' && field<string>(body, 'Hostname', 'string', 'Config')) throw badRequest('conflicting options: hostname and the network mode');
  const stopSignal = field<string>(body, 'StopSignal', 'string', 'Config') ?? image.config.StopSignal;
  if (stopSignal) config.StopSignal = stopSignal;
  const stopTimeout = field<number>(body, 'StopTimeout', 'number', 'Config');
  if (stopTimeout !== undefined) config.StopTimeout = stopTimeout;
  if (config.WorkingDir && !config.WorkingDir.startsWith('/')) {
    throw badRequest(`the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
  }

  const autoRemove = field<boolean>(hc, 'AutoRemove', 'boolean', 'HostConfig') ?? false;
  const rp = field<Json>(hc, 'RestartPolicy', 'object', 'HostConfig');
  const restartPolicy = rp && { Name: field<string>(rp, 'Name', 'string', 'RestartPolicy') ?? '', MaximumRetryCount: field<number>(rp, 'MaximumRetryCount', 'number', 'RestartPolicy') ?? 0 };
  if (restartPolicy) validateRestartPolicy(restartPolicy, autoRemove);

  const hostConfig: HostConfig = {
    ...hc,
    Binds: stringList(hc, 'Binds', 'HostConfig') ?? null,
    NetworkMode: networkMode,
    AutoRemove: autoRemove,
    ...(restartPolicy ? { RestartPolicy: restartPolicy } : {}),
    Memory: memory,
    MemorySwap: memorySwap,
    NanoCpus: nanoCpus,
    CpuShares: clampShares(field<number>(hc, 'CpuShares', 'number', 'HostConfig') ?? 0),
    CpuQuota: cpuQuota,
    CpuPeriod: field<number>(hc, 'CpuPeriod', 'number', 'HostConfig') ?? 0,
    PidsLimit: field<number>(hc, 'PidsLimit', 'number', 'HostConfig') ?? null,
    CpusetCpus: field<string>(hc, 'CpusetCpus', 'string', 'HostConfig') ?? '',
    CpusetMems: field<string>(hc, 'CpusetMems', 'string', 'HostConfig') ?? '',
    CpuRealtimePeriod: field<number>(hc, 'CpuRealtimePeriod', 'number', 'HostConfig') ?? 0,
    CpuRealtimeRuntime: field<number>(hc, 'CpuRealtimeRuntime', 'number', 'HostConfig') ?? 0,
    Privileged: field<boolean>(hc, 'Privileged', 'boolean', 'HostConfig') ?? false,
    CapAdd: stringList(hc, 'CapAdd', 'HostConfig') ?? null,
    CapDrop: stringList(hc, 'CapDrop', 'HostConfig') ?? null,
    // Kept as sent: dockerd checks no name nor value at create; runc refuses a bad one at start.
    Ulimits: decodeUlimits(hc.Ulimits),
    Devices: field<unknown[]>(hc, 'Devices', 'array', 'HostConfig') ?? [],
    DeviceCgroupRules: stringList(hc, 'DeviceCgroupRules', 'HostConfig') ?? null,
  };
  checkCapabilities(hostConfig.CapAdd, hostConfig.CapDrop);
  checkDeviceMappings(hostConfig.Devices as unknown[]);
  // Kept as given (inspect shows them so); a bad one fails the create with dockerd's words.
  parseSecurityOpt(stringList(hc, 'SecurityOpt', 'HostConfig'));

  return {
    Id: id,
    Name: `/${name}`,
    Created: nowNano(),
    Path: argv[0],
    Args: argv.slice(1),
    Image: image.id,
    Config: config,
    HostConfig: hostConfig,
    State: initialState(),
    RestartCount: 0,
    Sandbox: null,
    Networks: endpoints,
  };
}
