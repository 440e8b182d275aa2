// Where a reference's registry is reached: Docker Hub through the configured mirrors first, plain
// HTTP for loopback and `insecure-registries` entries, HTTPS for everything else.
import { isIP } from 'net';

export interface RegistryConfig {
  /** Hosts (host[:port]) or IPv4 CIDRs reached over plain HTTP. */
  insecureRegistries: string[];
  /** Docker Hub mirrors, full URLs (http://host:port or https://host). */
  registryMirrors: string[];
}

export interface Endpoint {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:5000. */
  url: string;
  mirror: boolean;
}

export const DOCKER_HUB = 'docker.io';
const HUB_URL = 'https://registry-1.docker.io';

function hostOnly(domain: string): string {
  if (domain.startsWith('[')) return domain.slice(1, domain.indexOf(']'));
  const colon = domain.lastIndexOf(':');
  return colon > 0 && !domain.slice(0, colon).includes(':') ? domain.slice(0, colon) : domain;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, p) => (n << 8) + Number(p), 0) >>> 0;
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  if (isIP(net) !== 4 || isIP(ip) !== 4) return false;
  const n = Number(bits);
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return (ipv4ToInt(ip) & mask) === (ipv4ToInt(net) & mask);
}

/** Docker's rule: loopback is always insecure, and so are the configured hosts and CIDRs. */
export function isInsecure(domain: string, cfg: RegistryConfig): boolean {
  const host = hostOnly(domain);
  if (host === 'localhost' || host === '::1' || inCidr(host, '127.0.0.0/8')) return true;
  return cfg.insecureRegistries.some((entry) => (entry.includes('/') ? inCidr(host, entry) : entry === domain || entry === host));
}

/** The endpoints to try for a registry domain, in order. */
export function endpointsFor(domain: string, cfg: RegistryConfig): Endpoint[] {
  if (domain === DOCKER_HUB) {
    const mirrors = cfg.registryMirrors.map((m) => ({ url: m.replace(/\/+$/, ''), mirror: true }));
    return [...mirrors, { url: HUB_URL, mirror: false }];
  }
  return [{ url: `${isInsecure(domain, cfg) ? 'http' : 'https'}://${domain}`, mirror: false }];
}

/** The key credentials are stored under for a domain: Docker Hub's is its index URL. */
export function authKey(domain: string): string {
  return domain === DOCKER_HUB ? 'https://index.docker.io/v1/' : domain;
}
