import { describe, expect, it } from 'vitest';
import { cpusetAvailable, parseCpusetList, verifyCpusets } from '../../daemon/containers/cpuset';
import { ApiError } from '../../daemon/server/errors';

const sorted = (s: Set<number>): number[] => [...s].sort((a, b) => a - b);

describe('parseCpusetList (dockerd parseUintList)', () => {
  it.each([
    ['', []],
    ['7', [7]],
    ['1-6', [1, 2, 3, 4, 5, 6]],
    ['0,3-4,7,8-10', [0, 3, 4, 7, 8, 9, 10]],
    ['0-0,0,1-7', [0, 1, 2, 3, 4, 5, 6, 7]],
    ['03,1-3', [1, 2, 3]],
    ['3,2,1', [1, 2, 3]],
    ['+1', [1]],
  ])('%j names %j', (list, numbers) => {
    expect(sorted(parseCpusetList(list, 8192))).toEqual(numbers);
  });

  it.each(['0-x', '1-42,,', '42-3,1--', '-1', '1-', ',', ' 1', '1.5', '0x1', '1_0', '99999999999999999999'])('refuses %j', (list) => {
    expect(() => parseCpusetList(list, 8192)).toThrow(`invalid format: ${list}`);
  });

  it('refuses numbers above the maximum, in dockerd words', () => {
    expect(() => parseCpusetList('1-9223372036854775807', 8192)).toThrow('value of out range, maximum is 8192');
    expect(() => parseCpusetList('8193', 8192)).toThrow('value of out range, maximum is 8192');
    expect(sorted(parseCpusetList('8192', 8192))).toEqual([8192]);
  });
});

describe('cpusetAvailable', () => {
  it('is whether every requested number is offered', () => {
    expect(cpusetAvailable('1', '0-1')).toBe(true);
    expect(cpusetAvailable('0,1', '0-1')).toBe(true);
    expect(cpusetAvailable('', '0-1')).toBe(true);
    expect(cpusetAvailable('1-2', '0-1')).toBe(false);
    expect(cpusetAvailable('5', '0,2-3')).toBe(false);
  });
});

describe('verifyCpusets (dockerd verifyPlatformContainerResources)', () => {
  const host = { cpus: '0-1', mems: '0' };
  const refusal = (r: { CpusetCpus?: string; CpusetMems?: string }): string => {
    try {
      verifyCpusets(r, host);
    } catch (e) {
      expect((e as ApiError).statusCode).toBe(400);
      return (e as Error).message;
    }
    throw new Error('accepted');
  };

  it.each([
    [{ CpusetCpus: '0-x' }, 'Invalid value 0-x for cpuset cpus: invalid format: 0-x'],
    [{ CpusetCpus: '5' }, 'Requested CPUs are not available - requested 5, available: 0-1'],
    [{ CpusetCpus: '99999' }, 'Invalid value 99999 for cpuset cpus: value of out range, maximum is 8192'],
    [{ CpusetMems: '42-3,1--' }, 'Invalid value 42-3,1-- for cpuset mems: invalid format: 42-3,1--'],
    [{ CpusetMems: '1' }, 'Requested memory nodes are not available - requested 1, available: 0'],
    // CPUs are checked before memory nodes.
    [{ CpusetCpus: '3', CpusetMems: 'x' }, 'Requested CPUs are not available - requested 3, available: 0-1'],
  ])('%j: %s', (r, message) => {
    expect(refusal(r)).toBe(message);
  });

  it('accepts what the host has and leaves the values', () => {
    const r = { CpusetCpus: '1', CpusetMems: '0' };
    expect(verifyCpusets(r, host)).toEqual([]);
    expect(r).toEqual({ CpusetCpus: '1', CpusetMems: '0' });
  });

  it('drops the values with dockerd warning where the host has no cpuset controller', () => {
    const r = { CpusetCpus: '9', CpusetMems: '' };
    expect(verifyCpusets(r, null)).toEqual(['Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.']);
    expect(r).toEqual({ CpusetCpus: '', CpusetMems: '' });
    expect(verifyCpusets({}, null)).toEqual([]);
  });
});
