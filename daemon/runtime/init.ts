// The container init: spawned by the daemon as PID 1 of a fresh PID namespace, it builds the
// container's mount, UTS, IPC and cgroup namespaces and root filesystem, then execve()s the
// user's command so that command keeps PID 1. For exec it joins a running container's
// namespaces once the spec arrives and starts the command as its child there. Both kinds are
// mostly started ahead of the request (spare-pool.ts). It runs on every start: keep its imports minimal.
import * as fs from 'fs';
import * as libc from '../../native/libc';
import { goErrnoText } from '../util/go-errno';
import { resolveInRoot } from '../util/resolve-in-root';
import { copyTree, copyUp } from './copy-up';
import type { CgroupfsSpec, ContainerSpec, DeviceNode, ExecSpec, InitMessage, InitMount, InitSpec, ProcessSpec } from './init-spec';

const SPEC_FD = 3;
const STATUS_FD = 4;

class StartError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

function main(): void {
  // Node ignores SIGPIPE and SIGXFSZ, and execve keeps ignored signals ignored: a handler instead
  // is reset to the default by execve, so the container starts with the dispositions Docker's do
  // (`yes | head` must end).
  for (const sig of ['SIGPIPE', 'SIGXFSZ'] as const) process.on(sig, () => undefined);
  // A spare init may wait long for its spec: it must not outlive the daemon meanwhile.
  libc.prctl(libc.PR_SET_PDEATHSIG, 9);
  // Whatever the daemon inherited without close-on-exec (from the shell that started it, say)
  // would reach the container's processes: runc closes such descriptors too.
  for (const fd of fs.readdirSync('/proc/self/fd').map(Number)) {
    if (fd <= 2) continue;
    try {
      libc.setCloexec(fd);
    } catch (e) {
      // The listing's own descriptor, closed once it was read.
      if ((e as libc.SyscallError).code !== 'EBADF') throw e;
    }
  }
  // A spare narrows its bounding set while it waits (about 3 ms of prctl calls off the exec's path).
  const bounding = process.argv[2];
  if (bounding !== undefined) dropCapabilities(bounding.split(',').map(Number));
  let spec: InitSpec;
  try {
    spec = JSON.parse(fs.readFileSync(SPEC_FD, 'utf8')) as InitSpec;
    fs.closeSync(SPEC_FD);
    libc.setCloexec(STATUS_FD);
  } catch (e) {
    fail(e);
    return;
  }
  try {
    if (spec.kind === 'exec') joinContainer(spec);
    else startContainer(spec);
  } catch (e) {
    fail(e);
  }
}

function send(msg: InitMessage): void {
  fs.writeSync(STATUS_FD, JSON.stringify(msg) + '\n');
}

function fail(e: unknown): void {
  const failure = e instanceof StartError ? { message: e.message, exitCode: e.exitCode } : { message: String((e as Error)?.message ?? e), exitCode: 1 };
  try {
    send({ failure });
  } catch {
    // The daemon is gone; nothing left to tell.
  }
  process.exit(failure.exitCode);
}

interface Console {
  /** The slave end, open in this process. */
  fd: number;
  /** Its path inside the container. */
  path: string;
}

/**
 * A terminal from the container's devpts (so `tty` names a device that exists inside): the master
 * goes to the daemon, which copies it out of this process before we close it; the slave stays.
 */
function openConsole(): Console {
  const master = fs.openSync('/dev/pts/ptmx', fs.constants.O_RDWR | libc.O_NOCTTY);
  libc.ioctl(master, libc.TIOCSPTLCK, Buffer.alloc(4));
  const n = Buffer.alloc(4);
  libc.ioctl(master, libc.TIOCGPTN, n);
  const path = `/dev/pts/${n.readUInt32LE(0)}`;
  const slave = fs.openSync(path, fs.constants.O_RDWR | libc.O_NOCTTY);
  send({ console: master });
  fs.readSync(STATUS_FD, Buffer.alloc(1), 0, 1, null);
  fs.closeSync(master);
  return { fd: slave, path };
}

function startContainer(spec: ContainerSpec): void {
  const cgroupFds = spec.process.cgroupJoin.map((p) => fs.openSync(p, 'w'));
  libc.unshare(libc.CLONE_NEWNS | libc.CLONE_NEWUTS | libc.CLONE_NEWIPC);
  if (spec.netns) {
    const fd = fs.openSync(spec.netns, 'r');
    libc.setns(fd, libc.CLONE_NEWNET);
    fs.closeSync(fd);
  }
  // Private unless a mount asks for propagation: slave, so host mounts still reach the container
  // and nothing it mounts reaches the host; shared (as runc's root propagation) when a bind must
  // carry the container's mounts back to the host, its source staying a peer of the host's mount.
  const shares = spec.mounts.some((m) => (m.propagation ?? 0) & libc.MS_SHARED);
  const slaves = spec.mounts.some((m) => (m.propagation ?? 0) & libc.MS_SLAVE);
  libc.mount(null, '/', null, libc.MS_REC | (shares ? libc.MS_SHARED : slaves ? libc.MS_SLAVE : libc.MS_PRIVATE), null);
  const root = spec.rootfs.mountpoint;
  // The overlay and everything under it would otherwise reach the host through a shared parent
  // (and pivot_root refuses one).
  if (shares) makeParentPrivate(root);

  mountRootfs(spec);
  mountSpecial(root, spec.shmSize, spec.sysWritable === true);
  for (const [key, value] of Object.entries(spec.sysctls ?? {})) writeSysctl(root, key, value);
  for (const m of spec.mounts) mountInto(root, m);
  for (const d of spec.devices) makeDevice(root, d);
  for (const p of spec.maskedPaths) maskPath(root, p);
  for (const p of spec.readonlyPaths) readonlyPath(root, p);

  // pivot_root(".", ".") stacks the old root on the new one; detaching it leaves only the container's.
  const oldRoot = fs.openSync('/', fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  process.chdir(root);
  libc.pivotRoot('.', '.');
  // Into the old root itself (stacked on the new one; "." may still name the new root's top), made
  // slave before it is detached, so the detach never unmounts anything on the host through a peer.
  process.chdir(`/proc/self/fd/${oldRoot}`);
  fs.closeSync(oldRoot);
  libc.mount(null, '.', null, libc.MS_SLAVE | libc.MS_REC, null);
  libc.umount2('.', libc.MNT_DETACH);
  process.chdir('/');
  // Only now: pivot_root refuses a shared new root.
  if (shares) libc.mount(null, '/', null, libc.MS_SHARED, null);
  libc.sethostname(spec.hostname);
  // Docker creates the working directory of a new container.
  ensureDir(spec.process.cwd || '/');
  if (spec.readonlyRootfs) libc.mount(null, '/', null, libc.MS_BIND | libc.MS_REMOUNT | libc.MS_RDONLY, null);
  // Before becomeUser sets the rlimits: a low nofile limit would refuse the open.
  if (!spec.process.tty && !spec.stdin) devNullOnto([0]);
  const { path, env, tty } = becomeUser(spec.process, cgroupFds, () => mountCgroupfs(spec.cgroupfs, spec.sysWritable === true));
  if (tty) {
    // A session of its own with the terminal as its controlling tty, on fds 0-2.
    libc.setsid();
    libc.ioctl(tty.fd, libc.TIOCSCTTY, 0);
    for (const fd of [0, 1, 2]) libc.dup2(tty.fd, fd);
    if (tty.fd > 2) fs.closeSync(tty.fd);
  }
  for (const fd of [0, 1, 2]) libc.makeInheritable(fd);
  try {
    libc.execve(path, spec.process.args, env);
  } catch (e) {
    throw execFailure(spec.process.args[0], e);
  }
}

const EXEC_NAMESPACES: Array<[string, number]> = [
  ['ipc', libc.CLONE_NEWIPC],
  ['uts', libc.CLONE_NEWUTS],
  ['net', libc.CLONE_NEWNET],
  ['cgroup', libc.CLONE_NEWCGROUP],
  // The mount namespace last: after it, the host's /proc is out of sight.
  ['mnt', libc.CLONE_NEWNS],
];

/**
 * Joins the container's namespaces (the PID one for the child only: a process cannot move
 * itself), becomes the exec's user, starts the command as its child and waits for it, exiting
 * with its code. The child's host PID is reported once it runs, its exit code when it ends.
 */
function joinContainer(spec: ExecSpec): void {
  const pidNs = fs.openSync(`/proc/${spec.pid}/ns/pid`, 'r');
  const fds = EXEC_NAMESPACES.map(([name, flag]) => [fs.openSync(`/proc/${spec.pid}/ns/${name}`, 'r'), flag] as const);
  const cgroupFds = spec.process.cgroupJoin.map((p) => fs.openSync(p, 'w'));
  // A thread sharing its filesystem context with others may not change mount namespace.
  libc.unshare(libc.CLONE_FS);
  libc.setns(pidNs, libc.CLONE_NEWPID);
  fs.closeSync(pidNs);
  for (const [fd, flag] of fds) {
    libc.setns(fd, flag);
    fs.closeSync(fd);
  }
  process.chdir('/');
  // Opened before becomeUser sets the rlimits (a low nofile limit would refuse it): the init's
  // stdio once the command runs. posix_spawn's opens below need no free slot: each closes its fd first.
  const nul = fs.openSync('/dev/null', 'r+');
  const { path, env, tty } = becomeUser(spec.process, cgroupFds, null);
  // The terminal is opened anew by the child, after setsid, so that it becomes its controlling tty.
  const actions: libc.SpawnFileAction[] = tty
    ? [{ open: { fd: 0, path: tty.path, flags: fs.constants.O_RDWR } }, { dup2: { from: 0, to: 1 } }, { dup2: { from: 0, to: 2 } }]
    : spec.stdin
      ? []
      : [{ open: { fd: 0, path: '/dev/null', flags: fs.constants.O_RDONLY } }];
  if (!tty) for (const fd of [0, 1, 2]) libc.makeInheritable(fd);
  let pid: number;
  try {
    pid = libc.posixSpawn(path, spec.process.args, env, { setsid: tty !== null, actions });
  } catch (e) {
    throw execFailure(spec.process.args[0], e);
  }
  if (tty) fs.closeSync(tty.fd);
  // The exec's output ends when its command's does: the init lets go of the pipes.
  for (const fd of [0, 1, 2]) libc.dup2(nul, fd);
  fs.closeSync(nul);
  send({ pid });
  const code = libc.waitExitCode(pid);
  send({ exit: code });
  libc.exitNow(code);
}

/** The container's /dev/null on each of `fds`, in place of the daemon's pipes. */
function devNullOnto(fds: number[]): void {
  const nul = fs.openSync('/dev/null', 'r+');
  for (const fd of fds) libc.dup2(nul, fd);
  fs.closeSync(nul);
}

function execFailure(arg0: string | undefined, e: unknown): StartError {
  const code = (e as libc.SyscallError).code;
  if (code === 'EACCES') return new StartError(`exec: "${arg0}": permission denied`, 126);
  if (code === 'ENOENT') return new StartError(`exec: "${arg0}": no such file or directory`, 127);
  return new StartError(`exec: "${arg0}": ${(e as Error).message}`, 126);
}

/**
 * What both paths share before the command starts: user, environment, working directory,
 * terminal, cgroup, capabilities, in that order.
 */
function becomeUser(p: ProcessSpec, cgroupFds: number[], inNewCgroupNs: (() => void) | null): { path: string; env: string[]; tty: Console | null } {
  const user = resolveUser(p.user);
  const env = withHome(p.env, user.home);
  const cwd = p.cwd || '/';
  try {
    process.chdir(cwd);
  } catch (e) {
    throw new StartError(`chdir to cwd ("${cwd}") set in config.json failed: ${(e as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'not a directory' : 'no such file or directory'}`, 128);
  }
  const path = findExecutable(p.args[0] ?? '', env);
  const tty = p.tty ? openConsole() : null;

  // Join the container's cgroup last so the init's own memory is not charged to the container.
  for (const fd of cgroupFds) {
    fs.writeSync(fd, '0');
    fs.closeSync(fd);
  }
  if (inNewCgroupNs) {
    libc.unshare(libc.CLONE_NEWCGROUP);
    inNewCgroupNs();
  }

  // While the init still holds its capabilities (raising a hard limit needs CAP_SYS_RESOURCE), as runc sets them on its init.
  for (const r of p.rlimits) setRlimit(r);
  dropCapabilities(p.capabilities);
  // As runc: without no_new_privs installing a filter needs CAP_SYS_ADMIN, so it comes before the
  // credentials change (the profile must allow what follows); with it, as late as can be.
  if (p.noNewPrivileges) libc.prctl(libc.PR_SET_NO_NEW_PRIVS, 1);
  else installSeccomp(p);
  libc.setgroups(user.groups);
  libc.setresgid(user.gid, user.gid, user.gid);
  libc.setresuid(user.uid, user.uid, user.uid);
  if (user.uid === 0) libc.capset(p.capabilities);
  // Containers die with the daemon (set after the uid change, which clears it).
  libc.prctl(libc.PR_SET_PDEATHSIG, 9);
  if (p.noNewPrivileges) installSeccomp(p);
  return { path, env, tty };
}

function setRlimit(r: ProcessSpec['rlimits'][number]): void {
  try {
    libc.setRlimit(r.type, r.soft, r.hard);
  } catch (e) {
    throw new StartError(`error during container init: error setting rlimits for ready process: error setting rlimit type ${r.type}: ${goErrnoText(e)}`, 128);
  }
}

/**
 * The daemon's compiled filter on this thread: the command inherits it through execve or
 * posix_spawn (only this thread's filter matters, as for the credentials).
 */
function installSeccomp(p: ProcessSpec): void {
  if (!p.seccomp) return;
  try {
    libc.seccompSetFilter(Buffer.from(p.seccomp.filter, 'base64'), p.seccomp.flags);
  } catch (e) {
    throw new StartError(`error loading seccomp filter into kernel: ${(e as Error).message}`, 1);
  }
}

/** The mount holding `path` made private: EINVAL means `path` is no mount point, so its parent is tried. */
function makeParentPrivate(path: string): void {
  for (let p = path; ; p = p.slice(0, p.lastIndexOf('/')) || '/') {
    try {
      libc.mount(null, p, null, libc.MS_PRIVATE, null);
      return;
    } catch (e) {
      if ((e as libc.SyscallError).code !== 'EINVAL' || p === '/') throw e;
    }
  }
}

function mountRootfs(spec: ContainerSpec): void {
  const { layersRoot, lower, upper, work, mountpoint } = spec.rootfs;
  // Relative lower dirs keep the option string short: overlay reads at most one page of options.
  process.chdir(layersRoot);
  libc.mount('overlay', mountpoint, 'overlay', 0, `lowerdir=${lower.join(':')},upperdir=${upper},workdir=${work}`);
  // dockerd's init layer holds an empty /.dockerenv (0755): programs look for it to tell they run in a container.
  const marker = `${mountpoint}/.dockerenv`;
  if (!fs.lstatSync(marker, { throwIfNoEntry: false })) {
    fs.writeFileSync(marker, '');
    fs.chmodSync(marker, 0o755);
  }
}

const NOSUID_NOEXEC_NODEV = libc.MS_NOSUID | libc.MS_NOEXEC | libc.MS_NODEV;

function mountSpecial(root: string, shmSize = 64 * 1024 * 1024, sysWritable = false): void {
  mountAt(root, '/proc', 'proc', 'proc', NOSUID_NOEXEC_NODEV, null);
  mountAt(root, '/dev', 'tmpfs', 'tmpfs', libc.MS_NOSUID, 'mode=755,size=65536k');
  const dev = root + '/dev';
  const devices: Array<[string, number, number]> = [
    ['null', 1, 3],
    ['zero', 1, 5],
    ['full', 1, 7],
    ['random', 1, 8],
    ['urandom', 1, 9],
    ['tty', 5, 0],
  ];
  for (const [name, major, minor] of devices) {
    libc.mknod(`${dev}/${name}`, libc.S_IFCHR | 0o666, libc.makedev(major, minor));
    fs.chmodSync(`${dev}/${name}`, 0o666);
  }
  const links: Array<[string, string]> = [
    ['fd', '/proc/self/fd'],
    ['stdin', '/proc/self/fd/0'],
    ['stdout', '/proc/self/fd/1'],
    ['stderr', '/proc/self/fd/2'],
    ['ptmx', 'pts/ptmx'],
    ['core', '/proc/kcore'],
  ];
  for (const [name, target] of links) fs.symlinkSync(target, `${dev}/${name}`);
  mountAt(root, '/dev/pts', 'devpts', 'devpts', libc.MS_NOSUID | libc.MS_NOEXEC, 'newinstance,ptmxmode=0666,mode=0620,gid=5');
  mountAt(root, '/dev/shm', 'shm', 'tmpfs', NOSUID_NOEXEC_NODEV, `mode=1777,size=${Math.floor(shmSize / 1024)}k`);
  mountAt(root, '/dev/mqueue', 'mqueue', 'mqueue', NOSUID_NOEXEC_NODEV, null);
  mountAt(root, '/sys', 'sysfs', 'sysfs', NOSUID_NOEXEC_NODEV | (sysWritable ? 0 : libc.MS_RDONLY), null);
}

const NODE_TYPE = { c: libc.S_IFCHR, b: libc.S_IFBLK, p: libc.S_IFIFO } as const;

/**
 * A device node as runc creates one: over whatever the path holds (a spec device wins over the
 * defaults), with the host node's mode and owner. /dev/ptmx stays the link to the container's
 * own devpts, as runc makes it after the devices.
 */
function makeDevice(root: string, d: DeviceNode): void {
  if (d.path === '/dev/ptmx') return;
  const slash = d.path.lastIndexOf('/');
  const parent = resolveInRoot(root, d.path.slice(0, slash) || '/');
  fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
  const path = `${parent}/${d.path.slice(slash + 1)}`;
  const st = fs.lstatSync(path, { throwIfNoEntry: false });
  if (st?.isDirectory()) throw new StartError(`mknod ${d.path}: file exists`, 1);
  if (st) fs.unlinkSync(path);
  libc.mknod(path, NODE_TYPE[d.type] | d.mode, libc.makedev(d.major, d.minor));
  fs.chownSync(path, d.uid, d.gid);
  // The umask cut the mode mknod was given.
  fs.chmodSync(path, d.mode);
}

/**
 * /sys/fs/cgroup as Docker containers have it, read-only unless privileged. Mounted from inside the
 * new cgroup namespace, so each hierarchy's root is the container's own cgroup.
 */
function mountCgroupfs(cg: CgroupfsSpec, writable: boolean): void {
  const dir = '/sys/fs/cgroup';
  const flags = NOSUID_NOEXEC_NODEV | (writable ? 0 : libc.MS_RDONLY);
  if (cg.version === 2) {
    libc.mount('cgroup2', dir, 'cgroup2', flags, null);
    return;
  }
  libc.mount('tmpfs', dir, 'tmpfs', NOSUID_NOEXEC_NODEV, 'mode=755');
  for (const h of cg.hierarchies) {
    fs.mkdirSync(`${dir}/${h.name}`);
    libc.mount('cgroup', `${dir}/${h.name}`, 'cgroup', flags, h.options);
  }
  for (const l of cg.links) fs.symlinkSync(l.target, `${dir}/${l.name}`);
  if (!writable) libc.mount(null, dir, null, libc.MS_REMOUNT | flags, 'mode=755');
}

/** Through the container's own /proc, so the key lands in its network and IPC namespaces. */
function writeSysctl(root: string, key: string, value: string): void {
  const path = `/proc/sys/${key.replace(/\./g, '/')}`;
  try {
    fs.writeFileSync(root + path, value);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new StartError(`write sysctl key ${key}: open ${path}: ${err.code === 'ENOENT' ? 'no such file or directory' : (err.message ?? String(e))}`, 1);
  }
}

function mountAt(root: string, target: string, source: string, fstype: string, flags: number, data: string | null): void {
  const path = root + target;
  fs.mkdirSync(path, { recursive: true });
  libc.mount(source, path, fstype, flags, data);
}

function mismatch(m: InitMount): StartError {
  return new StartError(
    `error mounting "${m.source}" to rootfs at "${m.target}": not a directory: Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type`,
    1,
  );
}

function mountInto(root: string, m: InitMount): void {
  let path: string;
  if (m.file) {
    const slash = m.target.lastIndexOf('/');
    const parent = resolveInRoot(root, m.target.slice(0, slash) || '/');
    fs.mkdirSync(parent, { recursive: true });
    path = `${parent}/${m.target.slice(slash + 1)}`;
    // A symlink at the target (some images link /etc/resolv.conf) is replaced, never followed out.
    const st = fs.lstatSync(path, { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) fs.unlinkSync(path);
    else if (st?.isDirectory()) throw mismatch(m);
    if (!st || st.isSymbolicLink()) fs.writeFileSync(path, '');
  } else {
    path = resolveInRoot(root, m.target);
    const st = fs.statSync(path, { throwIfNoEntry: false });
    if (st && !st.isDirectory()) throw mismatch(m);
    if (!st) fs.mkdirSync(path, { recursive: true, mode: 0o755 });
    if (m.copyUp && m.fstype === null) copyUp(path, m.source);
  }
  // tmpcopyup: a handle on the image's directory still reads it once the tmpfs covers the path.
  const under = m.copyUp && m.fstype === 'tmpfs' ? fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY) : -1;
  // A read-only one is filled first, then made read-only.
  libc.mount(m.source, path, m.fstype, under >= 0 ? m.flags & ~libc.MS_RDONLY : m.flags, m.data);
  if (under >= 0) {
    try {
      copyTree(`/proc/self/fd/${under}`, path);
    } finally {
      fs.closeSync(under);
    }
    if (m.flags & libc.MS_RDONLY) libc.mount(null, path, null, libc.MS_REMOUNT | m.flags, m.data);
  }
  if (m.flags & libc.MS_BIND && m.flags & libc.MS_RDONLY) {
    libc.mount(null, path, null, libc.MS_BIND | libc.MS_REMOUNT | libc.MS_RDONLY | (m.flags & libc.MS_REC), null);
  }
  if (m.propagation) libc.mount(null, path, null, m.propagation, null);
}

function maskPath(root: string, p: string): void {
  const st = fs.statSync(root + p, { throwIfNoEntry: false });
  if (!st) return;
  if (st.isDirectory()) libc.mount('tmpfs', root + p, 'tmpfs', libc.MS_RDONLY, null);
  // The container's own /dev/null: the host's would show the host's devtmpfs.
  else libc.mount(`${root}/dev/null`, root + p, null, libc.MS_BIND, null);
}

function readonlyPath(root: string, p: string): void {
  if (!fs.existsSync(root + p)) return;
  libc.mount(root + p, root + p, null, libc.MS_BIND | libc.MS_REC, null);
  libc.mount(null, root + p, null, libc.MS_BIND | libc.MS_REMOUNT | libc.MS_RDONLY | libc.MS_REC, null);
}

/** What is left of the bounding set after an earlier drop; null while it is whole. */
let bounded: Set<number> | null = null;

function dropCapabilities(keep: number[]): void {
  const kept = new Set(keep);
  if (bounded) {
    // Gone from the bounding set means gone for good: the daemon gives such execs a fresh init.
    const lost = keep.find((cap) => !bounded?.has(cap));
    if (lost !== undefined) throw new StartError(`capability ${lost} is no longer in this init's bounding set`, 126);
    for (const cap of bounded) if (!kept.has(cap)) libc.prctl(libc.PR_CAPBSET_DROP, cap);
  } else {
    const last = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    for (let cap = 0; cap <= last; cap++) if (!kept.has(cap)) libc.prctl(libc.PR_CAPBSET_DROP, cap);
  }
  bounded = kept;
}

interface User {
  uid: number;
  gid: number;
  groups: number[];
  home: string;
}

function readDb(path: string): string[][] {
  try {
    return fs
      .readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

/** Docker's user rules: names resolve in the container's /etc/passwd and /etc/group, numbers need not. */
function resolveUser(spec: string): User {
  const [userPart, groupPart] = spec ? spec.split(':', 2) : ['0', undefined];
  const passwd = readDb('/etc/passwd');
  const isNum = (s: string): boolean => /^\d+$/.test(s);
  const entry = passwd.find((f) => (isNum(userPart) ? f[2] === userPart : f[0] === userPart));
  if (!entry && !isNum(userPart)) throw new StartError(`unable to find user ${userPart}: no matching entries in passwd file`, 1);
  const uid = entry ? Number(entry[2]) : Number(userPart);
  let gid = entry ? Number(entry[3]) : 0;
  const groups = readDb('/etc/group');
  if (groupPart !== undefined) {
    const g = groups.find((f) => (isNum(groupPart) ? f[2] === groupPart : f[0] === groupPart));
    if (!g && !isNum(groupPart)) throw new StartError(`unable to find group ${groupPart}: no matching entries in group file`, 1);
    gid = g ? Number(g[2]) : Number(groupPart);
  }
  const name = entry?.[0];
  const supplementary = name ? groups.filter((f) => (f[3] ?? '').split(',').includes(name)).map((f) => Number(f[2])) : [];
  return { uid, gid, groups: [...new Set([gid, ...supplementary])], home: entry?.[5] || '/' };
}

function withHome(env: string[], home: string): string[] {
  return env.some((e) => e.startsWith('HOME=')) ? env : [...env, `HOME=${home}`];
}

function ensureDir(dir: string): void {
  if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
}

/**
 * stat that treats every failure (ENOENT, ELOOP, EACCES on a parent) as absence, as Go's LookPath
 * does. The common one, a PATH directory without the command, throws nothing: an exception costs
 * a fraction of a millisecond in a fresh init, and a PATH walk can meet several.
 */
function statOrNull(path: string): fs.Stats | null {
  try {
    return fs.statSync(path, { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}

/** PATH lookup as runc does it, with Docker's messages for what is missing. */
function findExecutable(arg0: string, env: string[]): string {
  if (arg0.includes('/')) {
    if (!statOrNull(arg0)) throw new StartError(`exec: "${arg0}": stat ${arg0}: no such file or directory`, 127);
    return arg0;
  }
  const pathVar = env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  for (const dir of pathVar.split(':')) {
    const candidate = `${dir || '.'}/${arg0}`;
    const st = statOrNull(candidate);
    if (st?.isFile() && st.mode & 0o111) return candidate;
  }
  throw new StartError(`exec: "${arg0}": executable file not found in $PATH`, 127);
}

main();
