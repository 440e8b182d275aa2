import { describe, expect, it } from 'vitest';
import { mergeUpdate, verifyUpdate } from '../../daemon/containers/update';
import type { HostConfig } from '../../daemon/containers/record';

const host = { ncpu: 2, blkioWeight: true, cpuset: { cpus: '0-1', mems: '0' } };
const MB = 1024 * 1024;
const hc = (over: Partial<HostConfig> = {}): HostConfig => ({
  Binds: null, NetworkMode: 'default', AutoRemove: false, Memory: 0, MemorySwap: 0, NanoCpus: 0, CpuShares: 0, CpuQuota: 0, CpuPeriod: 0, PidsLimit: null, Privileged: false, ...over,
});

describe('verifyUpdate (dockerd verifyContainerSettings, update mode)', () => {
  it.each([
    [{ Memory: 4 * MB }, 'Minimum memory limit allowed is 6MB'],
    [{ Memory: 20 * MB, MemorySwap: 10 * MB }, 'Minimum memoryswap limit should be larger than memory limit, see usage'],
    [{ MemoryReservation: MB }, 'Minimum memory reservation allowed is 6MB'],
    [{ Memory: 10 * MB, MemoryReservation: 20 * MB }, 'Minimum memory limit can not be less than memory reservation limit, see usage'],
    [{ NanoCpus: 1e9, CpuPeriod: 100000 }, 'Conflicting options: Nano CPUs and CPU Period cannot both be set'],
    [{ NanoCpus: 3e9 }, 'Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available'],
    [{ CpuQuota: 500 }, 'CPU cfs quota can not be less than 1ms (i.e. 1000)'],
    [{ BlkioWeight: 5 }, 'Range of blkio weight is from 10 to 1000'],
    [{ CpusetCpus: '0-x' }, 'Invalid value 0-x for cpuset cpus: invalid format: 0-x'],
    [{ CpusetCpus: '5' }, 'Requested CPUs are not available - requested 5, available: 0-1'],
    [{ CpusetMems: '1' }, 'Requested memory nodes are not available - requested 1, available: 0'],
    [{ CpusetCpus: 1 }, 'json: cannot unmarshal number into Go struct field UpdateConfig.CpusetCpus of type string'],
    [{ RestartPolicy: { Name: 'sometimes' } }, "invalid restart policy 'sometimes'"],
    [{ Memory: '20m' }, 'json: cannot unmarshal string into Go struct field UpdateConfig.Memory of type int64'],
  ])('%j: %s', (body, message) => {
    expect(() => verifyUpdate(body, host)).toThrow(message);
  });

  it('maps a negative pids limit to unlimited and leaves an absent one unchanged', () => {
    expect(verifyUpdate({ PidsLimit: -1 }, host).req.PidsLimit).toBe(0);
    expect(verifyUpdate({}, host).req.PidsLimit).toBeNull();
  });

  it('drops what the host cannot apply, with dockerd warnings', () => {
    const { req, warnings } = verifyUpdate({ BlkioWeight: 500, CpusetCpus: '0' }, { ncpu: 2, blkioWeight: false, cpuset: null });
    expect(req.BlkioWeight).toBe(0);
    expect(warnings).toEqual([
      'Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.',
      'Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.',
    ]);
  });
});

describe('mergeUpdate (dockerd UpdateContainer)', () => {
  const req = (body: Record<string, unknown>) => verifyUpdate(body, host).req;

  it('changes only what was given and pins the default swap', () => {
    const out = mergeUpdate('x', hc({ Memory: 64 * MB, CpuShares: 512 }), req({ Memory: 20 * MB, NanoCpus: 5e8 }));
    expect(out).toMatchObject({ Memory: 20 * MB, MemorySwap: 128 * MB, NanoCpus: 5e8, CpuShares: 512 });
  });

  it.each([
    [hc(), { Memory: 20 * MB }, 'Cannot update container x: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time'],
    [hc({ NanoCpus: 1e9 }), { CpuQuota: 50000 }, 'Cannot update container x: Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set'],
    [hc({ CpuPeriod: 50000 }), { NanoCpus: 1e9 }, 'Cannot update container x: Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set'],
    [hc({ AutoRemove: true }), { RestartPolicy: { Name: 'always' } }, 'Cannot update container x: Restart policy cannot be updated because AutoRemove is enabled for the container'],
  ])('refuses %j + %j', (current, body, message) => {
    expect(() => mergeUpdate('x', current, req(body))).toThrow(message);
  });

  it('replaces the cpusets given and keeps the others', () => {
    const current = hc({ CpusetCpus: '0', CpusetMems: '0' });
    expect(mergeUpdate('x', current, req({ CpusetCpus: '1' }))).toMatchObject({ CpusetCpus: '1', CpusetMems: '0' });
    expect(mergeUpdate('x', current, req({ CpusetCpus: '', Memory: 0 }))).toMatchObject({ CpusetCpus: '0', CpusetMems: '0' });
  });

  it('accepts memory above the old swap when the swap moves too', () => {
    expect(mergeUpdate('x', hc(), req({ Memory: 20 * MB, MemorySwap: -1 }))).toMatchObject({ Memory: 20 * MB, MemorySwap: -1 });
  });
});
