// Docker seccomp profiles compiled to classic BPF, as moby (which rules apply to a container) and
// runc with libseccomp (the program) make them. Pure: the daemon compiles once per profile and
// capability set (seccomp-cache.ts); the init only installs the bytes.
import { SYSCALLS } from './syscall-table';

export class SeccompError extends Error {}

export interface SeccompArg {
  index: number;
  value: number | bigint;
  valueTwo?: number | bigint;
  op: string;
}

interface Filter {
  caps?: string[] | null;
  arches?: string[] | null;
  minKernel?: string | null;
}

export interface SeccompRule {
  name?: string;
  names?: string[] | null;
  action: string;
  errnoRet?: number | null;
  args?: SeccompArg[] | null;
  includes?: Filter | null;
  excludes?: Filter | null;
}

export interface SeccompProfile {
  defaultAction?: string;
  defaultErrnoRet?: number | null;
  architectures?: string[] | null;
  archMap?: Array<{ architecture: string; subArchitectures?: string[] | null }> | null;
  syscalls?: SeccompRule[] | null;
  flags?: string[] | null;
}

/** What a filter is compiled for. */
export interface SeccompTarget {
  /** The host's architecture (Node's process.arch). */
  arch: string;
  /** Names (CAP_SYS_ADMIN...) of the container's bounding set: moby's includes/excludes test it. */
  capabilities: string[];
  /** The host kernel's release (os.release()), for minKernel. */
  kernel: string;
}

export interface CompiledFilter {
  /** struct sock_filter[], host byte order. */
  program: Buffer;
  /** seccomp(2) SECCOMP_FILTER_FLAG_* bits from the profile's flags. */
  flags: number;
}

// Return values (linux/seccomp.h).
const RET_KILL_THREAD = 0x00000000;
const RET_KILL_PROCESS = 0x80000000;
const RET_TRAP = 0x00030000;
const RET_ERRNO = 0x00050000;
const RET_TRACE = 0x7ff00000;
const RET_LOG = 0x7ffc0000;
const RET_ALLOW = 0x7fff0000;
const EPERM = 1;
const ENOSYS = 38;

const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_I386 = 0x40000003;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const X32_SYSCALL_BIT = 0x40000000;

/** The modes a filter can tell apart, each with its table; x32 shares x86_64's AUDIT_ARCH and is told by its bit. */
type Mode = keyof typeof SYSCALLS;
const MODE_OF: Record<string, Mode> = { SCMP_ARCH_X86_64: 'x86_64', SCMP_ARCH_X32: 'x32', SCMP_ARCH_X86: 'x86', SCMP_ARCH_AARCH64: 'aarch64' };
/** Every name libseccomp accepts; those without a table here cannot run on a host we support, or are left out (docs/architecture.md). */
const KNOWN_ARCHES = new Set([
  ...Object.keys(MODE_OF),
  'SCMP_ARCH_ARM', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
]);

interface Host {
  /** SCMP_ARCH_ name of the native architecture. */
  native: string;
  /** Go's name for it, which includes/excludes.arches use. */
  goArch: string;
  /** The modes this host can run, by AUDIT_ARCH value. */
  audit: Array<{ audit: number; modes: Mode[] }>;
}

const HOSTS: Record<string, Host> = {
  x64: { native: 'SCMP_ARCH_X86_64', goArch: 'amd64', audit: [{ audit: AUDIT_ARCH_X86_64, modes: ['x86_64', 'x32'] }, { audit: AUDIT_ARCH_I386, modes: ['x86'] }] },
  arm64: { native: 'SCMP_ARCH_AARCH64', goArch: 'arm64', audit: [{ audit: AUDIT_ARCH_AARCH64, modes: ['aarch64'] }] },
};

/** Whether berth can build filters on this architecture. */
export function seccompSupported(arch: string): boolean {
  return arch in HOSTS;
}

const SECCOMP_FLAGS: Record<string, number> = {
  // libseccomp-golang syncs all threads anyway; the init filters the one thread that starts the command.
  SECCOMP_FILTER_FLAG_TSYNC: 0,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
};

/**
 * Parses a profile as dockerd's LoadProfile decodes it. Integers past 2^53 (64-bit argument
 * values) are read exactly, as BigInt.
 */
export function parseProfile(text: string): SeccompProfile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/("value(?:Two)?"\s*:\s*)(\d{16,})/g, '$1"$2"'), (key, v: unknown) => (typeof v === 'string' && (key === 'value' || key === 'valueTwo') && /^\d+$/.test(v) ? BigInt(v) : v));
  } catch (e) {
    throw new SeccompError(`Decoding seccomp profile failed: ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SeccompError('Decoding seccomp profile failed: json: cannot unmarshal into Go value of type seccomp.Seccomp');
  return parsed as SeccompProfile;
}

/** As moby's kernel.ParseRelease and CompareKernelVersion: major.minor[.patch], anything after ignored. */
function kernelAtLeast(host: string, min: string): boolean {
  const parse = (s: string): number[] | null => {
    const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(s);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
  };
  const want = parse(min);
  if (!want) throw new SeccompError(`failed to parse kernel version ${JSON.stringify(min)}: kernel version must be in the format <major>.<minor>[.<patch>]`);
  const have = parse(host) ?? [0, 0, 0];
  for (let i = 0; i < 3; i++) if (have[i] !== want[i]) return have[i] > want[i];
  return true;
}

function action(name: string, errnoRet: number | null | undefined, what: string): number {
  const ret = (errnoRet ?? EPERM) & 0xffff;
  switch (name) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return RET_KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return RET_KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return RET_TRAP;
    case 'SCMP_ACT_ERRNO':
      return RET_ERRNO | ret;
    case 'SCMP_ACT_TRACE':
      return RET_TRACE | ret;
    case 'SCMP_ACT_LOG':
      return RET_LOG;
    case 'SCMP_ACT_ALLOW':
      return RET_ALLOW;
    case 'SCMP_ACT_NOTIFY':
      throw new SeccompError(`${what}: SCMP_ACT_NOTIFY is not supported: berth has no seccomp agent`);
    default:
      throw new SeccompError(`${what}: invalid action ${JSON.stringify(name)}`);
  }
}

/** runc's test for an action under which unknown syscalls go through, so no -ENOSYS is needed for them. */
const allows = (name: string): boolean => name === 'SCMP_ACT_ALLOW' || name === 'SCMP_ACT_LOG' || name === 'SCMP_ACT_TRACE';

interface Cond {
  index: number;
  op: string;
  value: bigint;
  valueTwo: bigint;
}

const OPS = new Set(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']);

function u64(v: unknown, field: string): bigint {
  if (v === undefined || v === null) return 0n;
  if ((typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'bigint' && v >= 0n)) {
    const b = BigInt(v);
    if (b < 1n << 64n) return b;
  }
  throw new SeccompError(`Decoding seccomp profile failed: json: cannot unmarshal ${String(v)} into Go struct field Arg.syscalls.args.${field} of type uint64`);
}

function conditions(args: SeccompArg[], name: string): Cond[] {
  return args.map((a) => {
    if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) throw new SeccompError(`error creating seccomp syscall condition for syscall ${name}: invalid argument index ${a.index}`);
    if (!OPS.has(a.op)) throw new SeccompError(`error creating seccomp syscall condition for syscall ${name}: invalid operator, cannot use in rule`);
    return { index: a.index, op: a.op, value: u64(a.value, 'value'), valueTwo: u64(a.valueTwo, 'valueTwo') };
  });
}

/** One syscall's rules in one mode: an unconditional action wins over conditional ones, as in libseccomp. */
interface Entry {
  always?: number;
  when: Array<{ conds: Cond[]; ret: number }>;
}

/** The rules moby hands to runc for this container: includes/excludes on caps, arches and kernel applied. */
function applicable(profile: SeccompProfile, target: SeccompTarget, goArch: string): SeccompRule[] {
  const caps = new Set(target.capabilities);
  return (profile.syscalls ?? []).filter((r) => {
    const ex = r.excludes ?? {};
    const inc = r.includes ?? {};
    if (ex.arches?.length && ex.arches.includes(goArch)) return false;
    if (ex.caps?.length && ex.caps.some((c) => caps.has(c))) return false;
    if (ex.minKernel && kernelAtLeast(target.kernel, ex.minKernel)) return false;
    if (inc.arches?.length && !inc.arches.includes(goArch)) return false;
    if (inc.caps?.length && !inc.caps.every((c) => caps.has(c))) return false;
    if (inc.minKernel && !kernelAtLeast(target.kernel, inc.minKernel)) return false;
    return true;
  });
}

/**
 * The filter a container with `target` gets from `profile`, or null when the profile turns
 * seccomp off (no default action and no rules, as moby's setupSeccomp reads it).
 */
export function compileProfile(profile: SeccompProfile, target: SeccompTarget): CompiledFilter | null {
  if (!profile.defaultAction && !profile.syscalls?.length) return null;
  const host = HOSTS[target.arch];
  if (!host) throw new SeccompError(`seccomp is not supported on ${target.arch}`);
  if (profile.architectures?.length && profile.archMap?.length) {
    throw new SeccompError("'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  const arches = [host.native, ...(profile.architectures ?? [])];
  const mapped = profile.archMap?.find((a) => a.architecture === host.native);
  if (mapped) arches.push(mapped.architecture, ...(mapped.subArchitectures ?? []));
  for (const a of arches) if (!KNOWN_ARCHES.has(a)) throw new SeccompError(`error validating Seccomp architecture: unknown architecture: ${a}`);
  const modes = new Set(arches.map((a) => MODE_OF[a]).filter((m): m is Mode => m !== undefined));

  let flags = 0;
  for (const f of profile.flags ?? []) {
    if (!(f in SECCOMP_FLAGS)) throw new SeccompError(`seccomp flag ${f} is not known to runc`);
    flags |= SECCOMP_FLAGS[f];
  }
  const defaultName = profile.defaultAction ?? '';
  const defaultRet = action(defaultName, profile.defaultErrnoRet, 'error initializing seccomp - invalid default action');

  const rules = applicable(profile, target, host.goArch);
  const entries = new Map<Mode, Map<number, Entry>>([...modes].map((m) => [m, new Map()]));
  const last = new Map<Mode, number>();
  for (const rule of rules) {
    if (rule.name && rule.names?.length) throw new SeccompError("'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
    const names = rule.name ? [rule.name] : (rule.names ?? []);
    for (const name of names) {
      const ret = action(rule.action, rule.errnoRet, `action in seccomp profile is invalid for syscall ${name}`);
      const conds = conditions(rule.args ?? [], name);
      for (const mode of modes) {
        const nr = SYSCALLS[mode][name];
        // libseccomp does not know it for this architecture: runc skips it.
        if (nr === undefined) continue;
        last.set(mode, Math.max(last.get(mode) ?? -1, nr));
        // Redundant with the default: runc skips it (libseccomp would refuse it).
        if (ret === defaultRet) continue;
        const byNr = entries.get(mode) as Map<number, Entry>;
        const e = byNr.get(nr) ?? { when: [] };
        byNr.set(nr, e);
        if (!conds.length) e.always ??= ret;
        else if (new Set(conds.map((c) => c.index)).size < conds.length) {
          // runc: conditions on the same argument become separate rules (any one matches).
          for (const c of conds) e.when.push({ conds: [c], ret });
        } else e.when.push({ conds, ret });
      }
    }
  }
  // runc's -ENOSYS stub: a syscall newer than any the profile names fails as unknown to the kernel,
  // so that libc falls back instead of taking the default's EPERM.
  const enosys = allows(defaultName) ? null : last;
  const program = generate(host, modes, entries, defaultRet, enosys);
  return { program, flags };
}

// ---- Code generation -------------------------------------------------------------------------

const BPF_LD_W_ABS = 0x20;
const BPF_ALU_AND_K = 0x54;
const BPF_JA = 0x05;
const BPF_JEQ = 0x15;
const BPF_JGT = 0x25;
const BPF_JGE = 0x35;
const BPF_RET_K = 0x06;
const BPF_MAXINSNS = 4096;
/** seccomp_data: nr, arch, instruction pointer, then six 64-bit arguments (low word first on these little-endian hosts). */
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLow = (i: number): number => 16 + 8 * i;
const argHigh = (i: number): number => 20 + 8 * i;

type Label = { id: number };
type Item =
  | { kind: 'label'; label: Label }
  | { kind: 'op'; code: number; k: number }
  | { kind: 'ja'; to: Label }
  | { kind: 'jmp'; code: number; k: number; t: Label; f: Label; long?: boolean };

class Asm {
  readonly items: Item[] = [];
  private next = 0;
  private readonly rets = new Map<number, Label>();
  label(): Label {
    return { id: this.next++ };
  }
  place(label: Label): void {
    this.items.push({ kind: 'label', label });
  }
  ld(off: number): void {
    this.items.push({ kind: 'op', code: BPF_LD_W_ABS, k: off });
  }
  and(k: number): void {
    this.items.push({ kind: 'op', code: BPF_ALU_AND_K, k });
  }
  jmp(code: number, k: number, t: Label, f: Label): void {
    this.items.push({ kind: 'jmp', code, k: k >>> 0, t, f });
  }
  ja(to: Label): void {
    this.items.push({ kind: 'ja', to });
  }
  /** A shared `ret` for each value, placed at the end. */
  ret(value: number): Label {
    let l = this.rets.get(value);
    if (!l) this.rets.set(value, (l = this.label()));
    return l;
  }

  /**
   * Lays the program out. Conditional jumps reach 255 instructions ahead: one that must go
   * further becomes `jxx k,0,1; ja t; ja f`, and the layout is redone until nothing grows.
   */
  assemble(): Buffer {
    for (const [value, l] of this.rets) {
      this.place(l);
      this.items.push({ kind: 'op', code: BPF_RET_K, k: value >>> 0 });
    }
    const size = (it: Item): number => (it.kind === 'label' ? 0 : it.kind === 'jmp' && it.long ? 3 : 1);
    let pos = new Map<number, number>();
    for (let grew = true; grew; ) {
      grew = false;
      pos = new Map();
      let pc = 0;
      for (const it of this.items) {
        if (it.kind === 'label') pos.set(it.label.id, pc);
        pc += size(it);
      }
      pc = 0;
      for (const it of this.items) {
        if (it.kind === 'jmp' && !it.long) {
          const at = (l: Label): number => (pos.get(l.id) as number) - (pc + 1);
          if (at(it.t) > 255 || at(it.f) > 255) {
            it.long = true;
            grew = true;
          }
        }
        pc += size(it);
      }
    }
    const out: Array<[number, number, number, number]> = [];
    const target = (l: Label, from: number): number => {
      const p = pos.get(l.id);
      if (p === undefined || p <= from) throw new Error('seccomp: backward or unplaced jump');
      return p - from - 1;
    };
    for (const it of this.items) {
      if (it.kind === 'label') continue;
      const pc = out.length;
      if (it.kind === 'op') out.push([it.code, 0, 0, it.k]);
      else if (it.kind === 'ja') out.push([BPF_JA, 0, 0, target(it.to, pc)]);
      else if (it.long) {
        out.push([it.code, 0, 1, it.k]);
        out.push([BPF_JA, 0, 0, target(it.t, pc + 1)]);
        out.push([BPF_JA, 0, 0, target(it.f, pc + 2)]);
      } else out.push([it.code, target(it.t, pc), target(it.f, pc), it.k]);
    }
    if (out.length > BPF_MAXINSNS) throw new SeccompError(`seccomp filter of ${out.length} instructions is over the kernel's ${BPF_MAXINSNS}`);
    const buf = Buffer.alloc(out.length * 8);
    out.forEach(([code, jt, jf, k], i) => {
      buf.writeUInt16LE(code, i * 8);
      buf.writeUInt8(jt, i * 8 + 2);
      buf.writeUInt8(jf, i * 8 + 3);
      buf.writeUInt32LE(k >>> 0, i * 8 + 4);
    });
    return buf;
  }
}

/** A run of syscall numbers [lo, hi] that all go to `to`. */
interface Segment {
  lo: number;
  hi: number;
  to: Label;
}

function generate(host: Host, modes: Set<Mode>, entries: Map<Mode, Map<number, Entry>>, defaultRet: number, enosys: Map<Mode, number> | null): Buffer {
  const asm = new Asm();
  // libseccomp's bad-architecture action: the thread is killed.
  const badArch = asm.ret(RET_KILL_THREAD);
  const sections = host.audit.filter((a) => a.modes.some((m) => modes.has(m))).map((a) => ({ ...a, label: asm.label() }));
  asm.ld(OFF_ARCH);
  for (const s of sections) {
    const next = asm.label();
    asm.jmp(BPF_JEQ, s.audit, s.label, next);
    asm.place(next);
  }
  asm.ja(badArch);
  const handlers: Array<() => void> = [];
  for (const s of sections) {
    asm.place(s.label);
    asm.ld(OFF_NR);
    if (s.audit === AUDIT_ARCH_X86_64) {
      // x32 calls arrive under x86_64's AUDIT_ARCH with bit 30 set: theirs is a table of its own,
      // and without x32 in the profile they are a bad architecture, as libseccomp has it.
      const native = modes.has('x86_64') ? asm.label() : badArch;
      const x32 = modes.has('x32') ? asm.label() : badArch;
      asm.jmp(BPF_JGE, X32_SYSCALL_BIT, x32, native);
      for (const [mode, l] of [['x86_64', native], ['x32', x32]] as const) {
        if (l === badArch) continue;
        asm.place(l);
        tree(asm, segments(asm, mode, entries, defaultRet, enosys, handlers));
      }
    } else {
      tree(asm, segments(asm, s.modes[0], entries, defaultRet, enosys, handlers));
    }
  }
  for (const emit of handlers) emit();
  return asm.assemble();
}

/** Every syscall number of a mode mapped to where it goes, equal neighbours merged. */
function segments(asm: Asm, mode: Mode, entries: Map<Mode, Map<number, Entry>>, defaultRet: number, enosys: Map<Mode, number> | null, handlers: Array<() => void>): Segment[] {
  const dflt = asm.ret(defaultRet);
  const byNr = entries.get(mode) as Map<number, Entry>;
  const known = enosys?.get(mode);
  const base = mode === 'x32' ? X32_SYSCALL_BIT : 0;
  const points: Segment[] = [];
  for (const nr of [...byNr.keys()].sort((a, b) => a - b)) {
    const e = byNr.get(nr) as Entry;
    let to: Label;
    if (e.always !== undefined) to = asm.ret(e.always);
    else {
      to = asm.label();
      const start = to;
      handlers.push(() => conditional(asm, start, e.when, dflt, mode === 'x86_64' || mode === 'aarch64'));
    }
    points.push({ lo: nr, hi: nr, to });
  }
  const segs: Segment[] = [];
  const push = (lo: number, hi: number, to: Label): void => {
    if (lo > hi) return;
    const prev = segs[segs.length - 1];
    if (prev && prev.to === to && prev.hi + 1 === lo) prev.hi = hi;
    else segs.push({ lo, hi, to });
  };
  let at = base;
  const top = known !== undefined ? known : 0xffffffff;
  for (const p of points) {
    push(at, p.lo - 1, dflt);
    push(p.lo, p.hi, p.to);
    at = p.hi + 1;
  }
  push(at, top, dflt);
  if (known !== undefined) push(known + 1, 0xffffffff, asm.ret(RET_ERRNO | ENOSYS));
  // Numbers below the mode's base never reach this tree (x32's start at its bit).
  if (segs.length && segs[0].lo > 0) segs[0].lo = 0;
  return segs;
}

/** A binary search over the segments on the syscall number in A: each step one `jge`. */
function tree(asm: Asm, segs: Segment[]): void {
  const pending: Array<{ label: Label | null; segs: Segment[] }> = [{ label: null, segs }];
  const node = (s: Segment[]): Label => {
    if (s.length === 1) return s[0].to;
    const l = asm.label();
    pending.push({ label: l, segs: s });
    return l;
  };
  while (pending.length) {
    const { label, segs: s } = pending.shift() as { label: Label | null; segs: Segment[] };
    if (label) asm.place(label);
    if (s.length === 1) {
      asm.ja(s[0].to);
      continue;
    }
    const mid = s.length >> 1;
    const right = node(s.slice(mid));
    const left = node(s.slice(0, mid));
    asm.jmp(BPF_JGE, s[mid].lo, right, left);
  }
}

/** A syscall's conditional rules in order: the first whose conditions all hold gives its action, else the default. */
function conditional(asm: Asm, start: Label, rules: Entry['when'], dflt: Label, wide: boolean): void {
  asm.place(start);
  for (const r of rules) {
    const fail = asm.label();
    const pass = asm.ret(r.ret);
    r.conds.forEach((c, i) => {
      const ok = i === r.conds.length - 1 ? pass : asm.label();
      compare(asm, c, ok, fail, wide);
      if (ok !== pass) asm.place(ok);
    });
    asm.place(fail);
  }
  asm.ja(dflt);
}

/**
 * One 64-bit comparison over the two 32-bit halves of the argument (unsigned, high word first),
 * or over the low word alone where the ABI's arguments are 32 bits wide (x86, x32), as libseccomp.
 */
function compare(asm: Asm, c: Cond, pass: Label, fail: Label, wide: boolean): void {
  const lo = Number(c.value & 0xffffffffn);
  const hi = Number(c.value >> 32n);
  const lo2 = Number(c.valueTwo & 0xffffffffn);
  const hi2 = Number(c.valueTwo >> 32n);
  const low = (): void => {
    asm.ld(argLow(c.index));
    switch (c.op) {
      case 'SCMP_CMP_EQ':
        return asm.jmp(BPF_JEQ, lo, pass, fail);
      case 'SCMP_CMP_NE':
        return asm.jmp(BPF_JEQ, lo, fail, pass);
      case 'SCMP_CMP_GT':
        return asm.jmp(BPF_JGT, lo, pass, fail);
      case 'SCMP_CMP_GE':
        return asm.jmp(BPF_JGE, lo, pass, fail);
      case 'SCMP_CMP_LT':
        return asm.jmp(BPF_JGE, lo, fail, pass);
      case 'SCMP_CMP_LE':
        return asm.jmp(BPF_JGT, lo, fail, pass);
      default:
        // MASKED_EQ: value is the mask, valueTwo what the masked argument must equal.
        asm.and(lo);
        return asm.jmp(BPF_JEQ, lo2, pass, fail);
    }
  };
  if (!wide) return low();
  asm.ld(argHigh(c.index));
  const next = asm.label();
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      asm.jmp(BPF_JEQ, hi, next, fail);
      break;
    case 'SCMP_CMP_NE':
      asm.jmp(BPF_JEQ, hi, next, pass);
      break;
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE': {
      const eq = asm.label();
      asm.jmp(BPF_JGT, hi, pass, eq);
      asm.place(eq);
      asm.jmp(BPF_JEQ, hi, next, fail);
      break;
    }
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE': {
      const eq = asm.label();
      asm.jmp(BPF_JGE, hi, eq, pass);
      asm.place(eq);
      asm.jmp(BPF_JEQ, hi, next, fail);
      break;
    }
    default:
      asm.and(Number((c.value >> 32n) & 0xffffffffn));
      asm.jmp(BPF_JEQ, hi2, next, fail);
  }
  asm.place(next);
  low();
}
