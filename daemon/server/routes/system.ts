// /_ping, /version, /info.
import type { FastifyInstance } from 'fastify';
import { cpus, hostname, release, totalmem } from 'os';
import { readFileSync } from 'fs';
import { API_VERSION, BERTH_VERSION, MIN_API_VERSION } from '../app';
import { SECCOMP_ENABLED } from '../../security/container-seccomp';

export interface SystemDeps {
  counts(): { containers: number; running: number; paused: number; stopped: number; images: number };
  cgroupVersion: 1 | 2;
  dataRoot: string;
  daemonId: string;
}

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

export function registerSystemRoutes(app: FastifyInstance, deps: SystemDeps): void {
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
      Components: [{ Name: 'Engine', Version: BERTH_VERSION, Details: { ApiVersion: API_VERSION, Arch: 'amd64', BuildTime: '', Experimental: 'false', GitCommit: 'berth', GoVersion: process.version, KernelVersion: release(), MinAPIVersion: MIN_API_VERSION, Os: 'linux' } }],
      Version: common.Version,
      ApiVersion: common.ApiVersion,
      MinAPIVersion: common.MinAPIVersion,
      GitCommit: common.GitCommit,
      GoVersion: common.GoVersion,
      Os: common.Os,
      Arch: common.Arch,
      KernelVersion: common.KernelVersion,
      BuildTime: '',
    };
  });

  app.get('/info', async () => {
    const n = deps.counts();
    return {
      ID: deps.daemonId,
      Containers: n.containers,
      ContainersRunning: n.running,
      ContainersPaused: n.paused,
      ContainersStopped: n.stopped,
      Images: n.images,
      Driver: 'overlay2',
      DriverStatus: [
        ['Backing Filesystem', 'extfs'],
        ['Supports d_type', 'true'],
      ],
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file'] },
      MemoryLimit: true,
      SwapLimit: deps.cgroupVersion === 2,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      IPv4Forwarding: readSysctl('/proc/sys/net/ipv4/ip_forward') === '1',
      BridgeNfIptables: readSysctl('/proc/sys/net/bridge/bridge-nf-call-iptables') === '1',
      BridgeNfIp6tables: readSysctl('/proc/sys/net/bridge/bridge-nf-call-ip6tables') === '1',
      Debug: false,
      NFd: 0,
      OomKillDisable: deps.cgroupVersion === 1,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: 'json-file',
      CgroupDriver: 'cgroupfs',
      CgroupVersion: String(deps.cgroupVersion),
      NEventsListener: 0,
      KernelVersion: release(),
      OperatingSystem: osName(),
      OSVersion: '',
      OSType: 'linux',
      Architecture: 'x86_64',
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: { AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null, InsecureRegistryCIDRs: ['127.0.0.0/8'], IndexConfigs: {}, Mirrors: null },
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
      Warnings: [],
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
