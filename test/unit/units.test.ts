import { describe, expect, it } from 'vitest';
import { humanDuration } from '../../daemon/util/units';
import { cpuQuota, sharesToWeight, swapMax } from '../../daemon/cgroups/limits';

const S = 1000;
const M = 60 * S;
const H = 60 * M;

describe('humanDuration (go-units)', () => {
  it.each([
    [500, 'Less than a second'],
    [1 * S, '1 second'],
    [59 * S, '59 seconds'],
    [60 * S, 'About a minute'],
    [119 * S, 'About a minute'],
    [2 * M, '2 minutes'],
    [59 * M, '59 minutes'],
    [60 * M, 'About an hour'],
    [89 * M, 'About an hour'],
    [91 * M, '2 hours'],
    [47 * H, '47 hours'],
    [48 * H, '2 days'],
    [14 * 24 * H, '2 weeks'],
    [60 * 24 * H, '2 months'],
    [800 * 24 * H, '2 years'],
  ])('%d ms is %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

describe('cgroup limit conversions', () => {
  const none = { memory: 0, memorySwap: 0, nanoCpus: 0, cpuQuota: 0, cpuPeriod: 0, cpuShares: 0, pidsLimit: 0 };
  it('turns --cpus into a CFS quota', () => {
    expect(cpuQuota({ ...none, nanoCpus: 1.5e9 })).toEqual({ quota: 150000, period: 100000 });
    expect(cpuQuota({ ...none, cpuQuota: 20000, cpuPeriod: 50000 })).toEqual({ quota: 20000, period: 50000 });
    expect(cpuQuota(none)).toBeNull();
  });
  it('maps shares to v2 weights as runc does', () => {
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(262144)).toBe(10000);
  });
  it('gives swap equal to memory by default, the difference when set, max when unlimited', () => {
    expect(swapMax({ ...none, memory: 100 })).toBe('100');
    expect(swapMax({ ...none, memory: 100, memorySwap: 300 })).toBe('200');
    expect(swapMax({ ...none, memory: 100, memorySwap: -1 })).toBe('max');
    expect(swapMax(none)).toBe('max');
  });
});
