// The embedded DNS of user networks: a UDP and a TCP listener on each network's gateway address that
// answers container names, aliases and short IDs (A, and PTR for reverse lookups as
// `name.network`) for the networks the asking container is on, and forwards every other query
// to upstream resolvers: the container's --dns, else the daemon's --dns, else the host's
// non-loopback nameservers.
import { createSocket, type Socket } from 'dgram';
import { readFileSync } from 'fs';
import { createServer, type Server } from 'net';
import type { Logger } from 'pino';
import type { Endpoint } from './manager';

const TYPE_A = 1;
const TYPE_PTR = 12;
const TTL = 600;
const FORWARD_TIMEOUT_MS = 3000;

export interface DnsEntry {
  containerId: string;
  /** The container's own --dns servers: its upstreams instead of the daemon's. */
  dns: string[];
  endpoints: Endpoint[];
}

interface Question {
  id: number;
  flags: number;
  name: string;
  type: number;
  /** Bytes of the question section, copied into the reply. */
  section: Buffer;
}

/** Parses the first question of a query; undefined for anything malformed. */
export function parseQuery(msg: Buffer): Question | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= msg.length) return undefined;
    const len = msg[off];
    if (len === 0) break;
    if (len > 63 || off + 1 + len > msg.length) return undefined;
    labels.push(msg.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  off += 1;
  if (off + 4 > msg.length) return undefined;
  return { id: msg.readUInt16BE(0), flags: msg.readUInt16BE(2), name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(off), section: msg.subarray(12, off + 4) };
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean).map((l) => {
    const b = Buffer.from(l, 'latin1');
    return Buffer.concat([Buffer.from([b.length]), b]);
  });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

/** A reply to `q` with the given answers (rdata for q's own name and type) and response code. */
export function buildReply(q: Question, answers: Buffer[], rcode = 0): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  // QR, the query's opcode and RD, authoritative, recursion available.
  header.writeUInt16BE(0x8000 | (q.flags & 0x7900) | 0x0400 | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const rrs = answers.map((rdata) => {
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    rr.writeUInt16BE(q.type, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(TTL, 6);
    rr.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([rr, rdata]);
  });
  return Buffer.concat([header, q.section, ...rrs]);
}

/** Nameservers of a resolv.conf a container could not reach from the host side skipped: loopback ones. */
export function hostUpstreams(resolvConf: string): string[] {
  return resolvConf
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((ip): ip is string => !!ip && /^\d+\.\d+\.\d+\.\d+$/.test(ip) && !ip.startsWith('127.'));
}

export class DnsServer {
  private readonly sockets = new Map<string, { socket: Socket; tcp: Server }>();
  private entries: DnsEntry[] = [];
  readonly upstreams: string[];

  constructor(configured: string[], private readonly log: Logger) {
    let host = '';
    try {
      host = readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      // No resolv.conf: only configured upstreams.
    }
    this.upstreams = configured.length ? configured : hostUpstreams(host);
  }

  async listen(networkId: string, networkName: string, gateway: string): Promise<void> {
    if (this.sockets.has(networkId)) return;
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    socket.on('message', (msg, rinfo) => {
      this.handle(networkId, msg, rinfo.address)
        .then((reply) => reply && socket.send(reply, rinfo.port, rinfo.address))
        .catch((e: Error) => this.log.warn({ network: networkId, err: e.message }, 'dns query failed'));
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(53, gateway, () => {
        socket.off('error', reject);
        socket.on('error', (e) => this.log.warn({ network: networkId, err: e.message }, 'dns socket error'));
        resolve();
      });
    });
    let tcp: Server;
    try {
      tcp = await this.listenTcp(networkId, gateway);
    } catch (e) {
      socket.close();
      throw e;
    }
    this.sockets.set(networkId, { socket, tcp });
    this.log.debug({ network: networkId, name: networkName, address: `${gateway}:53` }, 'dns listening');
  }

  async close(networkId: string): Promise<void> {
    const s = this.sockets.get(networkId);
    if (!s) return;
    this.sockets.delete(networkId);
    await new Promise<void>((resolve) => s.socket.close(() => resolve()));
    await new Promise<void>((resolve) => s.tcp.close(() => resolve()));
  }

  /** DNS over TCP: each message with a two-byte length in front (RFC 1035 4.2.2). */
  private listenTcp(networkId: string, gateway: string): Promise<Server> {
    const server = createServer((conn) => {
      let buf = Buffer.alloc(0);
      conn.on('error', () => conn.destroy());
      conn.setTimeout(10_000, () => conn.destroy());
      conn.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + msg.length);
          this.handle(networkId, msg, conn.remoteAddress?.replace(/^::ffff:/, '') ?? '')
            .then((reply) => {
              if (!reply) return;
              const len = Buffer.alloc(2);
              len.writeUInt16BE(reply.length);
              conn.write(Buffer.concat([len, reply]));
            })
            .catch(() => conn.destroy());
        }
      });
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: gateway, port: 53, exclusive: true }, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  async closeAll(): Promise<void> {
    for (const id of [...this.sockets.keys()]) await this.close(id);
  }

  update(entries: DnsEntry[]): void {
    this.entries = entries;
  }

  /** The answer for one query from `source` on the network `networkId`. */
  async handle(networkId: string, msg: Buffer, source: string): Promise<Buffer | undefined> {
    const q = parseQuery(msg);
    if (!q) return undefined;
    const asker = this.entries.find((e) => e.endpoints.some((ep) => ep.ipAddress === source));
    const scope = new Set(asker ? asker.endpoints.filter((ep) => ep.dnsNames.length).map((ep) => ep.networkId) : [networkId]);
    const visible = this.entries.flatMap((e) => e.endpoints.filter((ep) => scope.has(ep.networkId)));
    if (q.type === TYPE_PTR) {
      const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(q.name);
      const ip = m ? [m[4], m[3], m[2], m[1]].join('.') : '';
      const ep = visible.find((e) => e.ipAddress === ip);
      if (ep) return buildReply(q, [encodeName(`${ep.dnsNames[0]}.${ep.networkName}`)]);
    } else {
      const hits = visible.filter((ep) => ep.dnsNames.some((n) => n.toLowerCase() === q.name || `${n}.${ep.networkName}`.toLowerCase() === q.name));
      if (hits.length) {
        if (q.type !== TYPE_A) return buildReply(q, []);
        const ips = [...new Set(hits.map((ep) => ep.ipAddress))];
        return buildReply(q, ips.map((ip) => Buffer.from(ip.split('.').map(Number))));
      }
    }
    const upstreams = asker?.dns.length ? asker.dns : this.upstreams;
    for (const up of upstreams) {
      const reply = await forward(msg, up).catch(() => undefined);
      if (reply) return reply;
    }
    return buildReply(q, [], 2); // SERVFAIL: no upstream answered
  }
}

function forward(msg: Buffer, upstream: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => {
      s.close();
      reject(new Error('timeout'));
    }, FORWARD_TIMEOUT_MS);
    s.on('error', (e) => {
      clearTimeout(timer);
      s.close();
      reject(e);
    });
    s.on('message', (reply) => {
      clearTimeout(timer);
      s.close();
      resolve(reply);
    });
    s.send(msg, 53, upstream);
  });
}
