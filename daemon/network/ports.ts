// Published ports (-p, -P): host ports bound by a userland TCP/UDP proxy in the daemon (so they
// answer on 127.0.0.1 too, as docker-proxy does) plus DNAT rules where iptables exists.
import { createSocket, type Socket as UdpSocket } from 'dgram';
import { readFileSync } from 'fs';
import { connect, createServer, type Server, type Socket } from 'net';
import type { Logger } from 'pino';
import type { ContainerRecord } from '../containers/record';
import { ApiError, badRequest } from '../server/errors';
import type { DnatRule, Firewall } from './firewall';
import type { Endpoint } from './manager';

export interface PortMapping {
  proto: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
  containerPort: number;
  containerIp: string;
}

type PortBindings = Record<string, Array<{ HostIp?: string; HostPort?: string }> | null>;

const UDP_IDLE_MS = 60_000;

/** "80/tcp" -> [80, 'tcp']; throws Docker's message for anything else. */
export function splitPortKey(key: string): [number, 'tcp' | 'udp' | 'sctp'] {
  const [port, proto = 'tcp'] = key.split('/');
  if (!/^\d+$/.test(port) || Number(port) > 65535 || Number(port) < 1) throw badRequest(`invalid port specification: "${port}"`);
  if (!['tcp', 'udp', 'sctp'].includes(proto)) throw badRequest(`invalid proto: ${proto}`);
  return [Number(port), proto as 'tcp' | 'udp' | 'sctp'];
}

/** A HostPort value: "" (any), "8080" or a range "8000-8010". */
export function parseHostPort(v: string | undefined): [number, number] | null {
  if (!v) return null;
  const m = /^(\d+)(?:-(\d+))?$/.exec(v);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m?.[2] ? Number(m[2]) : lo;
  if (!m || lo > 65535 || hi > 65535 || hi < lo) throw badRequest(`invalid port specification: "${v}"`);
  return [lo, hi];
}

/** Docker's create-time checks of HostConfig.PortBindings; returns warnings. */
export function checkPortBindings(c: ContainerRecord): string[] {
  const bindings = (c.HostConfig.PortBindings ?? {}) as PortBindings;
  for (const [key, list] of Object.entries(bindings)) {
    splitPortKey(key);
    for (const b of list ?? []) {
      parseHostPort(b.HostPort);
      if (b.HostIp && !/^(\d+\.\d+\.\d+\.\d+|::|::1)$/.test(b.HostIp)) throw badRequest(`invalid IP address: ${b.HostIp}`);
    }
  }
  const publishes = Object.keys(bindings).length > 0 || c.HostConfig.PublishAllPorts === true;
  return c.HostConfig.NetworkMode === 'host' && publishes ? ['Published ports are discarded when using host network mode'] : [];
}

function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return [lo, hi];
  } catch {
    return [32768, 60999];
  }
}

interface Proxy {
  mapping: PortMapping;
  bridge: string;
  close(): Promise<void>;
}

export class PortPublisher {
  private readonly proxies = new Map<string, Proxy[]>();

  constructor(
    private readonly firewall: Firewall,
    private readonly log: Logger,
  ) {}

  /** The wanted (container port, host ip, host port range) triples: -p bindings and -P's exposed ports. */
  private wanted(c: ContainerRecord): Array<{ port: number; proto: 'tcp' | 'udp'; hostIp: string; range: [number, number] | null }> {
    const out: Array<{ port: number; proto: 'tcp' | 'udp'; hostIp: string; range: [number, number] | null }> = [];
    const bindings = (c.HostConfig.PortBindings ?? {}) as PortBindings;
    const keys = new Set(Object.keys(bindings));
    if (c.HostConfig.PublishAllPorts) for (const k of Object.keys(c.Config.ExposedPorts ?? {})) keys.add(k);
    for (const key of keys) {
      const [port, proto] = splitPortKey(key);
      if (proto === 'sctp') continue;
      const list = bindings[key]?.length ? bindings[key]! : [{}];
      for (const b of list) out.push({ port, proto, hostIp: b.HostIp || '0.0.0.0', range: parseHostPort(b.HostPort) });
    }
    return out;
  }

  async publish(c: ContainerRecord, ep: Endpoint | undefined, bridge: string): Promise<PortMapping[]> {
    if (!ep) return [];
    const made: Proxy[] = [];
    this.proxies.set(c.Id, made);
    try {
      for (const w of this.wanted(c)) {
        made.push(await this.bindOne(c, ep, bridge, w));
      }
      // Without mappings the rules are as they were: no iptables-restore (some 20 ms of a start).
      if (made.length) await this.syncFirewall();
    } catch (e) {
      await this.unpublish(c.Id);
      throw e;
    }
    return made.map((p) => p.mapping);
  }

  private async bindOne(c: ContainerRecord, ep: Endpoint, bridge: string, w: { port: number; proto: 'tcp' | 'udp'; hostIp: string; range: [number, number] | null }): Promise<Proxy> {
    const target = { containerIp: ep.ipAddress, containerPort: w.port };
    const taken = (hostPort: number): boolean =>
      [...this.proxies.values()].flat().some((p) => p.mapping.proto === w.proto && p.mapping.hostPort === hostPort && (p.mapping.hostIp === w.hostIp || p.mapping.hostIp === '0.0.0.0' || w.hostIp === '0.0.0.0'));
    const fail = (msg: string): ApiError => new ApiError(500, `driver failed programming external connectivity on endpoint ${c.Name.replace(/^\//, '')} (${ep.endpointId}): ${msg}`);
    if (!w.range) {
      // Any free port of the kernel's ephemeral range: the kernel picks it on bind.
      const [lo, hi] = ephemeralRange();
      for (let tries = 0; tries < 20; tries++) {
        const p = await this.start(w.proto, w.hostIp, 0, target, bridge);
        if (p.mapping.hostPort >= lo && p.mapping.hostPort <= hi && !taken(p.mapping.hostPort)) return p;
        await p.close();
      }
      throw fail(`no free host port for ${w.port}/${w.proto}`);
    }
    let lastError = '';
    for (let hp = w.range[0]; hp <= w.range[1]; hp++) {
      if (taken(hp)) {
        lastError = `Bind for ${w.hostIp}:${hp} failed: port is already allocated`;
        continue;
      }
      try {
        return await this.start(w.proto, w.hostIp, hp, target, bridge);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        lastError = `Error starting userland proxy: listen ${w.proto}4 ${w.hostIp}:${hp}: bind: ${code === 'EADDRINUSE' ? 'address already in use' : code === 'EADDRNOTAVAIL' ? 'cannot assign requested address' : (e as Error).message}`;
      }
    }
    throw fail(lastError);
  }

  private start(proto: 'tcp' | 'udp', hostIp: string, hostPort: number, target: { containerIp: string; containerPort: number }, bridge: string): Promise<Proxy> {
    return proto === 'tcp' ? this.tcp(hostIp, hostPort, target, bridge) : this.udp(hostIp, hostPort, target, bridge);
  }

  private tcp(hostIp: string, hostPort: number, target: { containerIp: string; containerPort: number }, bridge: string): Promise<Proxy> {
    const conns = new Set<Socket>();
    const server: Server = createServer((client) => {
      const upstream = connect(target.containerPort, target.containerIp);
      conns.add(client).add(upstream);
      const done = (): void => {
        client.destroy();
        upstream.destroy();
        conns.delete(client);
        conns.delete(upstream);
      };
      client.on('error', done).on('close', done);
      upstream.on('error', done).on('close', done);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: hostIp, port: hostPort, exclusive: true }, () => {
        server.off('error', reject);
        const port = (server.address() as { port: number }).port;
        resolve({
          mapping: { proto: 'tcp', hostIp, hostPort: port, ...target },
          bridge,
          close: () =>
            new Promise<void>((res) => {
              for (const s of conns) s.destroy();
              server.close(() => res());
            }),
        });
      });
    });
  }

  private udp(hostIp: string, hostPort: number, target: { containerIp: string; containerPort: number }, bridge: string): Promise<Proxy> {
    const server = createSocket('udp4');
    const peers = new Map<string, { socket: UdpSocket; timer: NodeJS.Timeout }>();
    const drop = (key: string): void => {
      const p = peers.get(key);
      if (!p) return;
      clearTimeout(p.timer);
      p.socket.close();
      peers.delete(key);
    };
    server.on('message', (msg, rinfo) => {
      const key = `${rinfo.address}:${rinfo.port}`;
      let peer = peers.get(key);
      if (!peer) {
        const socket = createSocket('udp4');
        socket.on('message', (reply) => server.send(reply, rinfo.port, rinfo.address));
        socket.on('error', () => drop(key));
        peer = { socket, timer: setTimeout(() => drop(key), UDP_IDLE_MS) };
        peers.set(key, peer);
      }
      peer.timer.refresh();
      peer.socket.send(msg, target.containerPort, target.containerIp);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.bind({ address: hostIp, port: hostPort, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (e) => this.log.warn({ err: e.message }, 'udp proxy error'));
        resolve({
          mapping: { proto: 'udp', hostIp, hostPort: server.address().port, ...target },
          bridge,
          close: () =>
            new Promise<void>((res) => {
              for (const k of [...peers.keys()]) drop(k);
              server.close(() => res());
            }),
        });
      });
    });
  }

  private syncFirewall(): Promise<void> {
    const rules: DnatRule[] = [...this.proxies.values()].flat().map((p) => ({ ...p.mapping, bridge: p.bridge }));
    return this.firewall.syncPorts(rules);
  }

  async unpublish(containerId: string): Promise<void> {
    const list = this.proxies.get(containerId);
    if (!list) return;
    this.proxies.delete(containerId);
    for (const p of list) await p.close();
    if (list.length) await this.syncFirewall();
  }

  async unpublishAll(): Promise<void> {
    for (const id of [...this.proxies.keys()]) await this.unpublish(id);
  }
}
