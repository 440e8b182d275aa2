// What a container may see of the host's devices, as dockerd's WithDevices decides at start:
// the nodes to create (--device, or every host device for --privileged) and the device cgroup
// rules (deny all, then the container's own, then runc's defaults; allow all when privileged).
import { lstatSync, readdirSync, realpathSync, statSync, type BigIntStats } from 'fs';
import { join } from 'path';
import type { Logger } from 'pino';
import { ALLOW_ALL, badCgroupRuleMessage, DENY_ALL, parseCgroupRule, RUNC_DEFAULT_RULES, type DeviceRule } from '../cgroups/devices';
import type { DeviceNode } from '../runtime/init-spec';
import { badRequest, serverError } from '../server/errors';

/** One of HostConfig.Devices, as the docker CLI sends --device HOST[:CONTAINER[:PERMS]]. */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

export interface ContainerDevices {
  nodes: DeviceNode[];
  rules: DeviceRule[];
}

/** Top-level /dev directories HostDevices leaves out (containerd's list): the container has its own, or they are not devices. */
const SKIPPED_DIRS = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);

/**
 * The create-time check of HostConfig.Devices: each an object with the CLI's permission letters.
 * Whether the host has the device is for the start to find, as dockerd finds it.
 */
export function checkDeviceMappings(devices: unknown[]): void {
  for (const d of devices) {
    if (typeof d !== 'object' || d === null || Array.isArray(d)) throw badRequest(`json: cannot unmarshal ${Array.isArray(d) ? 'array' : typeof d} into Go struct field HostConfig.Devices of type container.DeviceMapping`);
    const perms = (d as Partial<DeviceMapping>).CgroupPermissions;
    // Each of r, w, m at most once (the CLI's validDeviceMode); the kernel takes no other letters.
    if (perms && !/^(?!.*(.).*\1)[rwm]{1,3}$/.test(perms)) throw badRequest(`invalid device mode: ${perms}`);
  }
}

/** The container's devices and device cgroup rules; a 500 with dockerd's words for a mapping the host cannot satisfy. */
export function containerDevices(
  hc: { Privileged?: boolean; Devices?: unknown; DeviceCgroupRules?: unknown },
  log: Logger,
  containerId: string,
): ContainerDevices {
  const mappings = ((hc.Devices as DeviceMapping[] | null | undefined) ?? []).map((d) => ({
    PathOnHost: d.PathOnHost,
    PathInContainer: d.PathInContainer || d.PathOnHost,
    CgroupPermissions: d.CgroupPermissions || 'rwm',
  }));
  if (hc.Privileged) {
    const nodes = hostDevices();
    for (const m of mappings) {
      if (m.CgroupPermissions !== 'rwm') log.warn({ container: containerId }, `custom ${m.CgroupPermissions} permissions for device ${m.PathOnHost} are ignored in privileged mode`);
      if (m.PathOnHost === m.PathInContainer) {
        log.warn({ container: containerId }, `path in container ${m.PathInContainer} already exists in privileged mode`);
        continue;
      }
      nodes.push(...devicesFromPath(m.PathOnHost, m.PathInContainer, 'rwm').nodes);
    }
    return { nodes, rules: [DENY_ALL, ALLOW_ALL, ...RUNC_DEFAULT_RULES] };
  }
  const nodes: DeviceNode[] = [];
  const rules: DeviceRule[] = [DENY_ALL];
  for (const m of mappings) {
    const found = devicesFromPath(m.PathOnHost, m.PathInContainer, m.CgroupPermissions);
    nodes.push(...found.nodes);
    rules.push(...found.rules);
  }
  for (const text of (hc.DeviceCgroupRules as string[] | null | undefined) ?? []) {
    const r = parseCgroupRule(text);
    // As dockerd: any failure building the spec is a system error, even a malformed rule.
    if (!r) throw serverError(badCgroupRuleMessage(text));
    rules.push(r);
  }
  return { nodes, rules: [...rules, ...RUNC_DEFAULT_RULES] };
}

/** containerd's DeviceFromPath: the node at `path` itself (not a link's target); null when it is no device. */
function deviceAt(path: string): DeviceNode | null {
  const st = lstatSync(path, { bigint: true });
  const type = nodeType(st);
  if (!type) return null;
  const rdev = st.rdev;
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { path, type, major, minor, mode: Number(st.mode & 0o7777n), uid: Number(st.uid), gid: Number(st.gid) };
}

function nodeType(st: BigIntStats): DeviceNode['type'] | null {
  if (st.isCharacterDevice()) return 'c';
  if (st.isBlockDevice()) return 'b';
  if (st.isFIFO()) return 'p';
  return null;
}

const ruleFor = (d: DeviceNode, access: string): DeviceRule[] => (d.type === 'p' ? [] : [{ type: d.type, major: d.major, minor: d.minor, access, allow: true }]);

/**
 * moby's DevicesFromPath: a device node (a link to one is followed), or a directory whose every
 * device below it is mapped under `pathInContainer`.
 */
export function devicesFromPath(pathOnHost: string, pathInContainer: string, access: string): ContainerDevices {
  const fail = (why: string) => serverError(`error gathering device information while adding custom device "${pathOnHost}": ${why}`);
  let resolved = pathOnHost;
  try {
    if (lstatSync(pathOnHost).isSymbolicLink()) resolved = realpathSync(pathOnHost);
  } catch {
    // Reported below, by the node's own lookup.
  }
  let device: DeviceNode | null;
  try {
    device = deviceAt(resolved);
  } catch (e) {
    throw fail(errnoText(e));
  }
  if (device) return { nodes: [{ ...device, path: pathInContainer }], rules: ruleFor(device, access) };
  const nodes: DeviceNode[] = [];
  if (statSync(resolved, { throwIfNoEntry: false })?.isDirectory()) {
    walk(resolved, (found) => nodes.push({ ...found, path: found.path.replace(resolved, pathInContainer) }));
  }
  if (!nodes.length) throw fail('not a device node');
  return { nodes, rules: nodes.flatMap((n) => ruleFor(n, access)) };
}

/** Every device at or below `dir`, unreadable entries skipped (as WalkDir's callback ignores them). */
function walk(dir: string, found: (d: DeviceNode) => void): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) walk(path, found);
    else {
      try {
        const d = deviceAt(path);
        if (d) found(d);
      } catch {
        // Gone meanwhile.
      }
    }
  }
}

/** containerd's HostDevices: the host's /dev, less the directories the container has its own of and the console. */
export function hostDevices(root = '/dev'): DeviceNode[] {
  const out: DeviceNode[] = [];
  const visit = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIPPED_DIRS.has(e.name)) visit(path);
        continue;
      }
      if (e.name === 'console') continue;
      try {
        const d = deviceAt(path);
        if (d) out.push({ ...d, path: `/dev${path.slice(root.length)}` });
      } catch {
        // Gone meanwhile.
      }
    }
  };
  visit(root);
  return out;
}

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'ENOTDIR') return 'not a directory';
  return (e as Error).message;
}
