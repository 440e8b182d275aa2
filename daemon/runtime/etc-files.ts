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

export function etcFiles(c: ContainerRecord, sandbox: Sandbox): Record<'hostname' | 'hosts' | 'resolv.conf', string> {
  const hostname = c.Config.Domainname ? `${c.Config.Hostname}.${c.Config.Domainname}` : c.Config.Hostname;
  if (sandbox.mode === 'host') {
    return { hostname: readOr('/etc/hostname', `${hostname}\n`), hosts: readOr('/etc/hosts', HOSTS_BASE), 'resolv.conf': readOr('/etc/resolv.conf', '') };
  }
  const ip = sandbox.endpoint?.ipAddress;
  return {
    hostname: `${hostname}\n`,
    hosts: HOSTS_BASE + (ip ? `${ip}\t${hostname}\n` : ''),
    'resolv.conf': containerResolvConf(readOr('/etc/resolv.conf', '')),
  };
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
