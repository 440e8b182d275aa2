// Docker's JSON shapes for containers: GET /containers/{id}/json and the items of GET /containers/json.
// Keys are in Docker's order: the docker CLI prints inspect output as it receives it.
import { MASKED_PATHS, READONLY_PATHS } from '../runtime/defaults';
import { humanDuration } from '../util/units';
import { ContainerMounts } from '../volumes/container-mounts';
import type { ContainerRecord } from './record';
import { ZERO_TIME } from './record';

export interface InspectContext {
  containerDir: string;
  logPath: string;
  layerDirs: string[];
  bridgeNetworkId: string;
  cgroupVersion: 1 | 2;
  execIds: string[];
}

function hostConfigDefaults(cgroupVersion: 1 | 2): Record<string, unknown> {
  return {
    Binds: null,
    ContainerIDFile: '',
    LogConfig: { Type: 'json-file', Config: {} },
    NetworkMode: 'default',
    PortBindings: {},
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: false,
    VolumeDriver: '',
    VolumesFrom: null,
    ConsoleSize: [0, 0],
    CapAdd: null,
    CapDrop: null,
    CgroupnsMode: cgroupVersion === 2 ? 'private' : 'host',
    Dns: [],
    DnsOptions: [],
    DnsSearch: [],
    ExtraHosts: null,
    GroupAdd: null,
    IpcMode: 'private',
    Cgroup: '',
    Links: null,
    OomScoreAdj: 0,
    PidMode: '',
    Privileged: false,
    PublishAllPorts: false,
    ReadonlyRootfs: false,
    SecurityOpt: null,
    UTSMode: '',
    UsernsMode: '',
    ShmSize: 67108864,
    Runtime: 'runc',
    Isolation: '',
    CpuShares: 0,
    Memory: 0,
    NanoCpus: 0,
    CgroupParent: '',
    BlkioWeight: 0,
    BlkioWeightDevice: [],
    BlkioDeviceReadBps: [],
    BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [],
    BlkioDeviceWriteIOps: [],
    CpuPeriod: 0,
    CpuQuota: 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: '',
    CpusetMems: '',
    Devices: [],
    DeviceCgroupRules: null,
    DeviceRequests: null,
    MemoryReservation: 0,
    MemorySwap: 0,
    MemorySwappiness: null,
    OomKillDisable: null,
    PidsLimit: null,
    Ulimits: null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    MaskedPaths: MASKED_PATHS,
    ReadonlyPaths: READONLY_PATHS,
  };
}

/** Docker's defaults in Docker's order, overlaid with what the client sent (unknown keys last). */
function hostConfig(c: ContainerRecord, cgroupVersion: 1 | 2): Record<string, unknown> {
  const out = hostConfigDefaults(cgroupVersion);
  for (const [k, v] of Object.entries(c.HostConfig)) if (v !== undefined && (v !== null || !(k in out))) out[k] = v;
  if (c.HostConfig.Memory > 0 && !c.HostConfig.MemorySwap) out.MemorySwap = c.HostConfig.Memory * 2;
  // As dockerd stores them: no limit is null, -1 swappiness is unset, OomKillDisable a plain bool.
  if (typeof out.PidsLimit === 'number' && out.PidsLimit <= 0) out.PidsLimit = null;
  if (out.MemorySwappiness === -1) out.MemorySwappiness = null;
  if (out.OomKillDisable === null) out.OomKillDisable = false;
  for (const [key, fallback] of [['Runtime', 'runc'], ['IpcMode', 'private']] as const) if (!out[key]) out[key] = fallback;
  if (!out.ShmSize) out.ShmSize = 67108864;
  // The CLI sends an empty log driver; the daemon's default fills it in.
  const logConfig = out.LogConfig as { Type?: string; Config?: object } | undefined;
  if (!logConfig?.Type) out.LogConfig = { Type: 'json-file', Config: logConfig?.Config ?? {} };
  return out;
}

function endpointSettings(c: ContainerRecord, networkId: string): Record<string, unknown> {
  const ep = c.Sandbox?.endpoint;
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    NetworkID: networkId,
    EndpointID: ep?.endpointId ?? '',
    Gateway: ep?.gateway ?? '',
    IPAddress: ep?.ipAddress ?? '',
    IPPrefixLen: ep?.prefixLen ?? 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    MacAddress: ep?.macAddress ?? '',
    DriverOpts: null,
  };
}

/** The network name a container is on, for Networks maps. */
function networkName(c: ContainerRecord): string | null {
  const mode = c.HostConfig.NetworkMode;
  if (mode === 'none') return 'none';
  if (mode === 'host') return 'host';
  return 'bridge';
}

function networks(c: ContainerRecord, bridgeId: string): Record<string, unknown> {
  const name = networkName(c);
  if (!name) return {};
  // host and none have fixed IDs in Docker; berth derives them from the bridge's for stability.
  return { [name]: endpointSettings(c, name === 'bridge' ? bridgeId : '') };
}

export function inspectContainer(c: ContainerRecord, ctx: InspectContext): Record<string, unknown> {
  const ep = c.Sandbox?.endpoint;
  const upper = `${ctx.containerDir}/rw/upper`;
  const started = c.State.StartedAt !== ZERO_TIME;
  return {
    Id: c.Id,
    Created: c.Created,
    Path: c.Path,
    Args: c.Args,
    State: c.State,
    Image: c.Image,
    // Docker fills these in at the first start.
    ResolvConfPath: started ? `${ctx.containerDir}/resolv.conf` : '',
    HostnamePath: started ? `${ctx.containerDir}/hostname` : '',
    HostsPath: started ? `${ctx.containerDir}/hosts` : '',
    LogPath: started ? ctx.logPath : '',
    Name: c.Name,
    RestartCount: c.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: ctx.execIds.length ? ctx.execIds : null,
    HostConfig: hostConfig(c, ctx.cgroupVersion),
    GraphDriver: {
      Data: {
        LowerDir: [...ctx.layerDirs].reverse().join(':'),
        MergedDir: `${ctx.containerDir}/rw/merged`,
        UpperDir: upper,
        WorkDir: `${ctx.containerDir}/rw/work`,
      },
      Name: 'overlay2',
    },
    Mounts: ContainerMounts.inspectView(c),
    Config: c.Config,
    NetworkSettings: {
      Bridge: '',
      SandboxID: c.Sandbox?.key ? c.Id : '',
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      Ports: {},
      SandboxKey: c.Sandbox?.key ?? '',
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: ep?.endpointId ?? '',
      Gateway: ep?.gateway ?? '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: ep?.ipAddress ?? '',
      IPPrefixLen: ep?.prefixLen ?? 0,
      IPv6Gateway: '',
      MacAddress: ep?.macAddress ?? '',
      Networks: networks(c, ctx.bridgeNetworkId),
    },
  };
}

/** State.String() of moby: the STATUS column of `docker ps`. */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.State;
  if (s.Running) {
    const up = humanDuration(now - Date.parse(s.StartedAt));
    return s.Paused ? `Up ${up} (Paused)` : `Up ${up}`;
  }
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Dead) return 'Dead';
  if (s.StartedAt === ZERO_TIME) return 'Created';
  if (s.FinishedAt === ZERO_TIME) return '';
  return `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
}

/** Path and arguments as `docker ps` shows them: arguments with spaces in single quotes. */
export function commandLine(c: ContainerRecord): string {
  return [c.Path, ...c.Args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
}

export function summarizeContainer(c: ContainerRecord, bridgeId: string): Record<string, unknown> {
  return {
    Id: c.Id,
    Names: [c.Name],
    Image: c.Config.Image,
    ImageID: c.Image,
    Command: commandLine(c),
    Created: Math.floor(Date.parse(c.Created) / 1000),
    Ports: [],
    Labels: c.Config.Labels,
    State: c.State.Status,
    Status: statusText(c),
    HostConfig: { NetworkMode: c.HostConfig.NetworkMode },
    NetworkSettings: { Networks: networks(c, bridgeId) },
    Mounts: ContainerMounts.inspectView(c),
  };
}
