// The local volume driver: each volume is `<data-root>/volumes/<name>/_data` with its metadata in
// `volume.json` beside it. Volumes with driver options (type/device/o) are mounted on the host
// when their first running user starts and unmounted when the last one stops.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'fs';
import type { Logger } from 'pino';
import * as libc from '../../native/libc';
import type { EventBus } from '../events/bus';
import { badRequest, conflict, notFound, serverError } from '../server/errors';
import { writeJsonAtomic } from '../util/atomic';
import { newId } from '../util/ids';
import { mountsUnder } from '../util/mounts';
import { parseMountOptions } from './mount-options';

export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  CreatedAt: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
}

/** GET /volumes/{name}: Docker's Volume object in its key order. */
export interface VolumeView {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
  UsageData?: { Size: number; RefCount: number };
}

export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const LOCAL_OPTIONS = ['type', 'device', 'o', 'size'];

export function invalidVolumeName(name: string): string {
  if (name.length === 1) return `create ${name}: volume name is too short, names should be at least two alphanumeric characters`;
  return `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`;
}

/** Docker's local driver options: only type, device, o (and size for some filesystems). */
export function validateDriverOptions(opts: Record<string, string> | null | undefined): void {
  if (!opts) return;
  for (const k of Object.keys(opts)) if (!LOCAL_OPTIONS.includes(k)) throw badRequest(`invalid option key: ${JSON.stringify(k)}`);
  if (Object.keys(opts).length && !opts.type && !opts.device && !opts.o) throw badRequest('missing required option: "device"');
  if (opts.type && !opts.device) throw badRequest('missing required option: "device"');
}

/** RFC 3339 with the local offset, as dockerd prints a volume's CreatedAt. */
function createdAt(): string {
  const d = new Date();
  const off = -d.getTimezoneOffset();
  const pad = (n: number): string => String(Math.floor(Math.abs(n))).padStart(2, '0');
  const local = new Date(d.getTime() + off * 60_000).toISOString().slice(0, 19);
  return `${local}${off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(off / 60)}:${pad(off % 60)}`}`;
}

/** Go marshals map keys in order; the docker CLI prints volume inspect as it is sent. */
function sorted(m: Record<string, string> | null): Record<string, string> | null {
  return m && Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export class VolumeStore {
  private readonly volumes = new Map<string, VolumeRecord>();
  /** Running containers holding each volume (host mounts live while this is non-empty). */
  private readonly users = new Map<string, Set<string>>();

  constructor(
    readonly root: string,
    private readonly events: EventBus,
    private readonly log: Logger,
  ) {
    mkdirSync(root, { recursive: true, mode: 0o701 });
    // Driver mounts from a daemon that died: nobody uses them now.
    for (const m of mountsUnder(root)) libc.umount2(m, libc.MNT_DETACH);
    for (const name of readdirSync(root)) {
      const meta = `${root}/${name}/volume.json`;
      if (!existsSync(meta)) continue;
      try {
        this.volumes.set(name, JSON.parse(readFileSync(meta, 'utf8')) as VolumeRecord);
      } catch (e) {
        log.warn({ volume: name, err: (e as Error).message }, 'unreadable volume metadata skipped');
      }
    }
  }

  dataDir(name: string): string {
    return `${this.root}/${name}/_data`;
  }

  list(): VolumeRecord[] {
    return [...this.volumes.values()];
  }

  get(name: string): VolumeRecord | undefined {
    return this.volumes.get(name);
  }

  find(name: string): VolumeRecord {
    const v = this.volumes.get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  }

  /** Creates a volume, or returns the existing one of that name (as dockerd does). */
  create(req: { name?: string; driver?: string; labels?: Record<string, string> | null; options?: Record<string, string> | null; anonymous?: boolean }): VolumeRecord {
    const driver = req.driver || 'local';
    if (driver !== 'local') throw notFound(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    const name = req.name || newId();
    if (!VALID_NAME.test(name)) throw badRequest(invalidVolumeName(name));
    const existing = this.volumes.get(name);
    if (existing) return existing;
    validateDriverOptions(req.options);
    if (req.options?.o) parseMountOptions(req.options.o);
    // A volume without a given name is anonymous, as dockerd marks it.
    const labels = req.anonymous || !req.name ? { ...(req.labels ?? {}), [ANONYMOUS_LABEL]: '' } : (req.labels ?? null);
    const rec: VolumeRecord = { Name: name, Driver: 'local', CreatedAt: createdAt(), Labels: labels, Options: req.options ?? null };
    mkdirSync(this.dataDir(name), { recursive: true, mode: 0o755 });
    writeJsonAtomic(`${this.root}/${name}/volume.json`, rec);
    this.volumes.set(name, rec);
    this.events.emit('volume', 'create', name, { driver: 'local' });
    this.log.info({ volume: name }, 'volume created');
    return rec;
  }

  /** Removes a volume; `usedBy` names the containers (running or not) that refer to it. */
  remove(name: string, usedBy: string[], opts: { force?: boolean } = {}): void {
    const v = this.volumes.get(name);
    if (!v) {
      if (opts.force) return;
      throw notFound(`get ${name}: no such volume`);
    }
    if (usedBy.length) throw conflict(`remove ${name}: volume is in use - [${usedBy.join(', ')}]`);
    this.unmountDriver(name);
    rmSync(`${this.root}/${name}`, { recursive: true, force: true });
    this.volumes.delete(name);
    this.users.delete(name);
    this.events.emit('volume', 'destroy', name, { driver: 'local' });
    this.log.info({ volume: name }, 'volume removed');
  }

  isAnonymous(v: VolumeRecord): boolean {
    return v.Labels !== null && ANONYMOUS_LABEL in v.Labels;
  }

  /** A container starts using the volume: its driver mount is made by the first user. */
  acquire(name: string, containerId: string, attrs: Record<string, string>): void {
    const v = this.find(name);
    let set = this.users.get(name);
    if (!set) this.users.set(name, (set = new Set()));
    if (set.size === 0 && v.Options && (v.Options.type || v.Options.device)) {
      const { flags, data } = parseMountOptions(v.Options.o ?? '');
      const size = v.Options.size ? [`size=${v.Options.size}`] : [];
      const opts = [data, ...size].filter(Boolean).join(',') || null;
      const source = v.Options.device ?? v.Options.type;
      try {
        libc.mount(source, this.dataDir(name), v.Options.type ?? null, flags, opts);
      } catch (e) {
        const reason = e instanceof libc.SyscallError ? e.code : (e as Error).message;
        throw serverError(`error while mounting volume '${this.dataDir(name)}': failed to mount local volume: mount ${source}:${this.dataDir(name)}, data: ${opts ?? ''}: ${reason}`);
      }
      this.log.info({ volume: name, container: containerId }, 'volume driver mount made');
    }
    set.add(containerId);
    this.events.emit('volume', 'mount', name, { container: containerId, driver: 'local', ...attrs });
  }

  release(name: string, containerId: string): void {
    const set = this.users.get(name);
    if (!set?.delete(containerId)) return;
    this.events.emit('volume', 'unmount', name, { container: containerId, driver: 'local' });
    if (set.size === 0) this.unmountDriver(name);
  }

  inUse(name: string): boolean {
    return (this.users.get(name)?.size ?? 0) > 0;
  }

  private unmountDriver(name: string): void {
    for (const m of mountsUnder(this.dataDir(name))) libc.umount2(m, libc.MNT_DETACH);
  }

  /** Daemon shutdown: no driver mount outlives the daemon. */
  unmountAll(): void {
    for (const m of mountsUnder(this.root)) libc.umount2(m, libc.MNT_DETACH);
    this.users.clear();
  }

  view(v: VolumeRecord): VolumeView {
    return { CreatedAt: v.CreatedAt, Driver: v.Driver, Labels: sorted(v.Labels), Mountpoint: this.dataDir(v.Name), Name: v.Name, Options: sorted(v.Options), Scope: 'local' };
  }
}
