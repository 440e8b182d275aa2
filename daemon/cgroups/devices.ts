// Device cgroup rules as runc keeps them: dockerd's spec denies every device, then allows the
// container's own (--device, --device-cgroup-rule), and runc appends its default set. v1 writes
// the outcome to devices.deny/devices.allow; v2 compiles it into an eBPF program (device-filter.ts).

export type DeviceType = 'a' | 'b' | 'c';

export interface DeviceRule {
  type: DeviceType;
  /** -1 for any ("*"). */
  major: number;
  minor: number;
  /** Some of "rwm": read, write, mknod. */
  access: string;
  allow: boolean;
}

const rule = (type: DeviceType, major: number, minor: number, access: string): DeviceRule => ({ type, major, minor, access, allow: true });

/** oci.DefaultSpec's Linux.Resources.Devices: nothing, until allowed. */
export const DENY_ALL: DeviceRule = { type: 'a', major: -1, minor: -1, access: 'rwm', allow: false };

/** --privileged: every device. */
export const ALLOW_ALL: DeviceRule = { type: 'a', major: -1, minor: -1, access: 'rwm', allow: true };

/**
 * runc's specconv.AllowedDevices, appended to every container's rules: mknod of any device, the
 * standard nodes, the pty slaves (136:*) and ptmx, and /dev/net/tun (kept for compatibility).
 */
export const RUNC_DEFAULT_RULES: DeviceRule[] = [
  rule('c', -1, -1, 'm'),
  rule('b', -1, -1, 'm'),
  rule('c', 1, 3, 'rwm'),
  rule('c', 1, 8, 'rwm'),
  rule('c', 1, 7, 'rwm'),
  rule('c', 5, 0, 'rwm'),
  rule('c', 1, 5, 'rwm'),
  rule('c', 1, 9, 'rwm'),
  rule('c', 136, -1, 'rwm'),
  rule('c', 5, 2, 'rwm'),
  rule('c', 10, 200, 'rwm'),
];

const CGROUP_RULE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

/**
 * One --device-cgroup-rule as moby's AppendDevicePermissionsFromCgroupRules reads it ("a" alone is
 * the kernel's shorthand for "a *:* rwm"); null when it is not of that form.
 */
export function parseCgroupRule(text: string): DeviceRule | null {
  const m = CGROUP_RULE.exec(text === 'a' ? 'a *:* rwm' : text);
  if (!m) return null;
  const num = (s: string): number => (s === '*' ? -1 : Number(s));
  const major = num(m[2]);
  const minor = num(m[3]);
  if (!Number.isSafeInteger(major) || !Number.isSafeInteger(minor)) return null;
  return rule(m[1] as DeviceType, major, minor, m[4]);
}

/** dockerd's message for a rule parseCgroupRule refuses. */
export function badCgroupRuleMessage(text: string): string {
  return `invalid device cgroup rule format: '${text}'`;
}

/**
 * What a list of rules comes to, as the v1 kernel (and runc's emulator for v2) applies them in
 * order: a default, and exceptions to it. A rule of type "a" resets both.
 */
export interface DeviceAccess {
  defaultAllow: boolean;
  /** Rules whose `allow` is the opposite of the default, at most one per type/major/minor, in order. */
  exceptions: DeviceRule[];
}

export function resolveRules(rules: readonly DeviceRule[]): DeviceAccess {
  let defaultAllow = true;
  let exceptions: DeviceRule[] = [];
  for (const r of rules) {
    if (r.type === 'a') {
      defaultAllow = r.allow;
      exceptions = [];
      continue;
    }
    const same = exceptions.findIndex((e) => e.type === r.type && e.major === r.major && e.minor === r.minor);
    if (r.allow !== defaultAllow) {
      // An exception: add its access to any for the same device, as the kernel merges them.
      if (same < 0) exceptions.push({ ...r, access: normalizeAccess(r.access) });
      else exceptions[same] = { ...exceptions[same], access: normalizeAccess(exceptions[same].access + r.access) };
    } else if (same >= 0) {
      // Back towards the default: that access is no longer an exception.
      const left = [...exceptions[same].access].filter((c) => !r.access.includes(c)).join('');
      if (left) exceptions[same] = { ...exceptions[same], access: left };
      else exceptions.splice(same, 1);
    }
  }
  return { defaultAllow, exceptions };
}

function normalizeAccess(access: string): string {
  return ['r', 'w', 'm'].filter((c) => access.includes(c)).join('');
}

/** A rule as the v1 devices.allow/devices.deny files take it: "c 1:3 rwm", "b *:* m". */
export function ruleText(r: DeviceRule): string {
  const n = (v: number): string => (v < 0 ? '*' : String(v));
  return `${r.type} ${n(r.major)}:${n(r.minor)} ${r.access}`;
}

/**
 * The writes that put a fresh v1 devices cgroup (which starts as its parent's, allowing all under
 * a default root) into `access`: the default first, which clears what it inherited, then each exception.
 */
export function v1DeviceWrites(access: DeviceAccess): Array<[file: 'devices.allow' | 'devices.deny', value: string]> {
  const writes: Array<['devices.allow' | 'devices.deny', string]> = [[access.defaultAllow ? 'devices.allow' : 'devices.deny', 'a']];
  for (const e of access.exceptions) writes.push([e.allow ? 'devices.allow' : 'devices.deny', ruleText(e)]);
  return writes;
}
