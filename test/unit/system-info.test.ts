import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { describe, expect, it } from 'vitest';
import { cgroupFeatures, infoWarnings } from '../../daemon/cgroups/sysinfo';
import { registryServiceConfig } from '../../daemon/registry/service-config';

describe('registryServiceConfig (moby newServiceConfig)', () => {
  it("puts the user's CIDRs before loopback, host:port entries as insecure indexes, mirrors on Docker Hub's index", () => {
    expect(registryServiceConfig(['10.9.8.7/16', 'reg.example:5000', 'http://other:5000', '127.0.0.0/8'], ['https://mirror.example', 'https://mirror.example/'])).toEqual({
      AllowNondistributableArtifactsCIDRs: [],
      AllowNondistributableArtifactsHostnames: [],
      InsecureRegistryCIDRs: ['10.9.0.0/16', '127.0.0.0/8'],
      IndexConfigs: {
        'reg.example:5000': { Name: 'reg.example:5000', Mirrors: [], Secure: false, Official: false },
        'other:5000': { Name: 'other:5000', Mirrors: [], Secure: false, Official: false },
        'docker.io': { Name: 'docker.io', Mirrors: ['https://mirror.example/'], Secure: true, Official: true },
      },
      Mirrors: ['https://mirror.example/'],
    });
    expect(registryServiceConfig([], []).Mirrors).toEqual([]);
  });
});

describe('cgroupFeatures and infoWarnings (dockerd sysinfo, fillPlatformInfo)', () => {
  it('reads v1 features from the hierarchies and warns for each one missing, in dockerd order', () => {
    const mount = mkdtempSync(join(tmpdir(), 'berth-unit-sysinfo-'));
    try {
      for (const [dir, files] of [
        ['memory', ['memory.limit_in_bytes', 'memory.oom_control']],
        ['cpu', ['cpu.cfs_quota_us', 'cpu.cfs_period_us', 'cpu.shares']],
        ['cpuset', ['cpuset.cpus', 'cpuset.mems']],
        ['pids', []],
        ['blkio', ['blkio.throttle.read_bps_device', 'blkio.throttle.write_bps_device', 'blkio.throttle.read_iops_device']],
      ] as const) {
        mkdirSync(join(mount, dir));
        for (const f of files) writeFileSync(join(mount, dir, f), '');
      }
      const f = cgroupFeatures(mount, 1);
      expect(f).toMatchObject({ memoryLimit: true, swapLimit: false, kernelMemory: false, kernelMemoryTCP: false, oomKillDisable: true, cpuCfs: true, cpuShares: true, cpuset: true, pidsLimit: true });
      expect(infoWarnings(f, 1, { ipv4Forwarding: true, bridgeNfIptables: false, bridgeNfIp6tables: true })).toEqual([
        'WARNING: No swap limit support',
        'WARNING: No kernel memory TCP limit support',
        'WARNING: No blkio throttle.write_iops_device support',
        'WARNING: bridge-nf-call-iptables is disabled',
      ]);
    } finally {
      rmSync(mount, { recursive: true, force: true });
    }
  });

  it("reads v2 features from the root's controllers; no kernel memory or oom warnings there", () => {
    const mount = mkdtempSync(join(tmpdir(), 'berth-unit-sysinfo-'));
    try {
      writeFileSync(join(mount, 'cgroup.controllers'), 'cpuset cpu memory pids\n');
      const f = cgroupFeatures(mount, 2);
      expect(f).toMatchObject({ memoryLimit: true, swapLimit: true, kernelMemoryTCP: false, oomKillDisable: false, cpuCfs: true, cpuset: true, pidsLimit: true, blkioWeight: false });
      expect(infoWarnings(f, 2, { ipv4Forwarding: false, bridgeNfIptables: true, bridgeNfIp6tables: true })).toEqual([
        'WARNING: No io.weight support',
        'WARNING: No io.weight (per device) support',
        'WARNING: No io.max (rbps) support',
        'WARNING: No io.max (wbps) support',
        'WARNING: No io.max (riops) support',
        'WARNING: No io.max (wiops) support',
        'WARNING: IPv4 forwarding is disabled',
      ]);
    } finally {
      rmSync(mount, { recursive: true, force: true });
    }
  });
});
