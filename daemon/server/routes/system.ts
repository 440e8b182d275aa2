// /_ping, /version, /info.
import type { FastifyInstance } from 'fastify';
import { cpus, hostname, release, totalmem } from 'os';
import { readFileSync, statSync, statfsSync } from 'fs';
import { cgroupFeatures, infoWarnings } from '../../cgroups/sysinfo';
import { registryServiceConfig } from '../../registry/service-config';
import { API_VERSION, BERTH_VERSION, MIN_API_VERSION } from '../app';
import { SECCOMP_ENABLED } from '../../security/container-seccomp';

export interface SystemDeps {
  counts(): { containers: number; running: number; paused: number; stopped: number; images: number };
  cgroupVersion: 1 | 2;
  /** Where the cgroup hierarchies are mounted (/sys/fs/cgroup). */
  cgroupMount: string;
  dataRoot: string;
  daemonId: string;
  insecureRegistries: string[];
  registryMirrors: string[];
}

/** A field of /etc/os-release (PRETTY_NAME, VERSION_ID), unquoted; undefined when absent. */
function osRelease(key: string): string | undefined {
  try {
    return new RegExp(`^${key}="?([^"\n]*)"?`, 'm').exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** The names moby's graphdriver gives the filesystems it knows, by statfs magic (fsmagic.go). */
const FS_MAGIC: Record<number, string> = {
  0x61756673: 'aufs',
  0x9123683e: 'btrfs',
  0x28cd3d45: 'cramfs',
  0xf15f: 'ecryptfs',
  0xef53: 'extfs',
  0xf2f52010: 'f2fs',
  0x47504653: 'gpfs',
  0x72b6: 'jffs2',
  0x3153464a: 'jfs',
  0x6969: 'nfs',
  0x858458f6: 'ramfs',
  0x52654973: 'reiserfs',
  0x517b: 'smb',
  0x73717368: 'squashfs',
  0x01021994: 'tmpfs',
  0xa501fcf5: 'vxfs',
  0x58465342: 'xfs',
  0x2fc12fc1: 'zfs',
  0x794c7630: 'overlayfs',
  0x65735546: 'fuse',
};

/** overlay2's "Backing Filesystem": what the data root lives on. */
function backingFilesystem(dir: string): string {
  try {
    return FS_MAGIC[statfsSync(dir).type] ?? '<unknown>';
  } catch {
    return '<unknown>';
  }
}

/**
 * When this daemon was built (its compiled file's mtime), as dockerd's BuildTime reads:
 * `date --rfc-3339=ns` with a T, which the docker CLI parses as RFC 3339.
 */
function buildTime(): string {
  try {
    return statSync(__filename).mtime.toISOString().replace(/\.(\d{3})Z$/, '.$1000000+00:00');
  } catch {
    return '';
  }
}

export function registerSystemRoutes(app: FastifyInstance, deps: SystemDeps): void {
  const built = buildTime();
  const ping = async (_req: unknown, reply: import('fastify').FastifyReply) => {
    reply.header('Builder-Version', '1');
    reply.header('Cache-Control', 'no-cache, no-store, must-revalidate');
    reply.header('Pragma', 'no-cache');
    reply.type('text/plain; charset=utf-8');
    return reply.send('OK');
  };
  app.get('/_ping', ping);
  app.head('/_ping', async (_req, reply) => {
    reply.header('Builder-Version', '1');
    reply.header('Cache-Control', 'no-cache, no-store, must-revalidate');
    reply.header('Pragma', 'no-cache');
    reply.type('text/plain; charset=utf-8');
    reply.header('Content-Length', '0');
    return reply.send();
  });

  app.get('/version', async () => {
    const common = { ApiVersion: API_VERSION, Arch: 'amd64', GitCommit: 'berth', GoVersion: process.version, KernelVersion: release(), MinAPIVersion: MIN_API_VERSION, Os: 'linux', Version: BERTH_VERSION };
    return {
      Platform: { Name: 'berth' },
      Components: [{ Name: 'Engine', Version: BERTH_VERSION, Details: { ApiVersion: API_VERSION, Arch: 'amd64', BuildTime: built, Experimental: 'false', GitCommit: 'berth', GoVersion: process.version, KernelVersion: release(), MinAPIVersion: MIN_API_VERSION, Os: 'linux' } }],
      Version: common.Version,
      ApiVersion: common.ApiVersion,
      MinAPIVersion: common.MinAPIVersion,
      GitCommit: common.GitCommit,
      GoVersion: common.GoVersion,
      Os: common.Os,
      Arch: common.Arch,
      KernelVersion: common.KernelVersion,
      BuildTime: built,
    };
  });

  app.get('/info', async () => {
    const n = deps.counts();
    const f = cgroupFeatures(deps.cgroupMount, deps.cgroupVersion);
    const net = {
      ipv4Forwarding: readSysctl('/proc/sys/net/ipv4/ip_forward') === '1',
      bridgeNfIptables: readSysctl('/proc/sys/net/bridge/bridge-nf-call-iptables') === '1',
      bridgeNfIp6tables: readSysctl('/proc/sys/net/bridge/bridge-nf-call-ip6tables') === '1',
    };
    return {
      ID: deps.daemonId,
      Containers: n.containers,
      ContainersRunning: n.running,
      ContainersPaused: n.paused,
      ContainersStopped: n.stopped,
      Images: n.images,
      Driver: 'overlay2',
      DriverStatus: [
        ['Backing Filesystem', backingFilesystem(deps.dataRoot)],
        ['Supports d_type', 'true'],
      ],
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file'] },
      MemoryLimit: f.memoryLimit,
      SwapLimit: f.swapLimit,
      // Left out when false, as dockerd's omitempty does.
      ...(f.kernelMemory ? { KernelMemory: true } : {}),
      ...(f.kernelMemoryTCP ? { KernelMemoryTCP: true } : {}),
      CpuCfsPeriod: f.cpuCfs,
      CpuCfsQuota: f.cpuCfs,
      CPUShares: f.cpuShares,
      CPUSet: f.cpuset,
      PidsLimit: f.pidsLimit,
      IPv4Forwarding: net.ipv4Forwarding,
      BridgeNfIptables: net.bridgeNfIptables,
      BridgeNfIp6tables: net.bridgeNfIp6tables,
      Debug: false,
      NFd: 0,
      OomKillDisable: f.oomKillDisable,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: String(deps.cgroupVersion),
      NEventsListener: 0,
      KernelVersion: release(),
      OperatingSystem: osRelease('PRETTY_NAME') ?? 'Linux',
      OSVersion: osRelease('VERSION_ID') ?? '',
      OSType: 'linux',
      Architecture: 'x86_64',
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: registryServiceConfig(deps.insecureRegistries, deps.registryMirrors),
      NCPU: cpus().length,
      MemTotal: totalmem(),
      GenericResources: null,
      DockerRootDir: deps.dataRoot,
      HttpProxy: '',
      HttpsProxy: '',
      NoProxy: '',
      Name: hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: BERTH_VERSION,
      Runtimes: { runc: { path: 'berth-init' } },
      DefaultRuntime: 'runc',
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: false,
      Isolation: '',
      InitBinary: '',
      ContainerdCommit: { ID: '', Expected: '' },
      RuncCommit: { ID: '', Expected: '' },
      InitCommit: { ID: '', Expected: '' },
      // dockerd's order: apparmor, seccomp, selinux, userns, rootless, cgroupns (this host has no AppArmor or SELinux).
      SecurityOptions: [...(SECCOMP_ENABLED ? ['name=seccomp,profile=builtin'] : []), ...(deps.cgroupVersion === 2 ? ['name=cgroupns'] : [])],
      Warnings: infoWarnings(f, deps.cgroupVersion, net),
    };
  });
}

function readSysctl(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}
