// A container's mounts as Docker records them (its MountPoints), parsed from HostConfig.Binds,
// HostConfig.Mounts, HostConfig.Tmpfs, HostConfig.VolumesFrom and Config.Volumes with
// moby's rules and messages. Pure: nothing is created here.
import { posix } from 'path';
import { badRequest, notFound } from '../server/errors';
import { invalidVolumeName, validateDriverOptions } from './store';

export type MountType = 'bind' | 'volume' | 'tmpfs';

export interface MountPoint {
  Type: MountType;
  /** Volume name ('' for binds and tmpfs). */
  Name: string;
  /** Host path: the bind source or the volume's data directory ('' for tmpfs). */
  Source: string;
  Destination: string;
  Driver: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
  /** Fill an empty volume from the image's content at Destination. */
  CopyData: boolean;
  /** Made for this container alone (Config.Volumes or a volume mount without a name). */
  Anonymous: boolean;
  /** A -v bind source is created when missing; a --mount one must exist. */
  CreateSource: boolean;
  /** tmpfs options (mount data), for Type tmpfs. */
  TmpfsOptions?: string;
  /** HostConfig.Tmpfs entries: mounted, but not listed in inspect's Mounts (as dockerd). */
  Hidden?: boolean;
  /** For volumes created on first use: the --mount volume options. */
  VolumeLabels?: Record<string, string> | null;
  DriverOptions?: Record<string, string> | null;
}

const PROPAGATIONS = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'];
const LABEL_MODES = ['z', 'Z'];
const CONSISTENCY = ['consistent', 'cached', 'delegated'];
const COPY_MODES = ['nocopy'];

const invalidSpec = (raw: string): string => `invalid volume specification: '${raw}'`;
const mountConfig = (type: string, msg: string): string => `invalid mount config for type "${type}": ${msg}`;

/** moby's linuxValidMountMode: each kind of option at most once, nothing unknown. */
function validMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = { rw: 0, label: 0, prop: 0, copy: 0, cons: 0 };
  for (const o of mode.split(',')) {
    if (o === 'rw' || o === 'ro') counts.rw++;
    else if (LABEL_MODES.includes(o)) counts.label++;
    else if (PROPAGATIONS.includes(o)) counts.prop++;
    else if (COPY_MODES.includes(o)) counts.copy++;
    else if (CONSISTENCY.includes(o)) counts.cons++;
    else return false;
  }
  return Object.values(counts).every((n) => n <= 1);
}

function checkTarget(type: string, target: string): void {
  if (!target) throw badRequest(mountConfig(type, 'field Target must not be empty'));
  if (posix.normalize(target) === '/' || posix.normalize(target) === '//') throw badRequest(mountConfig(type, "invalid specification: destination can't be '/'"));
  if (!target.startsWith('/')) throw badRequest(mountConfig(type, `invalid mount path: '${target}' mount path must be absolute`));
}

const clean = (p: string): string => posix.normalize(p).replace(/\/+$/, '') || '/';

function volumePoint(name: string, dest: string, rw: boolean, mode: string, copy: boolean): MountPoint {
  return { Type: 'volume', Name: name, Source: '', Destination: clean(dest), Driver: 'local', Mode: mode, RW: rw, Propagation: '', CopyData: copy, Anonymous: name === '', CreateSource: false };
}

/** A HostConfig.Binds entry: "dst", "src:dst" or "src:dst:mode". */
export function parseBind(raw: string): MountPoint {
  const arr = raw.split(':');
  if (arr[0] === '' || arr.length > 3) throw badRequest(invalidSpec(raw));
  let source = '';
  let target: string;
  let mode = '';
  if (arr.length === 1) target = arr[0];
  else if (arr.length === 2) {
    if (validMode(arr[1])) throw badRequest(invalidSpec(raw));
    [source, target] = arr;
  } else [source, target, mode] = arr;
  if (!validMode(mode)) throw badRequest(`invalid mode: ${mode}`);
  const opts = mode ? mode.split(',') : [];
  const rw = !opts.includes('ro');
  const type = source.startsWith('/') ? 'bind' : 'volume';
  try {
    checkTarget(type, target);
  } catch (e) {
    throw badRequest(`${invalidSpec(raw)}: ${(e as Error).message}`);
  }
  const propagation = opts.find((o) => PROPAGATIONS.includes(o));
  if (type === 'bind') {
    return { Type: 'bind', Name: '', Source: clean(source), Destination: clean(target), Driver: '', Mode: mode, RW: rw, Propagation: propagation ?? 'rprivate', CopyData: false, Anonymous: false, CreateSource: true };
  }
  if (propagation) throw badRequest(`${invalidSpec(raw)}: ${mountConfig('volume', 'field BindOptions must not be specified')}`);
  // A relative path is read as a volume name, which it cannot be: Docker's hint about absolute paths.
  if (source && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(source)) throw badRequest(invalidVolumeName(source));
  // dockerd's setBindModeIfNull: a local volume from Binds or Mounts without a mode shows Mode "z" (image and Config.Volumes ones '').
  return volumePoint(source, target, rw, mode || 'z', !opts.includes('nocopy'));
}

interface ApiMount {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string; CreateMountpoint?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> } } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number } | null;
}

/** moby's ConvertTmpfsOptions: mode in octal, the size with the largest suffix that divides it. */
export function tmpfsData(sizeBytes: number | undefined, mode: number | undefined, readOnly: boolean): string {
  const out: string[] = [];
  if (readOnly) out.push('ro');
  if (mode) out.push(`mode=${mode.toString(8)}`);
  if (sizeBytes) {
    let size = sizeBytes;
    let suffix = '';
    for (const [s, d] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
      if (size % d === 0) {
        size /= d;
        suffix = s;
        break;
      }
    }
    out.push(`size=${size}${suffix}`);
  }
  return out.join(',');
}

/** A HostConfig.Mounts entry (`--mount`); a bind source must exist (`exists` answers). */
export function parseApiMount(m: ApiMount, exists: (path: string) => boolean): MountPoint {
  const type = m.Type ?? '';
  if (!['bind', 'volume', 'tmpfs'].includes(type)) throw badRequest(mountConfig(type, 'mount type unknown'));
  const target = m.Target ?? '';
  checkTarget(type, target);
  const source = m.Source ?? '';
  const rw = !m.ReadOnly;
  if (type === 'bind') {
    if (!source) throw badRequest(mountConfig(type, 'field Source must not be empty'));
    if (m.VolumeOptions) throw badRequest(mountConfig(type, 'field VolumeOptions must not be specified'));
    const prop = m.BindOptions?.Propagation;
    if (prop && !PROPAGATIONS.includes(prop)) throw badRequest(mountConfig(type, `invalid propagation mode: ${prop}`));
    if (!source.startsWith('/')) throw badRequest(mountConfig(type, `invalid mount path: '${source}' mount path must be absolute`));
    const create = m.BindOptions?.CreateMountpoint === true;
    if (!create && !exists(source)) throw badRequest(mountConfig(type, `bind source path does not exist: ${source}`));
    return { Type: 'bind', Name: '', Source: clean(source), Destination: clean(target), Driver: '', Mode: '', RW: rw, Propagation: prop || 'rprivate', CopyData: false, Anonymous: false, CreateSource: create };
  }
  if (m.BindOptions) throw badRequest(mountConfig(type, 'field BindOptions must not be specified'));
  if (type === 'volume') {
    if (!source && m.ReadOnly) throw badRequest(mountConfig(type, 'must not set ReadOnly mode when using anonymous volumes'));
    if (source && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(source)) throw badRequest(invalidVolumeName(source));
    const driver = m.VolumeOptions?.DriverConfig?.Name;
    if (driver && driver !== 'local') throw notFound(`error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    const driverOpts = m.VolumeOptions?.DriverConfig?.Options ?? null;
    validateDriverOptions(driverOpts);
    return { ...volumePoint(source, target, rw, 'z', !m.VolumeOptions?.NoCopy), VolumeLabels: m.VolumeOptions?.Labels ?? null, DriverOptions: driverOpts };
  }
  if (source) throw badRequest(mountConfig(type, 'field Source must not be specified'));
  const t = m.TmpfsOptions ?? {};
  if ((t.SizeBytes ?? 0) < 0) throw badRequest(mountConfig(type, 'invalid tmpfs size: must not be negative'));
  return { Type: 'tmpfs', Name: '', Source: '', Destination: clean(target), Driver: '', Mode: '', RW: rw, Propagation: '', CopyData: false, Anonymous: false, CreateSource: false, TmpfsOptions: tmpfsData(t.SizeBytes, t.Mode, !rw) };
}

/** HostConfig.Tmpfs: {"/run": "rw,size=64m"}. */
export function parseTmpfsEntry(dest: string, options: string): MountPoint {
  if (!dest.startsWith('/')) throw badRequest(`invalid mount path: '${dest}' mount path must be absolute`);
  if (clean(dest) === '/') throw badRequest("invalid specification: destination can't be '/'");
  const rw = !options.split(',').includes('ro');
  return { Type: 'tmpfs', Name: '', Source: '', Destination: clean(dest), Driver: '', Mode: '', RW: rw, Propagation: '', CopyData: false, Anonymous: false, CreateSource: false, TmpfsOptions: options, Hidden: true };
}

/** "ctr[:ro|rw]" of HostConfig.VolumesFrom. */
export function parseVolumesFrom(spec: string): { ref: string; mode: string } {
  if (!spec) throw badRequest('volumes-from specification cannot be an empty string');
  const i = spec.indexOf(':');
  const ref = i < 0 ? spec : spec.slice(0, i);
  const mode = i < 0 ? 'rw' : spec.slice(i + 1);
  const opts = mode.split(',');
  if (!validMode(mode) || opts.some((o) => PROPAGATIONS.includes(o) || COPY_MODES.includes(o))) throw badRequest(`invalid mode: ${mode}`);
  return { ref, mode };
}

export interface PlanInput {
  binds: string[];
  mounts: ApiMount[];
  tmpfs: Record<string, string>;
  volumesFrom: string[];
  /** Config.Volumes, the image's merged in. */
  volumes: string[];
}

/**
 * The container's mount points in moby's order of precedence: volumes-from, then Binds and Mounts
 * (which may not share a destination), then Config.Volumes where nothing else is mounted.
 */
export function planMounts(input: PlanInput, deps: { exists(path: string): boolean; mountsOf(ref: string): MountPoint[] }): MountPoint[] {
  const points = new Map<string, MountPoint>();
  for (const spec of input.volumesFrom) {
    const { ref, mode } = parseVolumesFrom(spec);
    const rw = !mode.split(',').includes('ro');
    for (const m of deps.mountsOf(ref)) {
      if (m.Hidden) continue;
      points.set(m.Destination, { ...m, RW: m.RW && rw, Mode: '', CopyData: false, Anonymous: false, CreateSource: false });
    }
  }
  const explicit = new Set<string>();
  const add = (m: MountPoint): void => {
    if (explicit.has(m.Destination)) throw badRequest(`Duplicate mount point: ${m.Destination}`);
    explicit.add(m.Destination);
    points.set(m.Destination, m);
  };
  for (const b of input.binds) add(parseBind(b));
  for (const m of input.mounts) add(parseApiMount(m, deps.exists));
  for (const [dest, opts] of Object.entries(input.tmpfs)) add(parseTmpfsEntry(dest, opts));
  for (const v of input.volumes) {
    checkTarget('volume', v);
    const dest = clean(v);
    if (!points.has(dest)) points.set(dest, volumePoint('', dest, true, '', true));
  }
  return [...points.values()].sort((a, b) => a.Destination.localeCompare(b.Destination));
}
