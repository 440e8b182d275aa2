// The default bridge (dockerd's --bridge/--bip): created if missing, its gateway address assigned.
import { randomBytes } from 'crypto';
import { run } from '../util/exec';
import { cidrsOverlap, formatCidr, intToIp, parseCidr } from './ipam';

export interface BridgeInfo {
  name: string;
  subnet: string;
  gateway: string;
  prefix: number;
}

export function bridgeInfo(name: string, bip: string): BridgeInfo {
  const { address, cidr } = parseCidr(bip);
  return { name, subnet: formatCidr(cidr), gateway: intToIp(address), prefix: cidr.prefix };
}

interface IpLink {
  ifname: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
}

/** As libnetwork's GenerateRandomMAC gives a new bridge: 02:42 (local, unicast) and four random bytes. */
export function bridgeMac(): string {
  return ['02', '42', ...[...randomBytes(4)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** Whether this daemon created the bridge (and so removes it at shutdown). */
export async function ensureBridge(b: BridgeInfo): Promise<boolean> {
  const existing = JSON.parse(await run('ip', ['-j', 'addr', 'show'])) as IpLink[];
  const mine = existing.find((l) => l.ifname === b.name);
  const clash = existing.find(
    (l) => l.ifname !== b.name && l.addr_info?.some((a) => a.family === 'inet' && cidrsOverlap(`${a.local}/${a.prefixlen}`, b.subnet)),
  );
  if (clash) throw new Error(`bridge address ${b.gateway}/${b.prefix} overlaps ${clash.ifname}'s network; choose another --bip`);
  const cmds: string[] = [];
  if (!mine) cmds.push(`link add ${b.name} address ${bridgeMac()} type bridge`);
  if (!mine?.addr_info?.some((a) => a.family === 'inet' && a.local === b.gateway && a.prefixlen === b.prefix)) {
    cmds.push(`addr add ${b.gateway}/${b.prefix} dev ${b.name}`);
  }
  cmds.push(`link set ${b.name} up`);
  await run('ip', ['-batch', '-'], cmds.join('\n') + '\n');
  return !mine;
}

/** The host's IPv4 routes (destinations as CIDRs), for choosing subnets that clash with nothing. */
export async function hostRoutes(): Promise<string[]> {
  const routes = JSON.parse(await run('ip', ['-4', '-j', 'route', 'show', 'table', 'all'])) as Array<{ dst: string; type?: string }>;
  return routes
    .filter((r) => r.dst !== 'default' && (!r.type || r.type === 'unicast'))
    .map((r) => (r.dst.includes('/') ? r.dst : `${r.dst}/32`));
}

export async function removeBridge(name: string): Promise<void> {
  await run('ip', ['link', 'del', name]).catch(() => undefined);
}
