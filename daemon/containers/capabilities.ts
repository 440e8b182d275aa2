// --cap-add and --cap-drop: dockerd's check of the names at create and the set a container's
// processes (its command, its execs, its health probes) get at start.
import { DEFAULT_CAPABILITIES, privilegedCapabilities } from '../runtime/defaults';
import { badRequest } from '../server/errors';

/** Capability names by number, as linux/capability.h numbers them. */
const NAMES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
  'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
  'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
  'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
].map((n) => `CAP_${n}`);

const ALL = 'ALL';

/** CAP_ names of capability numbers, for rules written with names (seccomp profiles). */
export function capabilityNames(caps: readonly number[]): string[] {
  return caps.map((c) => NAMES[c]).filter((n): n is string => n !== undefined);
}

/** As moby's NormalizeLegacyCapabilities: upper case, `CAP_` added, `ALL` kept; the first unknown name otherwise. */
function normalize(list: readonly string[]): { names: string[] } | { unknown: string } {
  const names: string[] = [];
  for (const raw of list) {
    const upper = raw.toUpperCase();
    const name = upper === ALL || upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    if (name !== ALL && !NAMES.includes(name)) return { unknown: name };
    names.push(name);
  }
  return { names };
}

/** The create-time check: dockerd's 400 for a name it does not know or cannot hand on (the kernel or its own set lacks it). */
export function checkCapabilities(capAdd: readonly string[] | null | undefined, capDrop: readonly string[] | null | undefined): void {
  for (const [field, list] of [['CapAdd', capAdd], ['CapDrop', capDrop]] as const) {
    const r = normalize(list ?? []);
    if ('unknown' in r) throw badRequest(`invalid ${field}: unknown capability: "${r.unknown}"`);
    const held = privilegedCapabilities();
    const missing = r.names.find((n) => n !== ALL && !held.includes(NAMES.indexOf(n)));
    if (missing) throw badRequest(`invalid ${field}: capability not supported by your kernel or not available in the current environment: "${missing}"`);
  }
}

/**
 * The set a container gets, as moby's TweakCapabilities makes it: --privileged is every one the
 * daemon holds, whatever CapAdd and CapDrop say; ALL in CapAdd is every
 * capability but the dropped ones, ALL in CapDrop leaves only the added ones, otherwise the
 * defaults minus the dropped plus the added. Only what the daemon holds can be handed on.
 */
export function containerCapabilities(hc: { Privileged?: boolean; CapAdd?: string[] | null; CapDrop?: string[] | null }): number[] {
  if (hc.Privileged) return privilegedCapabilities();
  const list = (v: string[] | null | undefined): string[] => {
    const r = normalize(v ?? []);
    return 'names' in r ? r.names : [];
  };
  const add = list(hc.CapAdd);
  const drop = list(hc.CapDrop);
  if (!add.length && !drop.length) return DEFAULT_CAPABILITIES;
  const num = (names: string[]): number[] => names.filter((n) => n !== ALL).map((n) => NAMES.indexOf(n));
  const held = privilegedCapabilities();
  let caps: number[];
  if (add.includes(ALL)) caps = held.filter((c) => !num(drop).includes(c));
  else if (drop.includes(ALL)) caps = num(add);
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !num(drop).includes(c)), ...num(add)];
  return [...new Set(caps)].filter((c) => held.includes(c)).sort((a, b) => a - b);
}
