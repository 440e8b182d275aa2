// Networks and per-container networking: the built-in bridge, host and none networks and user
// bridges; for each running container a namespace with one veth endpoint per network, published
// ports, DNS records and firewall rules, all removed again when it stops.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'fs';
import { randomBytes } from 'crypto';
import type { Logger } from 'pino';
import { nowNano, type ContainerRecord } from '../containers/record';
import type { EventBus } from '../events/bus';
import { ApiError, badRequest, conflict, notFound } from '../server/errors';
import { run } from '../util/exec';
import { newId, shortId } from '../util/ids';
import { ensureBridge, hostRoutes, removeBridge } from './bridge';
import { DnsServer } from './dns';
import { Firewall } from './firewall';
import { cidrContains, cidrsOverlap, formatCidr, intToIp, ipToInt, Ipam, macFor, parseCidr } from './ipam';
import { createNetns, removeNetns, runInNetns } from './netns';
import { PortPublisher, type PortMapping } from './ports';
import { NetworkStore, type NetworkRecord } from './store';

export type NetworkMode = 'bridge' | 'host' | 'none' | 'container';

/** What a container asked for on one network (NetworkingConfig.EndpointsConfig as Docker keeps it). */
export interface EndpointConfig {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Aliases?: string[] | null;
  Links?: string[] | null;
  DriverOpts?: Record<string, string> | null;
  MacAddress?: string;
  NetworkID?: string;
}

export interface Endpoint {
  networkId: string;
  networkName: string;
  endpointId: string;
  ipAddress: string;
  prefixLen: number;
  gateway: string;
  macAddress: string;
  hostVeth: string;
  ifname: string;
  aliases: string[];
  /** Names the network's DNS answers for this endpoint (user networks only). */
  dnsNames: string[];
}

export interface Sandbox {
  mode: NetworkMode;
  /** Bind-mounted namespace file; empty for host networking. */
  key: string;
  /** False when the namespace is another container's (container:X). */
  ownsNetns?: boolean;
  endpoints: Endpoint[];
  ports?: PortMapping[];
  /** --network host or none: the endpoint dockerd makes on that network, with no interface or address. */
  builtinEndpointId?: string;
}

export type ParsedMode = { kind: 'default' | 'host' | 'none' } | { kind: 'container'; ref: string } | { kind: 'network'; name: string };

/** HostConfig.NetworkMode as given, or an error message when it is malformed. */
export function parseNetworkMode(mode: string | undefined): ParsedMode | { error: string } {
  if (!mode || mode === 'default' || mode === 'bridge') return { kind: 'default' };
  if (mode === 'host' || mode === 'none') return { kind: mode };
  if (mode.startsWith('container:')) {
    const ref = mode.slice('container:'.length);
    return ref ? { kind: 'container', ref } : { error: `invalid network mode: ${mode}` };
  }
  return { kind: 'network', name: mode };
}

export interface CreateNetworkRequest {
  Name: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Labels?: Record<string, string>;
  Options?: Record<string, string>;
  IPAM?: { Driver?: string; Config?: Array<{ Subnet?: string; Gateway?: string; IPRange?: string }>; Options?: Record<string, string> };
  EnableIPv6?: boolean;
}

interface Live {
  c: ContainerRecord;
  sandbox: Sandbox;
}

const forbidden = (message: string): ApiError => new ApiError(403, message);

/** Docker's default address pools: 172.17-31.0.0/16, then 192.168.0.0/16 in /20s. */
function* defaultPools(): Generator<string> {
  for (let b = 17; b <= 31; b++) yield `172.${b}.0.0/16`;
  for (let c = 0; c < 256; c += 16) yield `192.168.${c}.0/20`;
}

export class NetworkManager {
  private readonly live = new Map<string, Live>();
  /** Serializes changes to networks and endpoints (allocation, create, remove). */
  private lock: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly log: Logger,
    private readonly store: NetworkStore,
    private readonly netnsDir: string,
    private readonly events: EventBus,
    readonly firewall: Firewall,
    private readonly dns: DnsServer,
    private readonly ports: PortPublisher,
    private readonly bridgeName: string,
    private readonly dnsConfig: string[],
  ) {}

  static async open(opts: { dataRoot: string; execRoot: string; bridge: string; bip: string; dns: string[]; log: Logger; events: EventBus }): Promise<NetworkManager> {
    const dir = `${opts.dataRoot}/network`;
    const netnsDir = `${opts.execRoot}/netns`;
    mkdirSync(netnsDir, { recursive: true });
    const store = new NetworkStore(`${dir}/networks`);
    const { address, cidr } = parseCidr(opts.bip);
    const subnet = formatCidr(cidr);
    const gateway = intToIp(address);
    let bridge = store.builtin('bridge');
    // The old single-bridge state file keeps its ID, so a restart shows the same network.
    const legacy = `${dir}/bridge.json`;
    const old = !bridge && existsSync(legacy) ? (JSON.parse(readFileSync(legacy, 'utf8')) as { id: string; created: string; ownedBridge?: string }) : undefined;
    if (!bridge || bridge.ipam?.subnet !== subnet || bridge.ipam?.gateway !== gateway || bridge.bridgeName !== opts.bridge) {
      bridge = {
        Id: bridge?.Id ?? old?.id ?? newId(),
        Name: 'bridge',
        Created: bridge?.Created ?? old?.created ?? nowNano(),
        Driver: 'bridge',
        Internal: false,
        Attachable: false,
        Labels: {},
        Options: {
          'com.docker.network.bridge.default_bridge': 'true',
          'com.docker.network.bridge.enable_icc': 'true',
          'com.docker.network.bridge.enable_ip_masquerade': 'true',
          'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
          'com.docker.network.bridge.name': opts.bridge,
          'com.docker.network.driver.mtu': '1500',
        },
        IPAMOptions: null,
        builtin: 'bridge',
        bridgeName: opts.bridge,
        ipam: { subnet, gateway, allocated: {}, cursor: 1 },
        ownedBridge: bridge?.ownedBridge ?? (old?.ownedBridge === opts.bridge || undefined),
      };
    }
    for (const kind of ['host', 'none'] as const) {
      if (store.builtin(kind)) continue;
      store.save({ Id: newId(), Name: kind, Created: nowNano(), Driver: kind === 'host' ? 'host' : 'null', Internal: false, Attachable: false, Labels: {}, Options: {}, IPAMOptions: null, builtin: kind });
    }
    const firewall = await Firewall.open(opts.bridge, opts.log);
    const dns = new DnsServer(opts.dns, opts.log);
    const ports = new PortPublisher(firewall, opts.log);
    const mgr = new NetworkManager(opts.log, store, netnsDir, opts.events, firewall, dns, ports, opts.bridge, opts.dns);
    try {
      if (await ensureBridge({ name: opts.bridge, subnet, gateway, prefix: cidr.prefix })) bridge.ownedBridge = true;
      store.save(bridge);
      // User networks come back as they were: bridges, rules and DNS listeners made again.
      for (const n of store.all()) if (!n.builtin && n.Driver === 'bridge') await mgr.bringUp(n);
      await mgr.syncFirewall();
    } catch (e) {
      // A daemon that cannot start (an overlapping --bip, say) leaves no chains or bridges behind.
      await mgr.shutdown().catch(() => undefined);
      throw e;
    }
    return mgr;
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.then(fn, fn);
    this.lock = next.catch(() => undefined);
    return next;
  }

  get bridgeNetworkId(): string {
    return this.store.builtin('bridge')?.Id ?? '';
  }

  networkId(name: string): string {
    return this.store.byName(name)?.Id ?? '';
  }

  list(): NetworkRecord[] {
    return this.store.all();
  }

  find(ref: string): NetworkRecord {
    const n = this.store.find(ref);
    if (n === 'ambiguous') throw badRequest(`network ${ref} is ambiguous`);
    if (!n) throw notFound(`network ${ref} not found`);
    return n;
  }

  /** Running containers with an endpoint on the network, for inspect and in-use checks. */
  /** Running containers with --network host or none, for that network's inspect. */
  builtinMembers(kind: 'host' | 'none'): Array<{ c: ContainerRecord; endpointId: string }> {
    const out: Array<{ c: ContainerRecord; endpointId: string }> = [];
    for (const { c, sandbox } of this.live.values()) if (sandbox.mode === kind && sandbox.builtinEndpointId) out.push({ c, endpointId: sandbox.builtinEndpointId });
    return out;
  }

  endpointsOn(networkId: string): Array<{ c: ContainerRecord; ep: Endpoint }> {
    const out: Array<{ c: ContainerRecord; ep: Endpoint }> = [];
    for (const { c, sandbox } of this.live.values()) for (const ep of sandbox.endpoints) if (ep.networkId === networkId) out.push({ c, ep });
    return out;
  }

  /**
   * The endpoint configs a new container gets, checked as dockerd checks them at create. A network
   * that does not exist is dockerd's 404 at start, not here (the CLI would take a 404 at create
   * for a missing image and try to pull it).
   */
  endpointsForCreate(mode: ParsedMode, requested: Record<string, EndpointConfig> | undefined): Record<string, EndpointConfig> {
    const given = requested ?? {};
    if (mode.kind === 'container') return {};
    const name = mode.kind === 'default' ? 'bridge' : mode.kind === 'network' ? mode.name : mode.kind;
    const out: Record<string, EndpointConfig> = {};
    const add = (ref: string, cfg: EndpointConfig, primary: boolean): void => {
      const net = this.store.find(ref);
      if (!net || net === 'ambiguous') {
        out[ref] = { ...cfg };
        return;
      }
      if (!primary && net.builtin) throw badRequest('Container cannot be connected to network endpoints: conflicting options: cannot attach both user-defined and non-user-defined network-modes');
      out[net.Name] = this.checkEndpointConfig(net, cfg);
    };
    const primary = this.store.find(name);
    const primaryId = primary && primary !== 'ambiguous' ? primary.Id : undefined;
    add(name, given[name] ?? (primaryId ? given[primaryId] : undefined) ?? (mode.kind === 'default' ? given.default : undefined) ?? {}, true);
    for (const [k, v] of Object.entries(given)) if (k !== name && k !== primaryId && k !== 'default') add(k, v, false);
    return out;
  }

  private checkEndpointConfig(net: NetworkRecord, cfg: EndpointConfig): EndpointConfig {
    const ip = cfg.IPAMConfig?.IPv4Address;
    if (ip) {
      if (net.builtin) throw badRequest('user specified IP address is supported on user defined networks only');
      try {
        ipToInt(ip);
      } catch {
        throw badRequest(`invalid IPv4 address: ${ip}`);
      }
      if (!net.ipam || !cidrContains(net.ipam.subnet, ip)) throw badRequest(`Invalid address ${ip}: It does not belong to any of this network's subnets`);
    }
    if (cfg.Aliases?.length && net.builtin) throw badRequest('network-scoped alias is supported only for containers in user defined networks');
    // Kept as the client sent them, as dockerd stores the EndpointSettings: the docker CLI's
    // `network connect` sends an empty IPAMConfig, Aliases and DriverOpts ({}, [], {}), `run` nulls.
    return {
      IPAMConfig: cfg.IPAMConfig ? { ...cfg.IPAMConfig } : null,
      Aliases: cfg.Aliases ? [...cfg.Aliases] : null,
      Links: cfg.Links ? [...cfg.Links] : null,
      DriverOpts: cfg.DriverOpts ? { ...cfg.DriverOpts } : null,
      ...(cfg.MacAddress ? { MacAddress: cfg.MacAddress } : {}),
      NetworkID: net.Id,
    };
  }

  // --- networks ------------------------------------------------------------------------------

  create(req: CreateNetworkRequest): Promise<NetworkRecord> {
    return this.serialize(() => this.doCreate(req));
  }

  private async doCreate(req: CreateNetworkRequest): Promise<NetworkRecord> {
    const name = req.Name;
    if (!name) throw badRequest('network name cannot be empty');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw badRequest(`invalid network name "${name}", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (['bridge', 'host', 'none', 'default'].includes(name)) throw forbidden(`${name} is a pre-defined network and cannot be created`);
    if (this.store.byName(name)) throw conflict(`network with name ${name} already exists`);
    const driver = req.Driver || 'bridge';
    if (driver === 'host' || driver === 'null') throw forbidden(`only one instance of "${driver}" network is allowed`);
    if (driver !== 'bridge') throw notFound(`plugin "${driver}" not found`);
    if (req.EnableIPv6) throw badRequest('IPv6 networks are not supported by berth');
    const configs = req.IPAM?.Config ?? [];
    if (configs.length > 1) throw badRequest('berth supports one IPv4 subnet per network');
    const pool = configs[0] ?? {};
    const others = this.store.all().filter((n) => n.ipam).map((n) => n.ipam!.subnet);
    let subnet: string;
    if (pool.Subnet) {
      const parsed = parseCidrOr400(pool.Subnet);
      subnet = formatCidr(parsed.cidr);
      if (parsed.cidr.prefix > 30) throw badRequest(`invalid subnet ${pool.Subnet}: the prefix must be /30 or shorter`);
      if (others.some((o) => cidrsOverlap(o, subnet))) throw forbidden('Pool overlaps with other one on this address space');
    } else {
      if (pool.Gateway || pool.IPRange) throw badRequest('a gateway or ip-range needs a subnet (--subnet)');
      const routes = await hostRoutes();
      const free = [...defaultPools()].find((p) => !others.some((o) => cidrsOverlap(o, p)) && !routes.some((r) => cidrsOverlap(r, p)));
      if (!free) throw forbidden('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
      subnet = free;
    }
    let gateway: string;
    if (pool.Gateway) {
      try {
        ipToInt(pool.Gateway);
      } catch {
        throw badRequest(`invalid gateway address ${pool.Gateway}`);
      }
      if (!cidrContains(subnet, pool.Gateway)) throw forbidden(`no matching subnet for gateway ${pool.Gateway}`);
      gateway = pool.Gateway;
    } else {
      gateway = intToIp(parseCidr(subnet).cidr.network + 1);
    }
    let range: string | undefined;
    if (pool.IPRange) {
      const r = parseCidrOr400(pool.IPRange);
      range = formatCidr(r.cidr);
      if (!cidrContains(subnet, intToIp(r.cidr.network)) || r.cidr.prefix < parseCidr(subnet).cidr.prefix) throw forbidden(`no matching subnet for range ${pool.IPRange}`);
    }
    const id = newId();
    const options = { ...(req.Options ?? {}) };
    const bridgeName = options['com.docker.network.bridge.name'] || `br-${id.slice(0, 12)}`;
    if (bridgeName.length > 15) throw badRequest(`bridge name ${bridgeName} is longer than 15 characters`);
    if (this.store.all().some((n) => n.bridgeName === bridgeName)) throw conflict(`bridge name ${bridgeName} is already in use by another network`);
    const record: NetworkRecord = {
      Id: id,
      Name: name,
      Created: nowNano(),
      Driver: 'bridge',
      Internal: Boolean(req.Internal),
      Attachable: Boolean(req.Attachable),
      Labels: { ...(req.Labels ?? {}) },
      Options: options,
      IPAMOptions: req.IPAM?.Options && Object.keys(req.IPAM.Options).length ? req.IPAM.Options : null,
      bridgeName,
      ipam: { subnet, gateway, allocated: {}, cursor: 1, ...(range ? { range } : {}) },
    };
    // The record is written only once the bridge exists: a failure leaves nothing behind.
    await this.bringUp(record);
    try {
      this.store.save(record);
      await this.syncFirewall();
    } catch (e) {
      await this.bringDown(record);
      this.store.delete(record.Id);
      throw e;
    }
    this.log.info({ network: id, name, subnet, bridge: bridgeName }, 'network created');
    this.events.emit('network', 'create', id, { name, type: 'bridge' });
    return record;
  }

  /** The network's bridge and DNS listener (again, after a restart). */
  private async bringUp(n: NetworkRecord): Promise<void> {
    const { address, cidr } = parseCidr(`${n.ipam!.gateway}/${parseCidr(n.ipam!.subnet).cidr.prefix}`);
    try {
      if (await ensureBridge({ name: n.bridgeName!, subnet: formatCidr(cidr), gateway: intToIp(address), prefix: cidr.prefix })) n.ownedBridge = true;
    } catch (e) {
      throw forbidden((e as Error).message.replace('; choose another --bip', ''));
    }
    try {
      await this.dns.listen(n.Id, n.Name, n.ipam!.gateway);
    } catch (e) {
      if (n.ownedBridge) await removeBridge(n.bridgeName!);
      throw e;
    }
  }

  private async bringDown(n: NetworkRecord): Promise<void> {
    await this.dns.close(n.Id);
    if (n.ownedBridge) await removeBridge(n.bridgeName!);
  }

  remove(ref: string): Promise<void> {
    return this.serialize(async () => {
      const n = this.find(ref);
      if (n.builtin) throw forbidden(`${n.Name} is a pre-defined network and cannot be removed`);
      if (this.endpointsOn(n.Id).length) throw forbidden(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints`);
      this.store.delete(n.Id);
      await this.bringDown(n);
      await this.syncFirewall();
      this.log.info({ network: n.Id, name: n.Name }, 'network removed');
      this.events.emit('network', 'destroy', n.Id, { name: n.Name, type: n.Driver });
    });
  }

  /** Removes user networks no running container uses that match `keep`; returns their names. */
  prune(matches: (n: NetworkRecord) => boolean): Promise<string[]> {
    return this.serialize(async () => {
      const gone: string[] = [];
      for (const n of this.store.all()) {
        if (n.builtin || this.endpointsOn(n.Id).length || !matches(n)) continue;
        this.store.delete(n.Id);
        await this.bringDown(n);
        this.events.emit('network', 'destroy', n.Id, { name: n.Name, type: n.Driver });
        gone.push(n.Name);
      }
      if (gone.length) await this.syncFirewall();
      return gone;
    });
  }

  private syncFirewall(): Promise<void> {
    const nets = this.store
      .all()
      .filter((n) => n.Driver === 'bridge' && n.bridgeName && n.ipam)
      .map((n) => ({ bridge: n.bridgeName!, subnet: n.ipam!.subnet, internal: n.Internal }));
    return this.firewall.syncNetworks(nets);
  }

  // --- containers ----------------------------------------------------------------------------

  /** Frees addresses and namespaces of containers that no longer run (after a crash or restart). */
  reconcile(running: Set<string>): void {
    for (const n of this.store.all()) {
      if (!n.ipam) continue;
      new Ipam(n.ipam).releaseAllExcept(running);
      this.store.save(n);
    }
    for (const name of readdirSync(this.netnsDir)) if (!running.has(name)) removeNetns(`${this.netnsDir}/${name}`);
  }

  /** Networking for a starting container; `shared` is the sandbox of the container whose namespace it joins. */
  setup(c: ContainerRecord, shared?: Sandbox): Promise<Sandbox> {
    return this.serialize(async () => {
      const mode = parseNetworkMode(c.HostConfig.NetworkMode);
      if ('error' in mode) throw badRequest(mode.error);
      if (mode.kind === 'host') {
        const host: Sandbox = { mode: 'host', key: '', endpoints: [], builtinEndpointId: newId() };
        this.live.set(c.Id, { c, sandbox: host });
        this.builtinEvent(c, host, 'connect');
        return host;
      }
      if (mode.kind === 'container') return { mode: 'container', key: shared?.key ?? '', ownsNetns: false, endpoints: [] };
      const key = `${this.netnsDir}/${c.Id.slice(0, 12)}`;
      createNetns(key);
      const sandbox: Sandbox = { mode: mode.kind === 'none' ? 'none' : 'bridge', key, ownsNetns: true, endpoints: [], ports: [], ...(mode.kind === 'none' ? { builtinEndpointId: newId() } : {}) };
      try {
        const wanted = mode.kind === 'none' ? [] : Object.entries(c.Networks ?? { bridge: {} });
        // Each endpoint's configuration inside the namespace brings lo up too.
        if (wanted.length === 0) await runInNetns(key, 'ip', ['link', 'set', 'lo', 'up']);
        if (mode.kind !== 'none') {
          for (const [i, [name, cfg]] of wanted.entries()) {
            const net = this.store.find(cfg.NetworkID ?? name);
            const n = net && net !== 'ambiguous' ? net : this.store.find(name);
            if (!n || n === 'ambiguous') throw notFound(`network ${name} not found`);
            sandbox.endpoints.push(await this.attach(c, n, cfg, key, `eth${i}`, i === 0));
          }
          const primary = sandbox.endpoints[0];
          const bridge = primary ? (this.store.find(primary.networkId) as NetworkRecord).bridgeName! : '';
          sandbox.ports = await this.ports.publish(c, primary, bridge);
        }
      } catch (e) {
        await this.release(c, sandbox);
        throw e;
      }
      this.live.set(c.Id, { c, sandbox });
      this.dns.update(this.dnsView());
      for (const ep of sandbox.endpoints) this.events.emit('network', 'connect', ep.networkId, { container: c.Id, name: ep.networkName, type: 'bridge' });
      this.builtinEvent(c, sandbox, 'connect');
      return sandbox;
    });
  }

  private async attach(c: ContainerRecord, n: NetworkRecord, cfg: EndpointConfig, key: string, ifname: string, primary: boolean): Promise<Endpoint> {
    const ipam = new Ipam(n.ipam!);
    let ip: string;
    try {
      ip = ipam.allocate(c.Id, cfg.IPAMConfig?.IPv4Address || undefined);
    } catch (e) {
      const msg = (e as Error).message;
      throw msg === 'Address already in use' ? forbidden(msg) : badRequest(msg);
    }
    this.store.save(n);
    const hostVeth = `veth${randomBytes(4).toString('hex').slice(0, 7)}`;
    const mac = (primary ? c.Config.MacAddress : undefined) || cfg.MacAddress || macFor(ip);
    const prefix = ipam.prefix;
    try {
      await run('ip', ['-batch', '-'], `link add ${hostVeth} type veth peer name ${ifname} address ${mac} netns ${key}\nlink set ${hostVeth} master ${n.bridgeName} up\n`);
      // Internal networks get no default route: they reach nothing beyond their bridge.
      const route = primary && !n.Internal ? `route add default via ${n.ipam!.gateway}\n` : '';
      await runInNetns(key, 'ip', ['-batch', '-'], `link set lo up\naddr add ${ip}/${prefix} brd + dev ${ifname}\nlink set ${ifname} up\n${route}`);
    } catch (e) {
      await run('ip', ['link', 'del', hostVeth]).catch(() => undefined);
      ipam.release(ip);
      this.store.save(n);
      throw e;
    }
    const name = c.Name.replace(/^\//, '');
    const aliases = cfg.Aliases ?? [];
    return {
      networkId: n.Id,
      networkName: n.Name,
      endpointId: newId(),
      ipAddress: ip,
      prefixLen: prefix,
      gateway: n.ipam!.gateway,
      macAddress: mac,
      hostVeth,
      ifname,
      aliases,
      // moby's buildEndpointDNSNames: the hostname too (dockerd 20.10-24 made it an alias).
      dnsNames: n.builtin ? [] : [...new Set([name, ...aliases, shortId(c.Id), c.Config.Hostname])],
    };
  }

  /** Connects a container to a network: at once when it runs, at its next start otherwise. */
  connect(c: ContainerRecord, ref: string, cfg: EndpointConfig): Promise<void> {
    return this.serialize(async () => {
      const n = this.find(ref);
      const mode = parseNetworkMode(c.HostConfig.NetworkMode);
      if ('error' in mode || mode.kind === 'host' || mode.kind === 'container' || mode.kind === 'none') {
        throw badRequest('container sharing network namespace with another container or host cannot be connected to any other network');
      }
      if (n.builtin === 'host' || n.builtin === 'none') throw badRequest('container cannot be disconnected from host network or connected to host network');
      const current = c.Networks ?? { bridge: {} };
      if (current[n.Name]) throw forbidden(`endpoint with name ${c.Name.replace(/^\//, '')} already exists in network ${n.Name}`);
      const checked = this.checkEndpointConfig(n, cfg);
      const live = this.live.get(c.Id);
      if (live) {
        const used = new Set(live.sandbox.endpoints.map((e) => e.ifname));
        let i = 0;
        while (used.has(`eth${i}`)) i++;
        const ep = await this.attach(c, n, checked, live.sandbox.key, `eth${i}`, live.sandbox.endpoints.length === 0);
        live.sandbox.endpoints.push(ep);
        this.dns.update(this.dnsView());
      }
      c.Networks = { ...current, [n.Name]: checked };
      this.events.emit('network', 'connect', n.Id, { container: c.Id, name: n.Name, type: 'bridge' });
    });
  }

  disconnect(c: ContainerRecord, ref: string, force: boolean): Promise<void> {
    return this.serialize(async () => {
      const n = this.store.find(ref);
      const current = c.Networks ?? { bridge: {} };
      if (!n || n === 'ambiguous') {
        if (!force) throw notFound(`network ${ref} not found`);
        return;
      }
      if (n.builtin === 'host' || n.builtin === 'none') throw badRequest('container cannot be disconnected from host network or connected to host network');
      if (!current[n.Name]) {
        if (force) return;
        throw forbidden(`container ${c.Id} is not connected to network ${n.Name}`);
      }
      const live = this.live.get(c.Id);
      const ep = live?.sandbox.endpoints.find((e) => e.networkId === n.Id);
      if (live && ep) {
        await this.detach(ep);
        live.sandbox.endpoints = live.sandbox.endpoints.filter((e) => e !== ep);
        this.dns.update(this.dnsView());
      }
      const rest = { ...current };
      delete rest[n.Name];
      c.Networks = rest;
      this.events.emit('network', 'disconnect', n.Id, { container: c.Id, name: n.Name, type: 'bridge' });
    });
  }

  private async detach(ep: Endpoint): Promise<void> {
    // Deleting one end removes the pair; the namespace may already be gone with its process.
    await run('ip', ['link', 'del', ep.hostVeth]).catch(() => undefined);
    const n = this.store.find(ep.networkId);
    if (n && n !== 'ambiguous' && n.ipam) {
      new Ipam(n.ipam).release(ep.ipAddress);
      this.store.save(n);
    }
  }

  private async release(c: ContainerRecord, sandbox: Sandbox): Promise<void> {
    await this.ports.unpublish(c.Id);
    for (const ep of sandbox.endpoints) await this.detach(ep);
    if (sandbox.key && sandbox.ownsNetns !== false) removeNetns(sandbox.key);
  }

  teardown(c: ContainerRecord, sandbox: Sandbox): Promise<void> {
    return this.serialize(async () => {
      this.live.delete(c.Id);
      this.dns.update(this.dnsView());
      await this.release(c, sandbox);
      for (const ep of sandbox.endpoints) this.events.emit('network', 'disconnect', ep.networkId, { container: c.Id, name: ep.networkName, type: 'bridge' });
      this.builtinEvent(c, sandbox, 'disconnect');
      this.log.debug({ container: c.Id }, 'network torn down');
    });
  }

  /** dockerd reports joining host or none as a connect (leaving, a disconnect) of that network, its driver as the type. */
  private builtinEvent(c: ContainerRecord, sandbox: Sandbox, action: 'connect' | 'disconnect'): void {
    if (sandbox.mode !== 'host' && sandbox.mode !== 'none') return;
    const n = this.store.builtin(sandbox.mode);
    if (n) this.events.emit('network', action, n.Id, { container: c.Id, name: n.Name, type: n.Driver });
  }

  /** The gateway DNS a container on user networks uses, or undefined on the default bridge. */
  dnsServerFor(sandbox: Sandbox): string | undefined {
    const ep = sandbox.endpoints.find((e) => e.dnsNames.length);
    return ep?.gateway;
  }

  /** The daemon's --dns servers (empty when it uses the host's). */
  get configuredDns(): string[] {
    return this.dnsConfig;
  }

  /** The default bridge's gateway (for --add-host name:host-gateway). */
  get bridgeGateway(): string {
    return this.store.builtin('bridge')?.ipam?.gateway ?? '';
  }

  private dnsView(): Array<{ containerId: string; dns: string[]; endpoints: Endpoint[] }> {
    return [...this.live.values()].map(({ c, sandbox }) => ({ containerId: c.Id, dns: (c.HostConfig.Dns as string[] | undefined) ?? [], endpoints: sandbox.endpoints }));
  }

  async shutdown(): Promise<void> {
    await this.serialize(async () => {
      await this.ports.unpublishAll();
      await this.dns.closeAll();
      for (const n of this.store.all()) {
        if (n.ownedBridge && n.bridgeName) {
          await removeBridge(n.bridgeName);
          delete n.ownedBridge;
          this.store.save(n);
        }
      }
      await this.firewall.shutdown();
    });
    this.log.debug({ bridge: this.bridgeName }, 'networking shut down');
  }
}

function parseCidrOr400(v: string): ReturnType<typeof parseCidr> {
  try {
    return parseCidr(v);
  } catch {
    throw badRequest(`invalid CIDR address: ${v}`);
  }
}
