// What the daemon hands the container init (as JSON on fd 3). Types only: the init imports nothing else.

export interface InitMount {
  /** Host path for binds, or the filesystem source. */
  source: string;
  /** Absolute path inside the container. */
  target: string;
  fstype: string | null;
  flags: number;
  data: string | null;
  /** For binds: whether the target must be a file (else a directory). */
  file?: boolean;
  /** Propagation flags applied to the mount after it is made (MS_PRIVATE|MS_REC...). */
  propagation?: number;
  /** A volume: fill it from the image's content at the target when it is empty; a tmpfs (tmpcopyup): always. */
  copyUp?: boolean;
}

/** A device node the init creates in the container (--device, or the host's for --privileged). */
export interface DeviceNode {
  /** Absolute path inside the container. */
  path: string;
  /** Character, block, or FIFO. */
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  /** Permission bits (with setuid/setgid/sticky), as on the host. */
  mode: number;
  uid: number;
  gid: number;
}

export interface ProcessSpec {
  args: string[];
  env: string[];
  cwd: string;
  /** Docker's User field: "", "name", "uid", "name:group", "uid:gid". */
  user: string;
  /** Capability numbers to keep (bounding, effective, permitted). */
  capabilities: number[];
  /** The cgroup's join files (CgroupDriver.joinFiles): the init writes "0" to each just before the command starts. */
  cgroupJoin: string[];
  /** setrlimit resources (--ulimit and the daemon's defaults, resolved to numbers by the daemon), set before the capabilities are dropped. */
  rlimits: Array<{ type: number; soft: number; hard: number }>;
  /** Give the process a terminal from the container's own devpts; the daemon takes its master end. */
  tty: boolean;
  /** The container's seccomp filter, compiled by the daemon: struct sock_filter[] in base64 and seccomp(2) flags. */
  seccomp?: { filter: string; flags: number };
  /** --security-opt no-new-privileges: PR_SET_NO_NEW_PRIVS before the command starts. */
  noNewPrivileges?: boolean;
}

/**
 * cgroup v2: the cgroup2 filesystem. v1, as runc lays it out: a tmpfs with one mount per hierarchy
 * (its controllers as the mount options) and the host's symlinks beside them (cpu -> cpu,cpuacct).
 */
export type CgroupfsSpec = { version: 2 } | { version: 1; hierarchies: Array<{ name: string; options: string }>; links: Array<{ name: string; target: string }> };

/** Start a container: the init builds its namespaces and root filesystem. */
export interface ContainerSpec {
  kind: 'container';
  /** The overlay: lower dirs relative to `layersRoot`, top layer first. */
  rootfs: { layersRoot: string; lower: string[]; upper: string; work: string; mountpoint: string };
  hostname: string;
  /** Path of the bind-mounted network namespace to join; null shares the host's. */
  netns: string | null;
  /** Extra mounts after the standard /proc, /dev, /sys: /etc files, volumes. */
  mounts: InitMount[];
  maskedPaths: string[];
  readonlyPaths: string[];
  /** Created once every mount is made, over whatever is at the path. */
  devices: DeviceNode[];
  /** --privileged: /sys (and /sys/fs/cgroup) is mounted read-write. */
  sysWritable?: boolean;
  /** What the container sees at /sys/fs/cgroup, rooted at its own cgroup (its cgroup namespace). */
  cgroupfs: CgroupfsSpec;
  /** --read-only: the root filesystem is remounted read-only once everything is mounted. */
  readonlyRootfs?: boolean;
  /** Bytes of /dev/shm (--shm-size); 64 MiB when absent. */
  shmSize?: number;
  /** --sysctl, already checked against the container's namespaces: written once /proc is mounted. */
  sysctls?: Record<string, string>;
  /** Whether the process reads the init's stdin pipe (-i); else it gets the container's /dev/null. */
  stdin: boolean;
  process: ProcessSpec;
}

/** Run a process in a running container: the init joins its namespaces and starts it as its child. */
export interface ExecSpec {
  kind: 'exec';
  /** Host PID of the container's process, whose namespaces are joined. */
  pid: number;
  /** Whether the process reads the init's stdin pipe; else it gets the container's /dev/null. */
  stdin: boolean;
  process: ProcessSpec;
}

export type InitSpec = ContainerSpec | ExecSpec;

/**
 * What the init writes on fd 4, one JSON object a line: a failure before exec, the number of its
 * terminal master fd (the daemon copies it with pidfd_getfd and answers one byte), or for exec
 * the host PID of the started command and later its exit code (Docker's: 128+signal for a
 * signal). For a container, end-of-file with no failure means the command runs.
 */
export type InitMessage = { failure: { message: string; exitCode: number } } | { console: number } | { pid: number } | { exit: number };
