// System commands: version, info, and inspect (containers, images, networks, volumes).

import { statSync } from 'fs';
import { API_VERSION, ApiError, CLIENT_VERSION } from '../api';
import { StatusError, println, type Cli } from '../cli';
import { compactJSON, indentJSON } from '../format/json';
import { bytesSize } from '../format/size';
import { TabWriter } from '../format/table';
import { STRICT, TemplateError, parseTemplate, type Func } from '../format/template';
import { ansic } from '../format/time';

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

interface ServerVersion {
  Platform?: { Name?: string };
  Components?: Array<{ Name: string; Version: string; Details?: Record<string, string> }> | null;
  Version?: string;
  ApiVersion?: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os?: string;
  Arch?: string;
  KernelVersion?: string;
  Experimental?: boolean;
  BuildTime?: string;
}

/** When this client was built: the compiled file's modification time, as ANSIC. */
function buildTime(): string {
  try {
    return ansic(statSync(__filename).mtime.toISOString().replace(/\.\d+Z$/, 'Z'));
  } catch {
    return '';
  }
}

function clientVersion(): Record<string, string> {
  return {
    Version: CLIENT_VERSION,
    ApiVersion: API_VERSION,
    DefaultAPIVersion: API_VERSION,
    GitCommit: 'unknown',
    GoVersion: process.version,
    Os: process.platform,
    Arch: GOARCH[process.arch] ?? process.arch,
    BuildTime: buildTime(),
    Context: 'default',
  };
}

function withEngineComponent(sv: ServerVersion): ServerVersion {
  const components = (sv.Components ?? []).map((c) => (c.Name === 'Engine' && c.Details?.BuildTime ? { ...c, Details: { ...c.Details, BuildTime: ansic(c.Details.BuildTime) } } : c));
  if (!components.some((c) => c.Name === 'Engine')) {
    components.push({
      Name: 'Engine',
      Version: sv.Version ?? '',
      Details: {
        ApiVersion: sv.ApiVersion ?? '',
        MinAPIVersion: sv.MinAPIVersion ?? '',
        GitCommit: sv.GitCommit ?? '',
        GoVersion: sv.GoVersion ?? '',
        Os: sv.Os ?? '',
        Arch: sv.Arch ?? '',
        BuildTime: ansic(sv.BuildTime ?? ''),
        Experimental: String(Boolean(sv.Experimental)),
      },
    });
  }
  return { ...sv, Components: components };
}

/** The default `version` text (the docker CLI's defaultVersionTemplate), before alignment. */
export function versionText(client: Record<string, string>, server: ServerVersion | undefined): string {
  let s = 'Client:\n';
  s += ` Version:\t${client.Version}\n`;
  s += ` API version:\t${client.ApiVersion}${client.ApiVersion !== client.DefaultAPIVersion ? ` (downgraded from ${client.DefaultAPIVersion})` : ''}\n`;
  s += ` Node version:\t${client.GoVersion}\n`;
  s += ` Git commit:\t${client.GitCommit}\n`;
  s += ` Built:\t${client.BuildTime}\n`;
  s += ` OS/Arch:\t${client.Os}/${client.Arch}\n`;
  s += ` Context:\t${client.Context}`;
  if (server) {
    s += `\n\nServer:${server.Platform?.Name ? ` ${server.Platform.Name}` : ''}`;
    for (const c of server.Components ?? []) {
      s += `\n ${c.Name}:`;
      const d = c.Details ?? {};
      if (c.Name === 'Engine') {
        s += `\n  Version:\t${c.Version}`;
        s += `\n  API version:\t${d.ApiVersion ?? ''} (minimum version ${d.MinAPIVersion ?? ''})`;
        s += `\n  Go version:\t${d.GoVersion ?? ''}`;
        s += `\n  Git commit:\t${d.GitCommit ?? ''}`;
        s += `\n  Built:\t${d.BuildTime ?? ''}`;
        s += `\n  OS/Arch:\t${d.Os ?? ''}/${d.Arch ?? ''}`;
        s += `\n  Experimental:\t${d.Experimental ?? ''}`;
      } else {
        s += `\n  Version:\t${c.Version}`;
        for (const k of Object.keys(d).sort()) s += `\n  ${k}:\t${d[k]}`;
      }
    }
  }
  return s + '\n';
}

function goStructView(raw: Record<string, unknown>, aliases: Record<string, string>): Record<string | symbol, unknown> {
  const o: Record<string | symbol, unknown> = { ...raw };
  for (const [goName, jsonName] of Object.entries(aliases)) if (!(goName in o)) o[goName] = raw[jsonName] ?? '';
  o[STRICT] = true;
  Object.defineProperty(o, 'toJSON', { enumerable: false, value: () => raw });
  return o;
}

export async function versionCommand(cli: Cli, flags: { format?: string }): Promise<void> {
  const client = clientVersion();
  let server: ServerVersion | undefined;
  let err: Error | undefined;
  try {
    server = withEngineComponent(await cli.api.json<ServerVersion>('GET', '/version'));
  } catch (e) {
    err = e as Error;
  }
  if (flags.format) {
    const format = flags.format === 'json' ? '{{json .}}' : flags.format;
    let tmpl;
    try {
      tmpl = parseTemplate(format, { funcs: { getDetailsOrder: ((c: { Details?: Record<string, string> }) => Object.keys(c?.Details ?? {}).sort()) as Func } });
    } catch (e) {
      throw new StatusError(64, `template parsing error: ${(e as Error).message}`);
    }
    const data = {
      Client: goStructView(client, { APIVersion: 'ApiVersion' }),
      Server: server ? goStructView(server as Record<string, unknown>, { APIVersion: 'ApiVersion' }) : null,
    };
    Object.defineProperty(data, 'toJSON', { enumerable: false, value: () => ({ Client: client, Server: server ?? null }) });
    try {
      cli.out.write(tmpl.execute(data) + '\n');
    } catch (e) {
      cli.out.write(((e as { partial?: string }).partial ?? '') + '\n');
      if (!err) throw new Error((e as Error).message);
    }
  } else {
    const tw = new TabWriter(20, 1, 1, ' ');
    tw.write(versionText(client, server));
    cli.out.write(tw.flush());
  }
  if (err) throw err;
}

// ---------------------------------------------------------------------------------------------
// info

interface Info {
  Containers?: number;
  ContainersRunning?: number;
  ContainersPaused?: number;
  ContainersStopped?: number;
  Images?: number;
  ServerVersion?: string;
  Driver?: string;
  DriverStatus?: Array<[string, string]> | null;
  SystemStatus?: Array<[string, string]> | null;
  LoggingDriver?: string;
  CgroupDriver?: string;
  CgroupVersion?: string;
  Plugins?: { Volume?: string[] | null; Network?: string[] | null; Authorization?: string[] | null; Log?: string[] | null };
  Swarm?: { LocalNodeState?: string; NodeID?: string; ControlAvailable?: boolean; Error?: string };
  Runtimes?: Record<string, unknown> | null;
  DefaultRuntime?: string;
  OSType?: string;
  InitBinary?: string;
  ContainerdCommit?: { ID?: string };
  RuncCommit?: { ID?: string };
  InitCommit?: { ID?: string };
  SecurityOptions?: string[] | null;
  KernelVersion?: string;
  OperatingSystem?: string;
  Architecture?: string;
  NCPU?: number;
  MemTotal?: number;
  Name?: string;
  ID?: string;
  DockerRootDir?: string;
  Debug?: boolean;
  NFd?: number;
  NGoroutines?: number;
  SystemTime?: string;
  NEventsListener?: number;
  HTTPProxy?: string;
  HTTPSProxy?: string;
  NoProxy?: string;
  Labels?: string[] | null;
  ExperimentalBuild?: boolean;
  RegistryConfig?: { InsecureRegistryCIDRs?: string[] | null; IndexConfigs?: Record<string, { Name: string; Secure: boolean }> | null; Mirrors?: string[] | null } | null;
  LiveRestoreEnabled?: boolean;
  ProductLicense?: string;
  DefaultAddressPools?: Array<{ Base: string; Size: number }> | null;
  Warnings?: string[] | null;
}

/** The docker CLI's prettyPrintServerInfo. */
export function infoText(info: Info): string {
  const lines: string[] = [];
  const ln = (...parts: unknown[]): void => {
    lines.push(parts.map((p) => String(p)).join(' '));
  };
  const nonEmpty = (label: string, v: string | undefined): void => {
    if (v) ln(label, v);
  };
  ln(' Containers:', info.Containers ?? 0);
  ln('  Running:', info.ContainersRunning ?? 0);
  ln('  Paused:', info.ContainersPaused ?? 0);
  ln('  Stopped:', info.ContainersStopped ?? 0);
  ln(' Images:', info.Images ?? 0);
  nonEmpty(' Server Version:', info.ServerVersion);
  nonEmpty(' Storage Driver:', info.Driver);
  for (const [k, v] of info.DriverStatus ?? []) lines.push(`  ${k}: ${v}`);
  for (const [k, v] of info.SystemStatus ?? []) lines.push(` ${k}: ${v}`);
  nonEmpty(' Logging Driver:', info.LoggingDriver);
  nonEmpty(' Cgroup Driver:', info.CgroupDriver);
  nonEmpty(' Cgroup Version:', info.CgroupVersion);
  ln(' Plugins:');
  ln('  Volume:', (info.Plugins?.Volume ?? []).join(' '));
  ln('  Network:', (info.Plugins?.Network ?? []).join(' '));
  if (info.Plugins?.Authorization?.length) ln('  Authorization:', info.Plugins.Authorization.join(' '));
  ln('  Log:', (info.Plugins?.Log ?? []).join(' '));
  const state = info.Swarm?.LocalNodeState ?? 'inactive';
  ln(' Swarm:', state);
  if (state !== 'inactive' && state !== 'locked') {
    ln('  NodeID:', info.Swarm?.NodeID ?? '');
    if (info.Swarm?.Error) ln('  Error:', info.Swarm.Error);
    ln('  Is Manager:', Boolean(info.Swarm?.ControlAvailable));
  }
  const runtimes = Object.keys(info.Runtimes ?? {}).sort();
  if (runtimes.length > 0) {
    ln(' Runtimes:', runtimes.join(' '));
    ln(' Default Runtime:', info.DefaultRuntime ?? '');
  }
  if (info.OSType === 'linux') {
    ln(' Init Binary:', info.InitBinary ?? '');
    ln(' containerd version:', info.ContainerdCommit?.ID ?? '');
    ln(' runc version:', info.RuncCommit?.ID ?? '');
    ln(' init version:', info.InitCommit?.ID ?? '');
    if (info.SecurityOptions?.length) {
      ln(' Security Options:');
      for (const so of info.SecurityOptions) {
        const kvs = Object.fromEntries(so.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
        lines.push('  ' + (kvs.name ?? so));
        if (kvs.profile) ln('   Profile:', kvs.profile);
      }
    }
  }
  nonEmpty(' Kernel Version:', info.KernelVersion);
  nonEmpty(' Operating System:', info.OperatingSystem);
  nonEmpty(' OSType:', info.OSType);
  nonEmpty(' Architecture:', info.Architecture);
  ln(' CPUs:', info.NCPU ?? 0);
  ln(' Total Memory:', bytesSize(info.MemTotal ?? 0));
  nonEmpty(' Name:', info.Name);
  nonEmpty(' ID:', info.ID);
  ln(' Docker Root Dir:', info.DockerRootDir ?? '');
  ln(' Debug Mode:', Boolean(info.Debug));
  if (info.Debug) {
    ln('  File Descriptors:', info.NFd ?? 0);
    ln('  Goroutines:', info.NGoroutines ?? 0);
    ln('  System Time:', info.SystemTime ?? '');
    ln('  EventsListeners:', info.NEventsListener ?? 0);
  }
  nonEmpty(' HTTP Proxy:', info.HTTPProxy);
  nonEmpty(' HTTPS Proxy:', info.HTTPSProxy);
  nonEmpty(' No Proxy:', info.NoProxy);
  if (info.Labels?.length) {
    ln(' Labels:');
    for (const l of info.Labels) lines.push('  ' + l);
  }
  ln(' Experimental:', Boolean(info.ExperimentalBuild));
  const reg = info.RegistryConfig;
  if (reg && ((reg.InsecureRegistryCIDRs?.length ?? 0) > 0 || Object.keys(reg.IndexConfigs ?? {}).length > 0)) {
    ln(' Insecure Registries:');
    for (const ic of Object.values(reg.IndexConfigs ?? {})) if (!ic.Secure) lines.push('  ' + ic.Name);
    for (const cidr of reg.InsecureRegistryCIDRs ?? []) lines.push('  ' + cidr);
  }
  if (reg?.Mirrors?.length) {
    ln(' Registry Mirrors:');
    for (const m of reg.Mirrors) lines.push('  ' + m);
  }
  ln(' Live Restore Enabled:', Boolean(info.LiveRestoreEnabled));
  if (info.ProductLicense) ln(' Product License:', info.ProductLicense);
  if (info.DefaultAddressPools?.length) {
    ln(' Default Address Pools:');
    for (const p of info.DefaultAddressPools) lines.push(`   Base: ${p.Base}, Size: ${p.Size}`);
  }
  return lines.join('\n') + '\n\n';
}

export async function infoCommand(cli: Cli, flags: { format?: string }): Promise<void> {
  const clientInfo = { Version: CLIENT_VERSION, Context: 'default', Debug: false, Plugins: [], Warnings: null };
  if (flags.format) {
    const format = flags.format === 'json' ? '{{json .}}' : flags.format;
    let tmpl;
    try {
      tmpl = parseTemplate(format);
    } catch (e) {
      throw new StatusError(64, `template parsing error: ${(e as Error).message}`);
    }
    let info: Record<string, unknown> = {};
    const errors: string[] = [];
    try {
      info = await cli.api.json<Record<string, unknown>>('GET', '/info');
    } catch (e) {
      errors.push((e as Error).message);
    }
    const data = { ...info, ClientInfo: clientInfo, ClientErrors: null, ServerErrors: errors.length ? errors : null };
    try {
      cli.out.write(tmpl.execute(data) + '\n');
    } catch (e) {
      if (e instanceof TemplateError) throw new Error(e.message);
      throw e;
    }
    return;
  }
  let out = 'Client:\n';
  out += ` Version:    ${clientInfo.Version}\n`;
  out += ` Context:    ${clientInfo.Context}\n`;
  out += ` Debug Mode: ${clientInfo.Debug}\n`;
  out += '\nServer:\n';
  let info: Info;
  try {
    info = await cli.api.json<Info>('GET', '/info');
  } catch (e) {
    cli.out.write(out);
    println(cli.err, `ERROR: ${(e as Error).message}`);
    throw new Error('errors pretty printing info');
  }
  cli.out.write(out + infoText(info));
  for (const w of info.Warnings ?? []) println(cli.err, w);
}

// ---------------------------------------------------------------------------------------------
// inspect

type ObjectType = 'container' | 'image' | 'network' | 'volume';

const INSPECT_PATHS: Record<ObjectType, (ref: string) => string> = {
  container: (ref) => `/containers/${encodeURIComponent(ref)}/json`,
  image: (ref) => `/images/${ref}/json`,
  network: (ref) => `/networks/${encodeURIComponent(ref)}`,
  volume: (ref) => `/volumes/${encodeURIComponent(ref)}`,
};

function skippable(e: Error): boolean {
  return (e instanceof ApiError && e.statusCode === 404) || e.message.includes('not supported') || e.message.includes('invalid reference format');
}

/** Fields the Engine API types as Go maps: Go marshals their keys sorted. */
const MAP_FIELDS = new Set(['Labels', 'ExposedPorts', 'Volumes', 'PortBindings', 'Ports', 'Networks', 'Tmpfs', 'Sysctls', 'StorageOpt', 'Data', 'DriverOpts', 'Options', 'Annotations', 'Details']);

/** Sorts the keys of map-typed fields, so `{{json .Config.Labels}}` prints like the docker CLI. */
export function sortMapFields(v: unknown, isMap = false): unknown {
  if (Array.isArray(v)) return v.map((e) => sortMapFields(e));
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  const keys = isMap ? Object.keys(o).sort() : Object.keys(o);
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = sortMapFields(o[k], !isMap && MAP_FIELDS.has(k));
  return out;
}

export async function inspectCommand(cli: Cli, refs: string[], flags: { format?: string; type?: string; size?: boolean }, fixedType?: ObjectType): Promise<void> {
  const type = (fixedType ?? flags.type ?? '') as ObjectType | '';
  const valid = ['config', 'container', 'image', 'network', 'node', 'plugin', 'secret', 'service', 'task', 'volume'];
  if (type !== '' && !valid.includes(type)) throw new Error(`unknown type: "${type}": must be one of ${valid.map((v) => `"${v}"`).join(', ')}`);
  const format = flags.format ?? '';
  let tmpl;
  if (format !== '' && format !== 'json') {
    try {
      // The docker CLI falls back to the raw JSON with missingkey=error when its typed
      // structs do not have a field; the raw JSON is all we have.
      tmpl = parseTemplate(format, { missingKeyError: true });
    } catch (e) {
      throw new StatusError(64, `template parsing error: ${(e as Error).message}`);
    }
  }
  const order: ObjectType[] = type === '' ? ['container', 'image', 'network', 'volume'] : INSPECT_PATHS[type as ObjectType] ? [type as ObjectType] : [];
  const raws: string[] = [];
  let rendered = '';
  const errors: string[] = [];
  for (const ref of refs) {
    let raw: string | undefined;
    let found: ObjectType | undefined;
    let failure: Error | undefined;
    for (const t of order) {
      try {
        raw = await cli.api.text('GET', INSPECT_PATHS[t](ref), { query: t === 'container' && flags.size ? { size: 1 } : undefined });
        found = t;
        break;
      } catch (e) {
        if (type === '' && skippable(e as Error)) continue;
        failure = e as Error;
        break;
      }
    }
    if (raw === undefined) {
      errors.push(failure ? failure.message : `Error: No such object: ${ref}`);
      continue;
    }
    if (flags.size && found !== 'container') cli.err.write(`WARNING: --size ignored for ${found}\n`);
    if (!tmpl) {
      raws.push(raw);
      continue;
    }
    try {
      rendered += tmpl.execute(sortMapFields(JSON.parse(raw))) + '\n';
    } catch (e) {
      errors.push(`template parsing error: ${(e as Error).message}`);
    }
  }
  if (tmpl) {
    cli.out.write(rendered === '' ? '\n' : rendered);
  } else if (raws.length === 0) {
    cli.out.write('[]\n');
  } else {
    const joined = '[' + raws.join(',') + ']';
    cli.out.write((format === 'json' ? compactJSON(joined) : indentJSON(joined)) + '\n');
  }
  if (errors.length > 0) throw new StatusError(1, errors.join('\n'));
}
