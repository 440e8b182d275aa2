// /etc/hostname, /etc/hosts and /etc/resolv.conf as Docker writes them for a container.
import { readFileSync } from 'fs';
import type { ContainerRecord } from '../containers/record';
import type { Sandbox } from '../network/manager';

const HOSTS_BASE = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
`;

const FALLBACK_NAMESERVERS = ['8.8.8.8', '8.8.4.4'];

/** What the files need beyond the container itself, gathered by the caller at start. */
export interface EtcContext {
  /** /etc/hosts lines for --link targets ("ip\talias id name"). */
  links: string[];
  /** The embedded DNS on user networks (the network's gateway). */
  nameserver?: string;
  /** The daemon's --dns servers, used where the container sets none. */
  daemonDns: string[];
  /** What "host-gateway" in --add-host stands for. */
  hostGateway: string;
  /** container:X shares X's files. */
  shared?: { hosts: string; resolv: string };
}

export function etcFiles(c: ContainerRecord, sandbox: Sandbox, ctx: EtcContext): Record<'hostname' | 'hosts' | 'resolv.conf', string> {
  const hostname = c.Config.Domainname ? `${c.Config.Hostname}.${c.Config.Domainname}` : c.Config.Hostname;
  if (ctx.shared) return { hostname: `${hostname}\n`, hosts: ctx.shared.hosts, 'resolv.conf': ctx.shared.resolv };
  const extra = ((c.HostConfig.ExtraHosts as string[] | null | undefined) ?? []).map((h) => {
    const i = h.indexOf(':');
    const ip = h.slice(i + 1);
    return `${ip === 'host-gateway' ? ctx.hostGateway : ip}\t${h.slice(0, i)}\n`;
  });
  const hostResolv = readOr('/etc/resolv.conf', '');
  if (sandbox.mode === 'host') {
    return { hostname: readOr('/etc/hostname', `${hostname}\n`), hosts: readOr('/etc/hosts', HOSTS_BASE) + extra.join(''), 'resolv.conf': resolvConf(c, hostResolv, ctx) };
  }
  const ip = sandbox.endpoints[0]?.ipAddress;
  return {
    hostname: `${hostname}\n`,
    hosts: HOSTS_BASE + extra.join('') + ctx.links.map((l) => `${l}\n`).join('') + (ip ? `${ip}\t${hostname}\n` : ''),
    'resolv.conf': resolvConf(c, hostResolv, ctx),
  };
}

/** --dns, --dns-search and --dns-option over the embedded DNS, the daemon's --dns or the host's file. */
function resolvConf(c: ContainerRecord, host: string, ctx: EtcContext): string {
  const dns = (c.HostConfig.Dns as string[] | undefined) ?? [];
  const search = (c.HostConfig.DnsSearch as string[] | undefined) ?? [];
  const options = (c.HostConfig.DnsOptions as string[] | undefined) ?? [];
  const servers = ctx.nameserver ? [ctx.nameserver] : dns.length ? dns : ctx.daemonDns;
  if (!servers.length && !search.length && !options.length) return containerResolvConf(host);
  const hostLines = host.split('\n');
  const pick = (key: string): string[] => hostLines.filter((l) => new RegExp(`^\\s*${key}\\s`).test(l)).map((l) => l.trim().split(/\s+/).slice(1)).flat();
  const nameservers = servers.length ? servers : hostUpstreamsOrFallback(host);
  const searchList = search.length ? search : pick('search');
  const optionList = options.length ? options : ctx.nameserver ? ['ndots:0'] : pick('options');
  return [
    ...(searchList.length && !(searchList.length === 1 && searchList[0] === '.') ? [`search ${searchList.join(' ')}`] : []),
    ...nameservers.map((n) => `nameserver ${n}`),
    ...(optionList.length ? [`options ${optionList.join(' ')}`] : []),
  ].join('\n') + '\n';
}

function hostUpstreamsOrFallback(host: string): string[] {
  const found = host.split('\n').map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1]).filter((n): n is string => !!n && !/^(127\.|::1$)/.test(n));
  return found.length ? found : FALLBACK_NAMESERVERS;
}

/** The host's resolv.conf without loopback nameservers (unreachable from the container), with Google's as fallback. */
export function containerResolvConf(host: string): string {
  const lines = host.split('\n');
  const kept = lines.filter((l) => !/^\s*nameserver\s+(127\.|::1\b)/.test(l));
  const hasNameserver = kept.some((l) => /^\s*nameserver\s/.test(l));
  const body = kept.join('\n').replace(/\n*$/, '\n');
  if (hasNameserver) return body;
  return (body.trim() ? body : '') + FALLBACK_NAMESERVERS.map((n) => `nameserver ${n}`).join('\n') + '\n';
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}
