// Typed wrappers over the libc calls berth needs and Node lacks. The only module that talks to libc.
// Every wrapper throws a SyscallError naming the operation, its arguments and the errno name.
import { closeSync } from 'fs';
import { constants as osConstants } from 'os';
import ffi = require('@2060.io/ffi-napi');
import ref = require('@2060.io/ref-napi');

const ERRNO_NAMES: Map<number, string> = new Map(
  Object.entries(osConstants.errno).map(([name, num]) => [num, name]),
);

export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

export class SyscallError extends Error {
  readonly code: string;
  constructor(
    readonly op: string,
    readonly args: unknown[],
    readonly errno: number,
  ) {
    super(`${op}(${args.map((a) => JSON.stringify(a) ?? String(a)).join(', ')}): ${errnoName(errno)}`);
    this.code = errnoName(errno);
  }
}

// Namespace flags (linux/sched.h).
export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;
export const CLONE_FS = 0x00000200;

// Mount flags (linux/mount.h).
export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;
export const MS_MOVE = 8192;
export const MS_REC = 16384;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MS_SHARED = 1 << 20;
export const MNT_DETACH = 2;

export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const FD_CLOEXEC = 1;
export const O_NONBLOCK = 0o4000;

export const PR_SET_PDEATHSIG = 1;
export const PR_CAPBSET_DROP = 24;
export const PR_SET_NO_NEW_PRIVS = 38;

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

const SYS_pivot_root = 155;
const SYS_setresuid = 117;
const SYS_setresgid = 119;
const SYS_setgroups = 116;
const SYS_pidfd_open = 434;
const SYS_pidfd_getfd = 438;
const SYS_bpf = 321;
const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6;
/** More programs may be attached to the cgroup and its descendants; all of them must allow. */
export const BPF_F_ALLOW_MULTI = 2;
const SYS_seccomp = 317;
const SECCOMP_SET_MODE_FILTER = 1;

// Terminal ioctls (asm-generic/ioctls.h).
export const TIOCSCTTY = 0x540e;
export const TIOCSWINSZ = 0x5414;
export const TIOCGPTN = 0x80045430;
export const TIOCSPTLCK = 0x40045431;
export const O_NOCTTY = 0o400;
const ENODATA = osConstants.errno.ENODATA;
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

const lib = ffi.Library('libc.so.6', {
  unshare: ['int', ['int']],
  setns: ['int', ['int', 'int']],
  mount: ['int', ['string', 'string', 'string', 'ulong', 'string']],
  umount2: ['int', ['string', 'int']],
  sethostname: ['int', ['string', 'size_t']],
  execve: ['int', ['string', 'pointer', 'pointer']],
  fcntl: ['int', ['int', 'int', 'int']],
  prctl: ['int', ['int', 'ulong', 'ulong', 'ulong', 'ulong']],
  setsid: ['int', []],
  kill: ['int', ['int', 'int']],
  mknod: ['int', ['string', 'uint', 'ulong']],
  lsetxattr: ['int', ['string', 'string', 'pointer', 'size_t', 'int']],
  lgetxattr: ['long', ['string', 'string', 'pointer', 'size_t']],
  capset: ['int', ['pointer', 'pointer']],
  dup2: ['int', ['int', 'int']],
  prlimit: ['int', ['int', 'int', 'pointer', 'pointer']],
  chroot: ['int', ['string']],
  waitpid: ['int', ['int', 'pointer', 'int']],
  _exit: ['void', ['int']],
  sigemptyset: ['int', ['pointer']],
  sigfillset: ['int', ['pointer']],
  posix_spawnattr_init: ['int', ['pointer']],
  posix_spawnattr_setflags: ['int', ['pointer', 'short']],
  posix_spawnattr_setsigmask: ['int', ['pointer', 'pointer']],
  posix_spawnattr_setsigdefault: ['int', ['pointer', 'pointer']],
  posix_spawn_file_actions_init: ['int', ['pointer']],
  posix_spawn_file_actions_addopen: ['int', ['pointer', 'int', 'string', 'int', 'uint']],
  posix_spawn_file_actions_adddup2: ['int', ['pointer', 'int', 'int']],
  posix_spawnattr_destroy: ['int', ['pointer']],
  posix_spawn_file_actions_destroy: ['int', ['pointer']],
  posix_spawn: ['int', ['pointer', 'string', 'pointer', 'pointer', 'pointer', 'pointer']],
});

// syscall() and ioctl() are variadic; on x86_64 integer and pointer arguments pass in the same
// registers either way, so fixed signatures per use are sound.
const libc = new ffi.DynamicLibrary('libc.so.6');
const syscall2 = ffi.ForeignFunction(libc.get('syscall'), 'long', ['long', 'string', 'string']);
const syscallInts = ffi.ForeignFunction(libc.get('syscall'), 'long', ['long', 'long', 'long', 'long']);
const syscallIntPtr = ffi.ForeignFunction(libc.get('syscall'), 'long', ['long', 'long', 'pointer']);
const syscallIntsPtr = ffi.ForeignFunction(libc.get('syscall'), 'long', ['long', 'long', 'long', 'pointer']);
const ioctlPtr = ffi.ForeignFunction(libc.get('ioctl'), 'int', ['int', 'ulong', 'pointer']);
const ioctlInt = ffi.ForeignFunction(libc.get('ioctl'), 'int', ['int', 'ulong', 'ulong']);

/** A Buffer passed where the FFI declares a pointer. */
const ptr = (b: Buffer): ref.Pointer<unknown> => b as ref.Pointer<unknown>;

function check(ret: number, op: string, args: unknown[]): number {
  if (ret === -1) throw new SyscallError(op, args, ffi.errno());
  return ret;
}

export function unshare(flags: number): void {
  check(lib.unshare(flags), 'unshare', [hex(flags)]);
}

export function setns(fd: number, nstype: number): void {
  check(lib.setns(fd, nstype), 'setns', [fd, hex(nstype)]);
}

export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void {
  check(lib.mount(source, target, fstype, flags, data), 'mount', [source, target, fstype, hex(flags), data]);
}

export function umount2(target: string, flags: number): void {
  check(lib.umount2(target, flags), 'umount2', [target, flags]);
}

export function pivotRoot(newRoot: string, putOld: string): void {
  check(Number(syscall2(SYS_pivot_root, newRoot, putOld)), 'pivot_root', [newRoot, putOld]);
}

export function chroot(path: string): void {
  check(lib.chroot(path), 'chroot', [path]);
}

export function dup2(oldFd: number, newFd: number): void {
  check(lib.dup2(oldFd, newFd), 'dup2', [oldFd, newFd]);
}

/** A copy, in this process, of another process's file descriptor (Linux 5.6+). */
export function pidfdGetfd(pid: number, targetFd: number): number {
  const pidfd = check(Number(syscallInts(SYS_pidfd_open, pid, 0, 0)), 'pidfd_open', [pid]);
  try {
    return check(Number(syscallInts(SYS_pidfd_getfd, pidfd, targetFd, 0)), 'pidfd_getfd', [pid, targetFd]);
  } finally {
    closeSync(pidfd);
  }
}

/** Sets a terminal's window size (struct winsize: rows, cols, then unused pixel sizes). */
export function setWindowSize(fd: number, rows: number, cols: number): void {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(rows, 0);
  ws.writeUInt16LE(cols, 2);
  ioctl(fd, TIOCSWINSZ, ws);
}

export function sethostname(name: string): void {
  check(lib.sethostname(name, Buffer.byteLength(name)), 'sethostname', [name]);
}

/** A NULL-terminated char*[]; `keep` holds the strings so the GC cannot free them before the call. */
function cStringArray(items: string[], keep: Buffer[]): Buffer {
  const arr = Buffer.alloc((items.length + 1) * ref.sizeof.pointer);
  items.forEach((s, i) => {
    const c = ref.allocCString(s);
    keep.push(c);
    ref.writePointer(arr, i * ref.sizeof.pointer, c);
  });
  keep.push(arr);
  return arr;
}

/** Replaces the process image; returns only by throwing. */
export function execve(path: string, argv: string[], envp: string[]): never {
  const keep: Buffer[] = [];
  const ret = lib.execve(path, cStringArray(argv, keep), cStringArray(envp, keep));
  check(ret, 'execve', [path, argv]);
  throw new SyscallError('execve', [path, argv], ffi.errno());
}

// posix_spawn flags (glibc spawn.h).
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80;
// Opaque glibc types, sized with room to spare: posix_spawnattr_t is 336 bytes on x86_64,
// posix_spawn_file_actions_t 80, sigset_t 128.
const SPAWNATTR_SIZE = 512;
const FILE_ACTIONS_SIZE = 256;
const SIGSET_SIZE = 128;

export type SpawnFileAction = { open: { fd: number; path: string; flags: number } } | { dup2: { from: number; to: number } };

/** A failure of posix_spawn, which returns its errno instead of setting errno. */
function spawnCheck(ret: number, op: string, args: unknown[]): void {
  if (ret !== 0) throw new SyscallError(op, args, ret);
}

/**
 * Starts `path` as a child of this thread with every signal at its default and none blocked.
 * glibc forks with CLONE_VM|CLONE_VFORK from the calling thread, so the child takes that
 * thread's namespaces, credentials and capabilities, which a multi-threaded process can set for
 * one thread but could never fork itself with. `setsid` makes the child a session leader, so
 * the first terminal it opens becomes its controlling terminal.
 */
export function posixSpawn(path: string, argv: string[], envp: string[], opts: { setsid: boolean; actions: SpawnFileAction[] }): number {
  const keep: Buffer[] = [];
  const attr = Buffer.alloc(SPAWNATTR_SIZE);
  const actions = Buffer.alloc(FILE_ACTIONS_SIZE);
  const all = Buffer.alloc(SIGSET_SIZE);
  const none = Buffer.alloc(SIGSET_SIZE);
  spawnCheck(lib.posix_spawnattr_init(ptr(attr)), 'posix_spawnattr_init', []);
  spawnCheck(lib.posix_spawn_file_actions_init(ptr(actions)), 'posix_spawn_file_actions_init', []);
  const pid = Buffer.alloc(4);
  try {
    lib.sigfillset(ptr(all));
    lib.sigemptyset(ptr(none));
    spawnCheck(lib.posix_spawnattr_setsigdefault(ptr(ptr(attr)), ptr(all)), 'posix_spawnattr_setsigdefault', []);
    spawnCheck(lib.posix_spawnattr_setsigmask(ptr(ptr(attr)), ptr(none)), 'posix_spawnattr_setsigmask', []);
    spawnCheck(lib.posix_spawnattr_setflags(ptr(ptr(attr)), POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (opts.setsid ? POSIX_SPAWN_SETSID : 0)), 'posix_spawnattr_setflags', []);
    for (const a of opts.actions) {
      if ('open' in a) spawnCheck(lib.posix_spawn_file_actions_addopen(ptr(ptr(actions)), a.open.fd, a.open.path, a.open.flags, 0), 'posix_spawn_file_actions_addopen', [a.open.fd, a.open.path]);
      else spawnCheck(lib.posix_spawn_file_actions_adddup2(ptr(ptr(actions)), a.dup2.from, a.dup2.to), 'posix_spawn_file_actions_adddup2', [a.dup2.from, a.dup2.to]);
    }
    spawnCheck(lib.posix_spawn(ptr(ptr(pid)), path, ptr(actions), ptr(attr), cStringArray(argv, keep), cStringArray(envp, keep)), 'posix_spawn', [path, argv]);
  } finally {
    lib.posix_spawn_file_actions_destroy(ptr(actions));
    lib.posix_spawnattr_destroy(ptr(attr));
  }
  return pid.readInt32LE(0);
}

/** Waits for a child; its exit code as Docker reports it (128+signal for a signal death). */
export function waitExitCode(pid: number): number {
  const status = Buffer.alloc(4);
  for (;;) {
    if (lib.waitpid(pid, ptr(status), 0) !== -1) break;
    const errno = ffi.errno();
    if (errno !== osConstants.errno.EINTR) throw new SyscallError('waitpid', [pid], errno);
  }
  const s = status.readInt32LE(0);
  const signal = s & 0x7f;
  return signal === 0 ? (s >> 8) & 0xff : 128 + signal;
}

/** Ends the process at once: no exit handlers, no runtime teardown (an exec's init has nothing to flush). */
export function exitNow(code: number): never {
  lib._exit(code);
  throw new Error('_exit returned');
}

export function fcntl(fd: number, cmd: number, arg = 0): number {
  return check(lib.fcntl(fd, cmd, arg), 'fcntl', [fd, cmd, arg]);
}

/** Node opens fds close-on-exec and may make them non-blocking; a process must inherit them plain. */
export function makeInheritable(fd: number): void {
  fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) & ~FD_CLOEXEC);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
}

export function setCloexec(fd: number): void {
  fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
}

export function prctl(option: number, arg2 = 0, arg3 = 0, arg4 = 0, arg5 = 0): number {
  return check(lib.prctl(option, arg2, arg3, arg4, arg5), 'prctl', [option, arg2]);
}

export function setsid(): number {
  return check(lib.setsid(), 'setsid', []);
}

export function ioctl(fd: number, request: number, arg: number | Buffer): number {
  const ret = typeof arg === 'number' ? ioctlInt(fd, request, arg) : ioctlPtr(fd, request, arg);
  return check(ret, 'ioctl', [fd, hex(request)]);
}

// The credential calls below change the calling thread only, as the kernel does: glibc's wrappers
// would also signal every other thread of the Node runtime to change theirs, and wait for each
// to be scheduled (slow under load). The init starts the command from this thread (posix_spawn
// or execve, which ends the others), so only this thread's credentials matter.

export function setgroups(gids: number[]): void {
  const buf = Buffer.alloc(Math.max(gids.length, 1) * 4);
  gids.forEach((g, i) => buf.writeUInt32LE(g, i * 4));
  check(Number(syscallIntPtr(SYS_setgroups, gids.length, ptr(buf))), 'setgroups', [gids]);
}

export function setresuid(r: number, e: number, s: number): void {
  check(Number(syscallInts(SYS_setresuid, r, e, s)), 'setresuid', [r, e, s]);
}

export function setresgid(r: number, e: number, s: number): void {
  check(Number(syscallInts(SYS_setresgid, r, e, s)), 'setresgid', [r, e, s]);
}

/**
 * Sets both limits of one resource for this process (prlimit64 on itself). Values are Docker's
 * int64s read as the kernel's uint64s, as Go converts them: -1 is RLIM_INFINITY. Raising a hard
 * limit needs CAP_SYS_RESOURCE (EPERM); a soft limit above the hard one is EINVAL.
 */
export function setRlimit(resource: number, soft: number, hard: number): void {
  const limits = Buffer.alloc(16);
  limits.writeBigUInt64LE(BigInt.asUintN(64, BigInt(soft)), 0);
  limits.writeBigUInt64LE(BigInt.asUintN(64, BigInt(hard)), 8);
  check(lib.prlimit(0, resource, ptr(limits), ref.NULL as ref.Pointer<unknown>), 'prlimit', [resource, soft, hard]);
}

/**
 * Installs a seccomp filter (struct sock_filter[]) on the calling thread, which the command it
 * starts inherits. Needs CAP_SYS_ADMIN or no_new_privs.
 */
export function seccompSetFilter(program: Buffer, flags: number): void {
  // struct sock_fprog: the instruction count, then (aligned) a pointer to them.
  const fprog = Buffer.alloc(16);
  fprog.writeUInt16LE(program.length / 8, 0);
  ref.writePointer(fprog, 8, program);
  check(Number(syscallIntsPtr(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, ptr(fprog))), 'seccomp', ['SECCOMP_SET_MODE_FILTER', flags]);
}

export function kill(pid: number, signal: number): void {
  check(lib.kill(pid, signal), 'kill', [pid, signal]);
}

export function makedev(major: number, minor: number): number {
  // glibc's encoding, exact for majors and minors below 2^20.
  return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12) | (major & ~0xfff) * 2 ** 32;
}

export function mknod(path: string, mode: number, dev: number): void {
  check(lib.mknod(path, mode, dev), 'mknod', [path, mode.toString(8), dev]);
}

export function lsetxattr(path: string, name: string, value: Buffer, flags = 0): void {
  check(lib.lsetxattr(path, name, value, value.length, flags), 'lsetxattr', [path, name]);
}

/** The attribute's value, or null when the file has no such attribute. */
export function lgetxattr(path: string, name: string): Buffer | null {
  const buf = Buffer.alloc(4096);
  const n = Number(lib.lgetxattr(path, name, buf, buf.length));
  if (n === -1) {
    const errno = ffi.errno();
    if (errno === ENODATA) return null;
    throw new SyscallError('lgetxattr', [path, name], errno);
  }
  return buf.subarray(0, n);
}

/** Sets the effective and permitted capability sets to exactly `caps` (bit numbers), the inheritable set empty, as Docker does. */
export function capset(caps: number[]): void {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
  header.writeInt32LE(0, 4);
  const words = [0, 0];
  for (const c of caps) words[c >> 5] |= 1 << (c & 31);
  const data = Buffer.alloc(24);
  for (let i = 0; i < 2; i++) {
    data.writeUInt32LE(words[i] >>> 0, i * 12);
    data.writeUInt32LE(words[i] >>> 0, i * 12 + 4);
  }
  check(lib.capset(header as ref.Pointer<unknown>, data as ref.Pointer<unknown>), 'capset', [caps]);
}

/** bpf(2), declared on first use: only the daemon loads programs, not the inits that load this module. */
let syscallBpf: ReturnType<typeof bpfFunction> | undefined;
const bpfFunction = () => ffi.ForeignFunction(libc.get('syscall'), 'long', ['long', 'long', 'pointer', 'long']);

function bpf(cmd: number, attr: Buffer, op: string, args: unknown[]): number {
  syscallBpf ??= bpfFunction();
  return check(Number(syscallBpf(SYS_bpf, cmd, ptr(attr), attr.length)), op, args);
}

/**
 * BPF_PROG_LOAD: loads `insns` (8 bytes an instruction) as a program of `progType`; returns its fd.
 * A refused program is loaded again with the verifier's log, which the error then carries.
 */
export function bpfProgLoad(progType: number, insns: Buffer, license: string): number {
  const lic = Buffer.from(`${license}\0`);
  const load = (log: Buffer | null): number => {
    // union bpf_attr, BPF_PROG_LOAD: prog_type, insn_cnt, insns, license, log_level, log_size, log_buf.
    const attr = Buffer.alloc(128);
    attr.writeUInt32LE(progType, 0);
    attr.writeUInt32LE(insns.length / 8, 4);
    attr.writeBigUInt64LE(BigInt(ref.address(insns)), 8);
    attr.writeBigUInt64LE(BigInt(ref.address(lic)), 16);
    if (log) {
      attr.writeUInt32LE(1, 24);
      attr.writeUInt32LE(log.length, 28);
      attr.writeBigUInt64LE(BigInt(ref.address(log)), 32);
    }
    return bpf(BPF_PROG_LOAD, attr, 'bpf(BPF_PROG_LOAD)', [insns.length / 8]);
  };
  try {
    return load(null);
  } catch (e) {
    if (!(e instanceof SyscallError) || (e.code !== 'EACCES' && e.code !== 'EINVAL')) throw e;
    const log = Buffer.alloc(64 * 1024);
    try {
      return load(log);
    } catch (again) {
      const text = log.toString('utf8', 0, Math.max(0, log.indexOf(0))).trim();
      if (text && again instanceof SyscallError) again.message += `: ${text}`;
      throw again;
    }
  }
}

/** BPF_PROG_ATTACH: attaches the program to the cgroup open as `targetFd`. */
export function bpfProgAttach(targetFd: number, progFd: number, attachType: number, flags: number): void {
  // union bpf_attr, BPF_PROG_ATTACH: target_fd, attach_bpf_fd, attach_type, attach_flags.
  const attr = Buffer.alloc(128);
  attr.writeUInt32LE(targetFd, 0);
  attr.writeUInt32LE(progFd, 4);
  attr.writeUInt32LE(attachType, 8);
  attr.writeUInt32LE(flags, 12);
  bpf(BPF_PROG_ATTACH, attr, 'bpf(BPF_PROG_ATTACH)', [targetFd, progFd, attachType, flags]);
}

function hex(n: number): string {
  return '0x' + n.toString(16);
}
