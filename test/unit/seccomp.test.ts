// The seccomp compiler's programs are run here by a small classic-BPF interpreter over
// seccomp_data, so each test checks what the kernel would answer for a syscall.
import { readFileSync } from 'fs';
import { describe, expect, it } from 'vitest';
import { capabilityNames } from '../../daemon/containers/capabilities';
import { DEFAULT_CAPABILITIES } from '../../daemon/runtime/defaults';
import { compileProfile, parseProfile, type SeccompProfile } from '../../daemon/security/seccomp';
import { parseSecurityOpt } from '../../daemon/security/security-opt';
import { SYSCALLS } from '../../daemon/security/syscall-table';

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const AARCH64 = 0xc00000b7;
const X32 = 0x40000000;
const ALLOW = 0x7fff0000;
const KILL_THREAD = 0;
const errno = (n: number): number => 0x00050000 | n;

const DEFAULT: SeccompProfile = JSON.parse(readFileSync(`${__dirname}/../../daemon/security/default-profile.json`, 'utf8'));
const DEFAULT_CAPS = capabilityNames(DEFAULT_CAPABILITIES);
const KERNEL = '6.1.0';

/** Runs a cBPF program the way seccomp does: A register, absolute word loads from seccomp_data, forward jumps. */
function run(program: Buffer, call: { nr: number; arch?: number; args?: Array<number | bigint> }): number {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(call.nr >>> 0, 0);
  data.writeUInt32LE((call.arch ?? X86_64) >>> 0, 4);
  (call.args ?? []).forEach((a, i) => data.writeBigUInt64LE(BigInt(a), 16 + 8 * i));
  const n = program.length / 8;
  let a = 0;
  for (let pc = 0; pc < n; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    const jump = (cond: boolean): void => void (pc += cond ? jt : jf);
    switch (code) {
      case 0x20:
        if (k % 4 || k > 60) throw new Error(`bad load offset ${k}`);
        a = data.readUInt32LE(k);
        break;
      case 0x54:
        a = (a & k) >>> 0;
        break;
      case 0x05:
        pc += k;
        break;
      case 0x15:
        jump(a === k);
        break;
      case 0x25:
        jump(a > k);
        break;
      case 0x35:
        jump(a >= k);
        break;
      case 0x45:
        jump((a & k) !== 0);
        break;
      case 0x06:
        return k;
      default:
        throw new Error(`unknown BPF op 0x${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('ran off the end of the program');
}

function compile(profile: SeccompProfile, caps = DEFAULT_CAPS, kernel = KERNEL): Buffer {
  const f = compileProfile(profile, { arch: 'x64', capabilities: caps, kernel });
  if (!f) throw new Error('no filter');
  return f.program;
}

const nr = (name: string, mode: keyof typeof SYSCALLS = 'x86_64'): number => {
  const n = SYSCALLS[mode][name];
  if (n === undefined) throw new Error(`no ${name} on ${mode}`);
  return n;
};

const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNS = 0x00020000;
const SIGCHLD = 17;

describe("Docker's default profile with Docker's default capabilities", () => {
  const prog = compile(DEFAULT);

  it('allows the listed syscalls and refuses the rest with EPERM', () => {
    for (const name of ['read', 'write', 'openat', 'mkdirat', 'execve', 'exit_group', 'setresuid', 'capset', 'prctl', 'wait4']) expect(run(prog, { nr: nr(name) })).toBe(ALLOW);
    for (const name of ['unshare', 'mount', 'umount2', 'setns', 'pivot_root', 'kexec_load', 'init_module', 'reboot', 'swapon', 'bpf']) expect(run(prog, { nr: nr(name) })).toBe(errno(1));
  });

  it('allows clone without namespace flags only, and answers clone3 with ENOSYS so that libc falls back', () => {
    expect(run(prog, { nr: nr('clone'), args: [SIGCHLD] })).toBe(ALLOW);
    expect(run(prog, { nr: nr('clone'), args: [SIGCHLD | CLONE_NEWUSER] })).toBe(errno(1));
    expect(run(prog, { nr: nr('clone'), args: [CLONE_NEWNS] })).toBe(errno(1));
    expect(run(prog, { nr: nr('clone3') })).toBe(errno(38));
  });

  it('allows only the listed personalities, comparing all 64 bits', () => {
    for (const p of [0, 8, 0x20000, 0x20008, 0xffffffff]) expect(run(prog, { nr: nr('personality'), args: [p] })).toBe(ALLOW);
    for (const p of [0x0040000, 1, 0x1_0000_0000n, 0x1_0000_0008n]) expect(run(prog, { nr: nr('personality'), args: [p] })).toBe(errno(1));
  });

  it("refuses the socket families the LT 38 / EQ 39 / GT 40 rules leave out (AF_ALG, AF_VSOCK)", () => {
    for (const family of [1, 2, 10, 16, 37, 39, 41, 44]) expect(run(prog, { nr: nr('socket'), args: [family] })).toBe(ALLOW);
    for (const family of [38, 40]) expect(run(prog, { nr: nr('socket'), args: [family] })).toBe(errno(1));
  });

  it("gives ENOSYS past the profile's newest syscall (runc's stub) and EPERM in the holes below it", () => {
    expect(run(prog, { nr: 1000 })).toBe(errno(38));
    expect(run(prog, { nr: 0xffffffff })).toBe(errno(38));
    expect(run(prog, { nr: nr('kexec_file_load') })).toBe(errno(1));
  });

  it('kills a call from an architecture the filter does not know', () => {
    expect(run(prog, { nr: 1, arch: AARCH64 })).toBe(KILL_THREAD);
    expect(run(prog, { nr: 1, arch: 0x12345678 })).toBe(KILL_THREAD);
  });

  it("checks x32 calls against x32's numbers (the archMap's sub-architecture)", () => {
    expect(run(prog, { nr: nr('write', 'x32') })).toBe(ALLOW);
    expect(run(prog, { nr: nr('unshare', 'x32') })).toBe(errno(1));
    expect(run(prog, { nr: nr('clone', 'x32'), args: [CLONE_NEWUSER] })).toBe(errno(1));
    expect(run(prog, { nr: nr('clone', 'x32'), args: [SIGCHLD] })).toBe(ALLOW);
    expect(run(prog, { nr: X32 + 2000 })).toBe(errno(38));
  });

  it("checks 32-bit x86 calls against i386's numbers, on the low word of each argument", () => {
    expect(nr('write', 'x86')).toBe(4);
    expect(run(prog, { nr: nr('write', 'x86'), arch: I386 })).toBe(ALLOW);
    expect(run(prog, { nr: nr('socketcall', 'x86'), arch: I386 })).toBe(ALLOW);
    expect(run(prog, { nr: nr('unshare', 'x86'), arch: I386 })).toBe(errno(1));
    expect(run(prog, { nr: nr('personality', 'x86'), arch: I386, args: [0xffffffff] })).toBe(ALLOW);
    expect(run(prog, { nr: nr('personality', 'x86'), arch: I386, args: [0x0040000] })).toBe(errno(1));
  });

  it('agrees with the profile on every x86_64 syscall without argument rules', () => {
    // What moby's includes/excludes leave for amd64 with these capabilities, rules without arguments only.
    const caps = new Set(DEFAULT_CAPS);
    const applies = (r: NonNullable<SeccompProfile['syscalls']>[number]): boolean =>
      !r.args?.length && (r.includes?.caps ?? []).every((c) => caps.has(c)) && (!r.includes?.arches || r.includes.arches.includes('amd64')) && !r.excludes;
    const allowed = new Set((DEFAULT.syscalls ?? []).filter((r) => applies(r) && r.action === 'SCMP_ACT_ALLOW').flatMap((r) => r.names ?? []));
    const withArgs = new Set(['clone', 'clone3', 'socket', 'personality', 'ptrace', 'process_vm_readv', 'process_vm_writev', 'arch_prctl', 'modify_ldt']);
    const last = Math.max(...[...(DEFAULT.syscalls ?? [])].flatMap((r) => r.names ?? []).map((n) => SYSCALLS.x86_64[n] ?? -1));
    for (const [name, n] of Object.entries(SYSCALLS.x86_64)) {
      if (withArgs.has(name)) continue;
      const want = n > last ? errno(38) : allowed.has(name) ? ALLOW : errno(1);
      expect([name, run(prog, { nr: n })]).toEqual([name, want]);
    }
  });
});

describe('on an arm64 host', () => {
  const f = compileProfile(DEFAULT, { arch: 'arm64', capabilities: DEFAULT_CAPS, kernel: KERNEL });
  const prog = f?.program as Buffer;

  it("checks aarch64 calls against asm-generic's numbers, and kills x86 ones", () => {
    expect(nr('unshare', 'aarch64')).toBe(97);
    for (const name of ['read', 'write', 'openat', 'mkdirat', 'execve', 'exit_group']) expect(run(prog, { nr: nr(name, 'aarch64'), arch: AARCH64 })).toBe(ALLOW);
    for (const name of ['unshare', 'mount', 'setns']) expect(run(prog, { nr: nr(name, 'aarch64'), arch: AARCH64 })).toBe(errno(1));
    expect(run(prog, { nr: nr('clone', 'aarch64'), arch: AARCH64, args: [CLONE_NEWUSER] })).toBe(errno(1));
    expect(run(prog, { nr: nr('clone', 'aarch64'), arch: AARCH64, args: [SIGCHLD] })).toBe(ALLOW);
    expect(run(prog, { nr: 1, arch: X86_64 })).toBe(KILL_THREAD);
  });
});

describe('capability- and kernel-dependent rules', () => {
  it('lets CAP_SYS_ADMIN unshare, mount and clone namespaces', () => {
    const prog = compile(DEFAULT, [...DEFAULT_CAPS, 'CAP_SYS_ADMIN']);
    for (const name of ['unshare', 'mount', 'setns', 'clone3']) expect(run(prog, { nr: nr(name) })).toBe(ALLOW);
    expect(run(prog, { nr: nr('clone'), args: [CLONE_NEWUSER | SIGCHLD] })).toBe(ALLOW);
  });

  it('gives CAP_SYS_PTRACE kcmp and pidfd_getfd, CAP_SYS_TIME settimeofday', () => {
    const base = compile(DEFAULT);
    const more = compile(DEFAULT, [...DEFAULT_CAPS, 'CAP_SYS_PTRACE', 'CAP_SYS_TIME']);
    for (const name of ['kcmp', 'pidfd_getfd', 'settimeofday', 'clock_settime']) {
      expect(run(base, { nr: nr(name) })).toBe(errno(1));
      expect(run(more, { nr: nr(name) })).toBe(ALLOW);
    }
  });

  it("leaves ptrace to CAP_SYS_PTRACE on kernels before 4.8 (the rule's minKernel)", () => {
    expect(run(compile(DEFAULT, DEFAULT_CAPS, '4.4.0-generic'), { nr: nr('ptrace') })).toBe(errno(1));
    expect(run(compile(DEFAULT, DEFAULT_CAPS, '4.8'), { nr: nr('ptrace') })).toBe(ALLOW);
  });
});

describe('custom profiles', () => {
  it('denies mkdir with its errno under an allowing default, without the ENOSYS stub', () => {
    const prog = compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] });
    expect(run(prog, { nr: nr('mkdir') })).toBe(errno(13));
    expect(run(prog, { nr: nr('mkdirat') })).toBe(errno(13));
    expect(run(prog, { nr: nr('unshare') })).toBe(ALLOW);
    expect(run(prog, { nr: 1000 })).toBe(ALLOW);
    // Only the native architecture: x32 and i386 calls are a bad architecture.
    expect(run(prog, { nr: nr('mkdir', 'x32') })).toBe(KILL_THREAD);
    expect(run(prog, { nr: 4, arch: I386 })).toBe(KILL_THREAD);
  });

  it('encodes every action, with errnoRet as ERRNO and TRACE data and EPERM by default', () => {
    const actions: Array<[string, number | undefined, number]> = [
      ['SCMP_ACT_KILL', undefined, 0],
      ['SCMP_ACT_KILL_THREAD', undefined, 0],
      ['SCMP_ACT_KILL_PROCESS', undefined, 0x80000000],
      ['SCMP_ACT_TRAP', undefined, 0x00030000],
      ['SCMP_ACT_ERRNO', undefined, errno(1)],
      ['SCMP_ACT_ERRNO', 95, errno(95)],
      ['SCMP_ACT_TRACE', undefined, 0x7ff00001],
      ['SCMP_ACT_TRACE', 7, 0x7ff00007],
      ['SCMP_ACT_LOG', undefined, 0x7ffc0000],
    ];
    for (const [action, errnoRet, want] of actions) {
      const prog = compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action, errnoRet }] });
      expect([action, errnoRet, run(prog, { nr: nr('getpid') })]).toEqual([action, errnoRet, want]);
    }
    expect(run(compile({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 22, syscalls: [{ names: ['write'], action: 'SCMP_ACT_ALLOW' }] }), { nr: nr('read') })).toBe(errno(22));
  });

  it('compares 64-bit arguments with each operator as libseccomp does', () => {
    const M = (1n << 64n) - 1n;
    const interesting = [0n, 1n, 5n, 6n, 0xffffffffn, 0x1_0000_0000n, 0x1_0000_0005n, 0x1_0000_0006n, 0xffff_ffff_ffff_fff0n, M];
    const ref: Record<string, (a: bigint, v: bigint, v2: bigint) => boolean> = {
      SCMP_CMP_EQ: (a, v) => a === v,
      SCMP_CMP_NE: (a, v) => a !== v,
      SCMP_CMP_LT: (a, v) => a < v,
      SCMP_CMP_LE: (a, v) => a <= v,
      SCMP_CMP_GT: (a, v) => a > v,
      SCMP_CMP_GE: (a, v) => a >= v,
      SCMP_CMP_MASKED_EQ: (a, v, v2) => (a & v) === v2,
    };
    for (const [op, holds] of Object.entries(ref)) {
      for (const [value, valueTwo] of [[5n, 0n], [0x1_0000_0005n, 0x1_0000_0004n], [0xffff_ffff_ffff_fff0n, 0xffff_ffff_0000_0000n], [0xffffffffn, 5n]]) {
        // Through the JSON text: values past 2^53 must survive parsing.
        const text = `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":2,"value":${value},"valueTwo":${valueTwo},"op":"${op}"}]}]}`;
        const prog = compile(parseProfile(text));
        for (const arg of interesting) {
          const want = holds(arg, value, valueTwo) ? ALLOW : errno(1);
          expect([op, value, arg, run(prog, { nr: nr('read'), args: [0, 0, arg] })]).toEqual([op, value, arg, want]);
        }
      }
    }
  });

  it('ANDs conditions on different arguments, ORs conditions on the same one (runc)', () => {
    const and = compile({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 3, op: 'SCMP_CMP_EQ' }, { index: 2, value: 100, op: 'SCMP_CMP_LE' }] }],
    });
    expect(run(and, { nr: 0, args: [3, 0, 50] })).toBe(ALLOW);
    expect(run(and, { nr: 0, args: [3, 0, 500] })).toBe(errno(1));
    expect(run(and, { nr: 0, args: [4, 0, 50] })).toBe(errno(1));
    const or = compile({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 3, op: 'SCMP_CMP_EQ' }, { index: 0, value: 7, op: 'SCMP_CMP_EQ' }] }],
    });
    for (const [fd, want] of [[3, ALLOW], [7, ALLOW], [5, errno(1)]]) expect(run(or, { nr: 0, args: [fd] })).toBe(want);
  });

  it('stays correct when jumps pass 255 instructions (many conditional syscalls)', () => {
    const names = Object.keys(SYSCALLS.x86_64).slice(0, 200);
    const prog = compile({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: names.map((n, i) => ({ names: [n], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: i, op: 'SCMP_CMP_EQ' }] })),
    });
    expect(prog.length / 8).toBeGreaterThan(1000);
    names.forEach((n, i) => {
      expect(run(prog, { nr: nr(n), args: [0, i] })).toBe(ALLOW);
      expect(run(prog, { nr: nr(n), args: [0, i + 1] })).toBe(errno(1));
    });
  });

  it('turns seccomp off for an empty profile, and refuses what runc or moby refuse', () => {
    expect(compileProfile({}, { arch: 'x64', capabilities: [], kernel: KERNEL })).toBeNull();
    const bad = (p: SeccompProfile): string => {
      try {
        compile(p);
      } catch (e) {
        return (e as Error).message;
      }
      return 'compiled';
    };
    expect(bad({ defaultAction: 'SCMP_ACT_BOGUS' })).toBe('error initializing seccomp - invalid default action: invalid action "SCMP_ACT_BOGUS"');
    expect(bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_SOMETIMES' }] }] })).toBe(
      'error creating seccomp syscall condition for syscall read: invalid operator, cannot use in rule',
    );
    expect(bad({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'read', names: ['write'], action: 'SCMP_ACT_ERRNO' }] })).toBe("'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'");
    expect(bad({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86'], archMap: [{ architecture: 'SCMP_ARCH_X86_64' }] })).toBe(
      "'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'",
    );
    expect(bad({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_VAX'] })).toBe('error validating Seccomp architecture: unknown architecture: SCMP_ARCH_VAX');
    expect(bad({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WHATEVER'] })).toBe('seccomp flag SECCOMP_FILTER_FLAG_WHATEVER is not known to runc');
    expect(() => parseProfile('{"defaultAction": ')).toThrow(/^Decoding seccomp profile failed: /);
  });

  it('passes the LOG and SPEC_ALLOW flags on to seccomp(2), and reads a name-only rule and architectures', () => {
    const f = compileProfile({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'], architectures: ['SCMP_ARCH_X86'], syscalls: [{ name: 'getpid', action: 'SCMP_ACT_ERRNO' }] }, { arch: 'x64', capabilities: [], kernel: KERNEL });
    expect(f?.flags).toBe(6);
    expect(run(f?.program as Buffer, { nr: nr('getpid', 'x86'), arch: I386 })).toBe(errno(1));
    expect(run(f?.program as Buffer, { nr: nr('getpid') })).toBe(errno(1));
  });
});

describe('parseSecurityOpt (dockerd)', () => {
  it('reads seccomp, no-new-privileges in its forms, and takes label/apparmor without effect', () => {
    expect(parseSecurityOpt(null)).toEqual({ seccomp: 'builtin', noNewPrivileges: false });
    expect(parseSecurityOpt(['seccomp=unconfined', 'no-new-privileges'])).toEqual({ seccomp: 'unconfined', noNewPrivileges: true });
    for (const o of ['no-new-privileges=true', 'no-new-privileges:true', 'no-new-privileges=1', 'no-new-privileges=T']) expect(parseSecurityOpt([o]).noNewPrivileges).toBe(true);
    expect(parseSecurityOpt(['no-new-privileges', 'no-new-privileges=false']).noNewPrivileges).toBe(false);
    expect(parseSecurityOpt(['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}']).seccomp).toBe('{"defaultAction":"SCMP_ACT_ALLOW"}');
    expect(parseSecurityOpt(['seccomp:unconfined']).seccomp).toBe('unconfined');
    expect(parseSecurityOpt(['label=disable', 'label:type:svirt_t', 'apparmor=docker-default', 'disable'])).toEqual({ seccomp: 'builtin', noNewPrivileges: false });
  });

  it("refuses the rest with dockerd's words", () => {
    const msg = (o: string): string => {
      try {
        parseSecurityOpt([o]);
      } catch (e) {
        return `${(e as { statusCode: number }).statusCode} ${(e as Error).message}`;
      }
      return 'accepted';
    };
    expect(msg('label')).toBe('500 invalid --security-opt 1: "label"');
    expect(msg('unknown=something')).toBe('500 invalid --security-opt 2: "unknown=something"');
    expect(msg('no-new-privileges=maybe')).toBe('500 invalid --security-opt 2: "no-new-privileges=maybe"');
  });
});
