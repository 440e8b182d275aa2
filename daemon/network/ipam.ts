// IPv4 address management for one bridge subnet: addresses are handed out in order from a
// persisted cursor (so a freed address is not reused at once, as libnetwork does) and never twice.

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  network: number;
  prefix: number;
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new Error(`invalid IPv4 address: ${ip}`);
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses "a.b.c.d/n"; the address part may be a host address (as --bip gives it). */
export function parseCidr(cidr: string): { address: number; cidr: Cidr } {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m || Number(m[2]) > 32) throw new Error(`invalid CIDR address: ${cidr}`);
  const address = ipToInt(m[1]);
  const prefix = Number(m[2]);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { address, cidr: { network: (address & mask) >>> 0, prefix } };
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.network)}/${c.prefix}`;
}

/** Docker's MAC for an IPv4 endpoint: 02:42 then the address bytes. */
export function macFor(ip: string): string {
  return ['02', '42', ...ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

export interface IpamState {
  subnet: string;
  gateway: string;
  /** address -> owner (container ID) */
  allocated: Record<string, string>;
  /** Offset of the last address handed out. */
  cursor: number;
  /** --ip-range: dynamic addresses come from this sub-CIDR only. */
  range?: string;
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a).cidr;
  const y = parseCidr(b).cidr;
  const prefix = Math.min(x.prefix, y.prefix);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return ((x.network & mask) >>> 0) === ((y.network & mask) >>> 0);
}

export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr).cidr;
  const n = ipToInt(ip);
  return n >= c.network && n < c.network + 2 ** (32 - c.prefix);
}

export class Ipam {
  private readonly cidr: Cidr;
  private readonly size: number;

  constructor(readonly state: IpamState) {
    this.cidr = parseCidr(state.subnet).cidr;
    this.size = 2 ** (32 - this.cidr.prefix);
  }

  /** Hands out the next free address after the cursor, or `requested` if it is free. */
  allocate(owner: string, requested?: string): string {
    if (requested) {
      const n = ipToInt(requested);
      if (!this.contains(n)) throw new Error(`no available IPv4 addresses on this network's address pools: ${requested} is not in ${this.state.subnet}`);
      if (this.state.allocated[requested] || requested === this.state.gateway) throw new Error(`Address already in use`);
      this.state.allocated[requested] = owner;
      return requested;
    }
    // Offsets 0 (network) and size-1 (broadcast) are never handed out.
    let lo = 1;
    let hi = this.size - 2;
    if (this.state.range) {
      const r = parseCidr(this.state.range).cidr;
      lo = Math.max(lo, r.network - this.cidr.network);
      hi = Math.min(hi, r.network - this.cidr.network + 2 ** (32 - r.prefix) - 1);
    }
    const count = hi - lo + 1;
    for (let step = 1; step <= count; step++) {
      const offset = ((Math.max(this.state.cursor, lo - 1) - lo + step) % count) + lo;
      const ip = intToIp(this.cidr.network + offset);
      if (ip === this.state.gateway || this.state.allocated[ip]) continue;
      this.state.allocated[ip] = owner;
      this.state.cursor = offset;
      return ip;
    }
    throw new Error(`no available IPv4 addresses on this network's address pools: ${this.state.subnet}`);
  }

  release(ip: string): void {
    delete this.state.allocated[ip];
  }

  /** Frees every address whose owner is not in `live`. */
  releaseAllExcept(live: Set<string>): void {
    for (const [ip, owner] of Object.entries(this.state.allocated)) if (!live.has(owner)) delete this.state.allocated[ip];
  }

  get prefix(): number {
    return this.cidr.prefix;
  }

  private contains(n: number): boolean {
    return n > this.cidr.network && n < this.cidr.network + this.size - 1;
  }
}
