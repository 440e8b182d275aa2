// iptables rules of one daemon: isolation between its networks, internal networks, masquerading
// and DNAT for published ports. Every rule lives in chains named after the daemon's default
// bridge (BERTH-<bridge>...), rewritten whole with iptables-restore --noflush, so parallel
// daemons never touch each other's rules; the only rules outside those chains are the jumps
// into them, added once and removed at shutdown.
import { writeFileSync } from 'fs';
import type { Logger } from 'pino';
import { run } from '../util/exec';

/**
 * iptables with retries: with the nf_tables backend, parallel daemons' transactions can collide
 * (the ruleset changed underneath), and `-w` does not serialize them.
 */
async function iptables(cmd: 'iptables' | 'iptables-restore', args: string[], input?: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(cmd, args, input);
    } catch (e) {
      if (attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 50 * attempt + Math.floor(Math.random() * 50)));
    }
  }
}

export interface FirewallNetwork {
  bridge: string;
  subnet: string;
  internal: boolean;
}

export interface DnatRule {
  proto: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
  bridge: string;
}

interface Jump {
  table: 'filter' | 'nat';
  chain: string;
  rule: string[];
}

export class Firewall {
  private networks: FirewallNetwork[] = [];
  private dnat: DnatRule[] = [];
  private readonly fwd: string;
  private readonly iso: string;
  private readonly masq: string;
  private readonly dnatChain: string;

  private constructor(
    readonly available: boolean,
    tag: string,
    private readonly log: Logger,
  ) {
    this.fwd = `BERTH-${tag}`;
    this.iso = `BERTH-${tag}-ISO`;
    this.masq = `BERTH-${tag}`;
    this.dnatChain = `BERTH-${tag}-DNAT`;
  }

  /** Chains for the daemon whose default bridge is `tag`; a no-op firewall where iptables is missing. */
  static async open(tag: string, log: Logger): Promise<Firewall> {
    const available = await run('iptables', ['-w', '-L', '-n']).then(
      () => true,
      () => false,
    );
    const fw = new Firewall(available, tag, log);
    if (!available) {
      log.warn('iptables is not usable: no isolation between networks, no masquerading or DNAT');
      return fw;
    }
    await fw.write();
    for (const j of fw.jumps()) {
      const exists = await run('iptables', ['-w', '-t', j.table, '-C', j.chain, ...j.rule]).then(
        () => true,
        () => false,
      );
      if (!exists) await iptables('iptables', ['-w', '-t', j.table, '-I', j.chain, '1', ...j.rule]);
    }
    // Containers reach beyond their bridge only when the host forwards, as Docker turns it on.
    writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
    return fw;
  }

  /** The chain names, for tests and logs. */
  get chains(): string[] {
    return [this.fwd, this.iso, this.dnatChain];
  }

  private jumps(): Jump[] {
    return [
      { table: 'filter', chain: 'FORWARD', rule: ['-j', this.fwd] },
      { table: 'nat', chain: 'POSTROUTING', rule: ['-j', this.masq] },
      { table: 'nat', chain: 'PREROUTING', rule: ['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', this.dnatChain] },
      // Loopback traffic goes to the userland proxy, as with Docker.
      { table: 'nat', chain: 'OUTPUT', rule: ['!', '-d', '127.0.0.0/8', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', this.dnatChain] },
    ];
  }

  async syncNetworks(networks: FirewallNetwork[]): Promise<void> {
    this.networks = networks;
    await this.write();
  }

  async syncPorts(rules: DnatRule[]): Promise<void> {
    this.dnat = rules;
    await this.write();
  }

  /** The whole rule set as iptables-restore input (declaring a chain flushes it). */
  rules(): string {
    const f: string[] = ['*filter', `:${this.fwd} - [0:0]`, `:${this.iso} - [0:0]`];
    for (const r of this.dnat) {
      f.push(`-A ${this.fwd} -d ${r.containerIp}/32 ! -i ${r.bridge} -o ${r.bridge} -p ${r.proto} -m ${r.proto} --dport ${r.containerPort} -j ACCEPT`);
      // Replies to published traffic from other networks, before isolation would drop them.
      f.push(`-A ${this.fwd} -s ${r.containerIp}/32 -i ${r.bridge} ! -o ${r.bridge} -p ${r.proto} -m ${r.proto} --sport ${r.containerPort} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    }
    for (const n of this.networks) {
      if (n.internal) {
        f.push(`-A ${this.fwd} -i ${n.bridge} ! -o ${n.bridge} -j DROP`, `-A ${this.fwd} -o ${n.bridge} ! -i ${n.bridge} -j DROP`);
      }
      f.push(`-A ${this.fwd} -i ${n.bridge} ! -o ${n.bridge} -j ${this.iso}`);
      f.push(`-A ${this.fwd} -o ${n.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
      f.push(`-A ${this.fwd} -i ${n.bridge} -o ${n.bridge} -j ACCEPT`);
      if (!n.internal) f.push(`-A ${this.fwd} -i ${n.bridge} ! -o ${n.bridge} -j ACCEPT`);
      f.push(`-A ${this.iso} -o ${n.bridge} -j DROP`);
    }
    f.push('COMMIT');
    const nat: string[] = ['*nat', `:${this.masq} - [0:0]`, `:${this.dnatChain} - [0:0]`];
    for (const n of this.networks) if (!n.internal) nat.push(`-A ${this.masq} -s ${n.subnet} ! -o ${n.bridge} -j MASQUERADE`);
    for (const r of this.dnat) {
      const dst = r.hostIp && r.hostIp !== '0.0.0.0' ? ` -d ${r.hostIp}/32` : '';
      nat.push(`-A ${this.dnatChain}${dst} ! -i ${r.bridge} -p ${r.proto} -m ${r.proto} --dport ${r.hostPort} -j DNAT --to-destination ${r.containerIp}:${r.containerPort}`);
    }
    nat.push('COMMIT');
    return [...f, ...nat, ''].join('\n');
  }

  private async write(): Promise<void> {
    if (!this.available) return;
    await iptables('iptables-restore', ['-w', '--noflush'], this.rules());
  }

  async shutdown(): Promise<void> {
    if (!this.available) return;
    for (const j of this.jumps()) {
      while (await run('iptables', ['-w', '-t', j.table, '-D', j.chain, ...j.rule]).then(() => true, () => false));
    }
    for (const [table, chain] of [['filter', this.fwd], ['filter', this.iso], ['nat', this.masq], ['nat', this.dnatChain]]) {
      await run('iptables', ['-w', '-t', table, '-F', chain]).catch(() => undefined);
    }
    for (const [table, chain] of [['filter', this.fwd], ['filter', this.iso], ['nat', this.masq], ['nat', this.dnatChain]]) {
      await iptables('iptables', ['-w', '-t', table, '-X', chain]).catch((e: Error) => this.log.warn({ chain, err: e.message }, 'could not delete chain'));
    }
  }
}
