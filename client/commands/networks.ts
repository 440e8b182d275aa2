// Network commands (create, ls, rm, prune, connect, disconnect) and `port`, printing what the
// docker CLI prints.

import { println, StatusError, type Cli } from '../cli';
import { FormatError, makeContext, renderRows, type RowContext } from '../format/context';
import { kvToMap, parseFilters } from '../opts';
import { confirm } from './volumes';

interface Network {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv6: boolean;
  Internal: boolean;
  Labels?: Record<string, string> | null;
}

const NETWORK_HEADERS: Record<string, string> = {
  ID: 'NETWORK ID',
  Name: 'NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  IPv6: 'IPV6',
  Internal: 'INTERNAL',
  Labels: 'LABELS',
  CreatedAt: 'CREATED AT',
};

/** The docker CLI's networkContext. */
function networkContext(n: Network, trunc: boolean): RowContext {
  return makeContext('*formatter.networkContext', {
    ID: () => (trunc ? n.Id.slice(0, 12) : n.Id),
    Name: () => n.Name,
    Driver: () => n.Driver,
    Scope: () => n.Scope,
    IPv6: () => String(n.EnableIPv6),
    Internal: () => String(n.Internal),
    Labels: () =>
      Object.entries(n.Labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .sort()
        .join(','),
    Label: (name: string) => n.Labels?.[name] ?? '',
    CreatedAt: () => n.Created,
  });
}

const natural = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

export interface NetworkCreateFlags {
  driver?: string;
  subnet?: string[];
  gateway?: string[];
  ipRange?: string[];
  internal?: boolean;
  attachable?: boolean;
  label?: string[];
  opt?: string[];
  ipamDriver?: string;
  ipamOpt?: string[];
  ipv6?: boolean;
}

function inSubnet(subnet: string, ip: string): boolean {
  const toInt = (a: string): number => a.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
  const [net, bits] = subnet.split('/');
  const size = 2 ** (32 - Number(bits));
  const base = Math.floor(toInt(net) / size) * size;
  const n = toInt(ip);
  return n >= base && n < base + size;
}

export async function networkCreateCommand(cli: Cli, name: string, flags: NetworkCreateFlags): Promise<void> {
  const subnets = flags.subnet ?? [];
  const gateways = flags.gateway ?? [];
  const ranges = flags.ipRange ?? [];
  // The docker CLI pairs gateways and ranges with their subnets before it asks the daemon.
  if (gateways.length > subnets.length || ranges.length > subnets.length) throw new Error('every ip-range or gateway must have a corresponding subnet');
  const config = subnets.map((s) => {
    const c: Record<string, string> = { Subnet: s };
    const valid = /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(s);
    const gw = gateways.find((g) => valid && inSubnet(s, g));
    const range = ranges.find((r) => valid && inSubnet(s, r.split('/')[0]));
    if (range) c.IPRange = range;
    if (gw) c.Gateway = gw;
    return c;
  });
  for (const g of gateways) if (!config.some((c) => c.Gateway === g)) throw new Error(`no matching subnet for gateway ${g}`);
  for (const r of ranges) if (!config.some((c) => c.IPRange === r)) throw new Error(`no matching subnet for range ${r}`);
  const res = await cli.api.json<{ Id: string }>('POST', '/networks/create', {
    body: {
      Name: name,
      CheckDuplicate: true,
      Driver: flags.driver ?? 'bridge',
      Internal: Boolean(flags.internal),
      Attachable: Boolean(flags.attachable),
      EnableIPv6: Boolean(flags.ipv6),
      IPAM: { Driver: flags.ipamDriver ?? 'default', Config: config, Options: kvToMap(flags.ipamOpt ?? []) },
      Options: kvToMap(flags.opt ?? []),
      Labels: kvToMap(flags.label ?? []),
    },
  });
  println(cli.out, res.Id);
}

export async function networkLsCommand(cli: Cli, flags: { quiet?: boolean; format?: string; filter?: string[]; noTrunc?: boolean }): Promise<void> {
  const list = await cli.api.json<Network[]>('GET', '/networks', { query: { filters: parseFilters(flags.filter ?? []) } });
  list.sort((a, b) => natural(a.Name, b.Name));
  let format = flags.format || 'table';
  if (flags.quiet) format = format === 'table' || !flags.format ? '{{.ID}}' : format;
  if (format === 'table') format = 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}';
  try {
    cli.out.write(renderRows(format, list.map((n) => networkContext(n, !flags.noTrunc)), NETWORK_HEADERS));
  } catch (e) {
    if (e instanceof FormatError) throw new StatusError(64, e.message);
    throw e;
  }
}

export async function networkRmCommand(cli: Cli, names: string[], flags: { force?: boolean }): Promise<void> {
  let failed = false;
  for (const name of names) {
    try {
      const r = await cli.api.request('DELETE', `/networks/${encodeURIComponent(name)}`);
      await r.body.text();
      println(cli.out, name);
    } catch (e) {
      // --force: a network that is not there is no failure.
      if (flags.force && /not found/.test((e as Error).message)) continue;
      cli.err.write(`${(e as Error).message}\n`);
      failed = true;
    }
  }
  // The docker CLI reports each failure, then its status error.
  if (failed) throw new StatusError(1, 'exit status 1');
}

export async function networkPruneCommand(cli: Cli, flags: { force?: boolean; filter?: string[] }): Promise<void> {
  if (!flags.force && !(await confirm(cli, 'WARNING! This will remove all custom networks not used by at least one container.'))) return;
  const r = await cli.api.json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', { query: { filters: parseFilters(flags.filter ?? []) } });
  const deleted = r.NetworksDeleted ?? [];
  if (deleted.length) println(cli.out, `Deleted Networks:\n${deleted.map((d) => d + '\n').join('')}`);
}

export async function networkConnectCommand(cli: Cli, network: string, container: string, flags: { alias?: string[]; ip?: string; link?: string[] }): Promise<void> {
  // The docker CLI's body: an IPAMConfig and DriverOpts always, empty Aliases without --alias (the daemon keeps them as sent).
  const endpoint = { IPAMConfig: flags.ip ? { IPv4Address: flags.ip } : {}, Links: flags.link?.length ? flags.link : null, Aliases: flags.alias ?? [], DriverOpts: {} };
  const r = await cli.api.request('POST', `/networks/${encodeURIComponent(network)}/connect`, { body: { Container: container, EndpointConfig: endpoint } });
  await r.body.text();
}

export async function networkDisconnectCommand(cli: Cli, network: string, container: string, flags: { force?: boolean }): Promise<void> {
  const r = await cli.api.request('POST', `/networks/${encodeURIComponent(network)}/disconnect`, { body: { Container: container, Force: Boolean(flags.force) } });
  await r.body.text();
}

type PortMap = Record<string, Array<{ HostIp: string; HostPort: string }> | null>;

/** `port CONTAINER [PRIVATE_PORT[/PROTO]]`: the container's published ports, as the docker CLI sorts them. */
export async function portCommand(cli: Cli, container: string, spec: string | undefined): Promise<void> {
  const c = await cli.api.json<{ NetworkSettings?: { Ports?: PortMap } }>('GET', `/containers/${encodeURIComponent(container)}/json`);
  const ports = c.NetworkSettings?.Ports ?? {};
  const addr = (b: { HostIp: string; HostPort: string }): string => (b.HostIp.includes(':') ? `[${b.HostIp}]:${b.HostPort}` : `${b.HostIp}:${b.HostPort}`);
  if (spec) {
    const [port, proto = 'tcp'] = spec.split('/');
    if (!/^\d+$/.test(port)) throw new Error(`Error: invalid port (${port}): invalid syntax`);
    const key = `${port}/${proto}`;
    const bindings = ports[key];
    if (!bindings?.length) throw new Error(`Error: No public port '${spec}' published for ${container}`);
    for (const b of bindings) println(cli.out, addr(b));
    return;
  }
  const lines: string[] = [];
  for (const [key, bindings] of Object.entries(ports)) for (const b of bindings ?? []) lines.push(`${key} -> ${addr(b)}`);
  lines.sort((a, b) => natural(a, b));
  for (const l of lines) println(cli.out, l);
}
