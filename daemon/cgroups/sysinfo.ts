// What the host's cgroups offer, as dockerd's pkg/sysinfo finds it (files of the v1 hierarchies,
// the root's v2 controllers), and the warnings `docker info` prints for what is missing.
import { existsSync, readFileSync } from 'fs';

export interface CgroupFeatures {
  memoryLimit: boolean;
  swapLimit: boolean;
  /** v1 memory.kmem.limit_in_bytes (deprecated by the kernel, still reported by dockerd 24); never on v2. */
  kernelMemory: boolean;
  /** v1 memory.kmem.tcp.limit_in_bytes; never on v2. */
  kernelMemoryTCP: boolean;
  /** v1 memory.oom_control; never on v2. */
  oomKillDisable: boolean;
  cpuCfs: boolean;
  cpuShares: boolean;
  cpuset: boolean;
  pidsLimit: boolean;
  /** v2 io.weight (per device too); v1 only the throttle files matter to dockerd's warnings. */
  blkioWeight: boolean;
  blkioThrottle: { readBps: boolean; writeBps: boolean; readIOps: boolean; writeIOps: boolean };
}

/** sysinfo.New: v1 looks for each controller's files at its hierarchy's root, v2 at the root's controller list. */
export function cgroupFeatures(mount: string, version: 1 | 2): CgroupFeatures {
  if (version === 2) {
    let controllers: string[] = [];
    try {
      controllers = readFileSync(`${mount}/cgroup.controllers`, 'utf8').trim().split(/\s+/);
    } catch {
      // No controllers readable: every feature is missing.
    }
    const has = (c: string): boolean => controllers.includes(c);
    const io = has('io');
    return {
      memoryLimit: has('memory'),
      swapLimit: has('memory'),
      kernelMemory: false,
      kernelMemoryTCP: false,
      oomKillDisable: false,
      cpuCfs: has('cpu'),
      cpuShares: has('cpu'),
      cpuset: has('cpuset'),
      pidsLimit: has('pids'),
      blkioWeight: io,
      blkioThrottle: { readBps: io, writeBps: io, readIOps: io, writeIOps: io },
    };
  }
  const file = (controller: string, name: string): boolean => existsSync(`${mount}/${controller}/${name}`);
  return {
    memoryLimit: file('memory', 'memory.limit_in_bytes'),
    swapLimit: file('memory', 'memory.memsw.limit_in_bytes'),
    kernelMemory: file('memory', 'memory.kmem.limit_in_bytes'),
    kernelMemoryTCP: file('memory', 'memory.kmem.tcp.limit_in_bytes'),
    oomKillDisable: file('memory', 'memory.oom_control'),
    cpuCfs: file('cpu', 'cpu.cfs_quota_us') && file('cpu', 'cpu.cfs_period_us'),
    cpuShares: file('cpu', 'cpu.shares'),
    cpuset: file('cpuset', 'cpuset.cpus') && file('cpuset', 'cpuset.mems'),
    pidsLimit: existsSync(`${mount}/pids`),
    blkioWeight: file('blkio', 'blkio.weight'),
    blkioThrottle: {
      readBps: file('blkio', 'blkio.throttle.read_bps_device'),
      writeBps: file('blkio', 'blkio.throttle.write_bps_device'),
      readIOps: file('blkio', 'blkio.throttle.read_iops_device'),
      writeIOps: file('blkio', 'blkio.throttle.write_iops_device'),
    },
  };
}

/** dockerd's fillPlatformInfo warnings, in its order, for missing cgroup features and disabled forwarding or bridge netfilter. */
export function infoWarnings(f: CgroupFeatures, version: 1 | 2, net: { ipv4Forwarding: boolean; bridgeNfIptables: boolean; bridgeNfIp6tables: boolean }): string[] {
  const w: string[] = [];
  const v1 = version === 1;
  if (!f.memoryLimit) w.push('WARNING: No memory limit support');
  if (!f.swapLimit) w.push('WARNING: No swap limit support');
  if (!f.kernelMemoryTCP && v1) w.push('WARNING: No kernel memory TCP limit support');
  if (!f.oomKillDisable && v1) w.push('WARNING: No oom kill disable support');
  if (!f.cpuCfs) w.push('WARNING: No cpu cfs quota support', 'WARNING: No cpu cfs period support');
  if (!f.cpuShares) w.push('WARNING: No cpu shares support');
  if (!f.cpuset) w.push('WARNING: No cpuset support');
  if (!f.blkioWeight && !v1) w.push('WARNING: No io.weight support', 'WARNING: No io.weight (per device) support');
  const t = f.blkioThrottle;
  if (!t.readBps) w.push(v1 ? 'WARNING: No blkio throttle.read_bps_device support' : 'WARNING: No io.max (rbps) support');
  if (!t.writeBps) w.push(v1 ? 'WARNING: No blkio throttle.write_bps_device support' : 'WARNING: No io.max (wbps) support');
  if (!t.readIOps) w.push(v1 ? 'WARNING: No blkio throttle.read_iops_device support' : 'WARNING: No io.max (riops) support');
  if (!t.writeIOps) w.push(v1 ? 'WARNING: No blkio throttle.write_iops_device support' : 'WARNING: No io.max (wiops) support');
  if (!net.ipv4Forwarding) w.push('WARNING: IPv4 forwarding is disabled');
  if (!net.bridgeNfIptables) w.push('WARNING: bridge-nf-call-iptables is disabled');
  if (!net.bridgeNfIp6tables) w.push('WARNING: bridge-nf-call-ip6tables is disabled');
  return w;
}
