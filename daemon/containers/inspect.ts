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
  /** ID of a network by name ('' when it is gone). */
  networkId(name: string): string;
  cgroupVersion: 1 | 2;
  execIds: string[];
  /** HostConfig.Ulimits with the daemon's defaults merged in, as dockerd's inspect shows them. */
  ulimits: unknown[] | null;
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
function hostConfig(c: ContainerRecord, ctx: InspectContext): Record<string, unknown> {
  const out = hostConfigDefaults(ctx.cgroupVersion);
  for (const [k, v] of Object.entries(c.HostConfig)) if (v !== undefined && (v !== null || !(k in out))) out[k] = v;
  out.Ulimits = ctx.ulimits;
  if (c.HostConfig.Memory > 0 && !c.HostConfig.MemorySwap) out.MemorySwap = c.HostConfig.Memory * 2;
  // As dockerd stores them: no limit is null, -1 swappiness is unset, OomKillDisable a plain bool.
  if (typeof out.PidsLimit === 'number' && out.PidsLimit <= 0) out.PidsLimit = null;
  if (out.MemorySwappiness === -1) out.MemorySwappiness = null;
  if (out.OomKillDisable === null) out.OomKillDisable = false;
  for (const [key, fallback] of [['Runtime', 'runc'], ['IpcMode', 'private']] as const) if (!out[key]) out[key] = fallback;
  if (!out.ShmSize) out.ShmSize = 67108864;
  // dockerd fills in the default masked and read-only paths only for a container that is not privileged.
  if (c.HostConfig.Privileged) for (const key of ['MaskedPaths', 'ReadonlyPaths']) out[key] = c.HostConfig[key] ?? null;
  // The CLI sends an empty log driver; the daemon's default fills it in.
  const logConfig = out.LogConfig as { Type?: string; Config?: object } | undefined;
  if (!logConfig?.Type) out.LogConfig = { Type: 'json-file', Config: logConfig?.Config ?? {} };
  return out;
}

/** moby's NetworkMode.IsUserDefined: any network but the built-in ones. */
const BUILTIN_NETWORKS = new Set(['default', 'bridge', 'host', 'none']);

/**
 * An endpoint's Aliases as dockerd answers API < 1.45: on a user-defined network the container's
 * short ID and hostname follow the ones asked for (dockerd 20.10-24 stored them at connect,
 * 25+ adds them to the answer), once each.
 */
function aliases(c: ContainerRecord, network: string, asked: string[] | null | undefined): string[] | null {
  if (BUILTIN_NETWORKS.has(network)) return asked ?? null;
  return [...new Set([...(asked ?? []), c.Id.slice(0, 12), c.Config.Hostname])];
}

function endpointSettings(c: ContainerRecord, name: string, networkId: string): Record<string, unknown> {
  const ep = c.Sandbox?.endpoints?.find((e) => e.networkName === name);
  const cfg = c.Networks?.[name];
  return {
    IPAMConfig: cfg?.IPAMConfig ?? null,
    Links: cfg?.Links ?? null,
    Aliases: aliases(c, name, cfg?.Aliases),
    NetworkID: networkId,
    EndpointID: ep?.endpointId ?? (name === c.Sandbox?.mode ? c.Sandbox.builtinEndpointId : undefined) ?? '',
    Gateway: ep?.gateway ?? '',
    IPAddress: ep?.ipAddress ?? '',
    IPPrefixLen: ep?.prefixLen ?? 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    MacAddress: ep?.macAddress ?? '',
    DriverOpts: cfg?.DriverOpts ?? null,
    DNSNames: ep?.dnsNames.length ? ep.dnsNames : null,
  };
}

/** NetworkSettings.Networks: every network the container is on; empty for container:X. */
function networks(c: ContainerRecord, networkIds: (name: string) => string): Record<string, unknown> {
  if (c.HostConfig.NetworkMode.startsWith('container:')) return {};
  const configured = c.Networks && Object.keys(c.Networks).length ? c.Networks : { [c.HostConfig.NetworkMode === 'host' || c.HostConfig.NetworkMode === 'none' ? c.HostConfig.NetworkMode : 'bridge']: {} };
  const out: Record<string, unknown> = {};
  for (const [name, cfg] of Object.entries(configured)) out[name] = endpointSettings(c, name, cfg.NetworkID ?? networkIds(name));
  return out;
}

interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/** NetworkSettings.Ports of a running container: every exposed or published port, bound or null. */
function ports(c: ContainerRecord): Record<string, PortBinding[] | null> {
  if (!c.State.Running || !c.Sandbox || c.Sandbox.mode === 'host' || c.Sandbox.mode === 'container') return {};
  const out: Record<string, PortBinding[] | null> = {};
  const keys = [...Object.keys(c.Config.ExposedPorts ?? {}), ...Object.keys((c.HostConfig.PortBindings as object | null) ?? {})];
  for (const k of keys) out[k.includes('/') ? k : `${k}/tcp`] = null;
  for (const m of c.Sandbox.ports ?? []) (out[`${m.containerPort}/${m.proto}`] ??= [])!.push({ HostIp: m.hostIp, HostPort: String(m.hostPort) });
  return out;
}

export function inspectContainer(c: ContainerRecord, ctx: InspectContext): Record<string, unknown> {
  // The top-level fields describe the default bridge endpoint only, as in Docker.
  const ep = c.Sandbox?.endpoints?.find((e) => e.networkId === ctx.bridgeNetworkId);
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
    HostConfig: hostConfig(c, ctx),
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
      Ports: ports(c),
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
      Networks: networks(c, ctx.networkId),
    },
  };
}

/** State.String() of moby: the STATUS column of `docker ps`. */
export function statusText(c: ContainerRecord, now = Date.now()): string {
  const s = c.State;
  if (s.Running) {
    const up = humanDuration(now - Date.parse(s.StartedAt));
    if (s.Paused) return `Up ${up} (Paused)`;
    if (s.Restarting) return `Restarting (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
    if (s.Health) return `Up ${up} (${s.Health.Status === 'starting' ? 'health: starting' : s.Health.Status})`;
    return `Up ${up}`;
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

/** The Ports of GET /containers/json: published ports with their host side, exposed ones without. */
function portList(c: ContainerRecord): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const [key, bindings] of Object.entries(ports(c))) {
    const [port, proto] = key.split('/');
    if (!bindings) out.push({ PrivatePort: Number(port), Type: proto });
    else for (const b of bindings) out.push({ IP: b.HostIp, PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: proto });
  }
  return out;
}

/**
 * The Image of a list item as dockerd gives it: the reference the container was made from while
 * it still names the container's image, else the image ID (after a forced untag or a re-tag).
 */
function listedImage(c: ContainerRecord, imageIdOf: (ref: string) => string | undefined): string {
  const ref = c.Config.Image;
  if (ref === c.Image) return ref;
  let current: string | undefined;
  try {
    current = imageIdOf(ref);
  } catch {
    current = undefined;
  }
  return current === c.Image ? ref : c.Image;
}

export function summarizeContainer(c: ContainerRecord, networkId: (name: string) => string, imageIdOf: (ref: string) => string | undefined): Record<string, unknown> {
  return {
    Id: c.Id,
    Names: [c.Name],
    Image: listedImage(c, imageIdOf),
    ImageID: c.Image,
    Command: commandLine(c),
    Created: Math.floor(Date.parse(c.Created) / 1000),
    Ports: portList(c),
    Labels: c.Config.Labels,
    State: c.State.Status,
    Status: statusText(c),
    HostConfig: { NetworkMode: c.HostConfig.NetworkMode },
    NetworkSettings: { Networks: networks(c, networkId) },
    Mounts: ContainerMounts.inspectView(c),
  };
}
