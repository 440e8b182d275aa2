// Per-container networking: a namespace, and on the default bridge a veth pair with an address.
import { mkdirSync, readFileSync, existsSync, readdirSync } from 'fs';
import { randomBytes } from 'crypto';
import type { Logger } from 'pino';
import { writeJsonAtomic } from '../util/atomic';
import { run } from '../util/exec';
import { newId } from '../util/ids';
import { bridgeInfo, ensureBridge, removeBridge, type BridgeInfo } from './bridge';
import { Ipam, macFor, type IpamState } from './ipam';
import { createNetns, removeNetns } from './netns';

export type NetworkMode = 'bridge' | 'host' | 'none';

export interface Endpoint {
  networkId: string;
  endpointId: string;
  ipAddress: string;
  prefixLen: number;
  gateway: string;
  macAddress: string;
  hostVeth: string;
}

export interface Sandbox {
  mode: NetworkMode;
  /** Bind-mounted namespace file; empty for host networking. */
  key: string;
  endpoint: Endpoint | null;
}

/** HostConfig.NetworkMode as given, or an error message for a mode this daemon lacks. */
export function parseNetworkMode(mode: string | undefined): NetworkMode | { error: string } {
  if (!mode || mode === 'default' || mode === 'bridge') return 'bridge';
  if (mode === 'host' || mode === 'none') return mode;
  if (mode.startsWith('container:')) return { error: `network mode ${mode} is not supported yet` };
  return { error: `network ${mode} not found` };
}

interface BridgeState {
  id: string;
  created: string;
  ipam: IpamState;
  /** The bridge berth made, if it made it: removed at shutdown, also after a crash and restart. */
  ownedBridge?: string;
}

export class NetworkManager {
  private constructor(
    private readonly log: Logger,
    private readonly stateFile: string,
    private readonly netnsDir: string,
    readonly bridge: BridgeInfo,
    private readonly state: BridgeState,
    private readonly ipam: Ipam,
  ) {}

  static async open(opts: { dataRoot: string; execRoot: string; bridge: string; bip: string; log: Logger }): Promise<NetworkManager> {
    const dir = `${opts.dataRoot}/network`;
    const netnsDir = `${opts.execRoot}/netns`;
    mkdirSync(dir, { recursive: true });
    mkdirSync(netnsDir, { recursive: true });
    const info = bridgeInfo(opts.bridge, opts.bip);
    const stateFile = `${dir}/bridge.json`;
    let state: BridgeState | undefined = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as BridgeState) : undefined;
    if (!state || state.ipam.subnet !== info.subnet || state.ipam.gateway !== info.gateway) {
      state = { id: state?.id ?? newId(), created: state?.created ?? new Date().toISOString(), ipam: { subnet: info.subnet, gateway: info.gateway, allocated: {}, cursor: 1 }, ownedBridge: state?.ownedBridge };
    }
    const created = await ensureBridge(info);
    if (created) state.ownedBridge = info.name;
    const mgr = new NetworkManager(opts.log, stateFile, netnsDir, info, state, new Ipam(state.ipam));
    mgr.save();
    return mgr;
  }

  get bridgeNetworkId(): string {
    return this.state.id;
  }

  get bridgeCreated(): string {
    return this.state.created;
  }

  /** Frees addresses and namespaces of containers that no longer run (after a crash or restart). */
  reconcile(running: Set<string>): void {
    this.ipam.releaseAllExcept(running);
    this.save();
    for (const name of readdirSync(this.netnsDir)) {
      if (!running.has(name)) removeNetns(`${this.netnsDir}/${name}`);
    }
  }

  async setup(containerId: string, mode: NetworkMode): Promise<Sandbox> {
    if (mode === 'host') return { mode, key: '', endpoint: null };
    const key = `${this.netnsDir}/${containerId.slice(0, 12)}`;
    createNetns(key);
    try {
      if (mode === 'none') {
        await run('nsenter', [`--net=${key}`, 'ip', 'link', 'set', 'lo', 'up']);
        return { mode, key, endpoint: null };
      }
      return { mode, key, endpoint: await this.attachBridge(containerId, key) };
    } catch (e) {
      removeNetns(key);
      throw e;
    }
  }

  private async attachBridge(containerId: string, key: string): Promise<Endpoint> {
    const ip = this.ipam.allocate(containerId);
    this.save();
    const hostVeth = `veth${randomBytes(4).toString('hex').slice(0, 7)}`;
    const mac = macFor(ip);
    const b = this.bridge;
    try {
      await run('ip', ['-batch', '-'], `link add ${hostVeth} type veth peer name eth0 address ${mac} netns ${key}\nlink set ${hostVeth} master ${b.name} up\n`);
      await run(
        'nsenter',
        [`--net=${key}`, 'ip', '-batch', '-'],
        `link set lo up\naddr add ${ip}/${b.prefix} brd + dev eth0\nlink set eth0 up\nroute add default via ${b.gateway}\n`,
      );
    } catch (e) {
      await run('ip', ['link', 'del', hostVeth]).catch(() => undefined);
      this.ipam.release(ip);
      this.save();
      throw e;
    }
    return { networkId: this.state.id, endpointId: newId(), ipAddress: ip, prefixLen: b.prefix, gateway: b.gateway, macAddress: mac, hostVeth };
  }

  async teardown(containerId: string, sandbox: Sandbox): Promise<void> {
    if (sandbox.endpoint) {
      // Deleting one end removes the pair; the namespace may already be gone with its process.
      await run('ip', ['link', 'del', sandbox.endpoint.hostVeth]).catch(() => undefined);
      this.ipam.release(sandbox.endpoint.ipAddress);
      this.save();
    }
    if (sandbox.key) removeNetns(sandbox.key);
    this.log.debug({ container: containerId }, 'network torn down');
  }

  async shutdown(): Promise<void> {
    if (this.state.ownedBridge === this.bridge.name) {
      await removeBridge(this.bridge.name);
      delete this.state.ownedBridge;
      this.save();
    }
  }

  private save(): void {
    writeJsonAtomic(this.stateFile, this.state);
  }
}
