import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectCgroupDriver } from '../../daemon/cgroups/driver';
import { parseConfig } from '../../daemon/config';
import { verifyRealtime } from '../../daemon/containers/create';
import { mergeUpdate, verifyUpdate } from '../../daemon/containers/update';
import type { HostConfig } from '../../daemon/containers/record';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'berth-unit-rt-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("verifyRealtime (dockerd's validateResources)", () => {
  it('needs the real-time scheduler for either value', () => {
    expect(() => verifyRealtime({ HostConfig: { CpuRealtimeRuntime: 1000 } }, false)).toThrow('Your kernel does not support CPU real-time scheduler');
    expect(() => verifyRealtime({ HostConfig: { CpuRealtimePeriod: 1000 } }, false)).toThrow('Your kernel does not support CPU real-time scheduler');
    expect(() => verifyRealtime({ HostConfig: {} }, false)).not.toThrow();
  });

  it('refuses a runtime above the period only when both are set', () => {
    expect(() => verifyRealtime({ HostConfig: { CpuRealtimePeriod: 1000, CpuRealtimeRuntime: 1001 } }, true)).toThrow('cpu real-time runtime cannot be higher than cpu real-time period');
    expect(() => verifyRealtime({ HostConfig: { CpuRealtimePeriod: 1000, CpuRealtimeRuntime: 1000 } }, true)).not.toThrow();
    expect(() => verifyRealtime({ HostConfig: { CpuRealtimeRuntime: 5_000_000 } }, true)).not.toThrow();
  });
});

describe('update of the real-time values', () => {
  it('keeps what is not given and stores what is, unchecked as dockerd leaves them', () => {
    const host = { ncpu: 2, blkioWeight: false, cpuset: null };
    const hc = { CpuRealtimePeriod: 100000, CpuRealtimeRuntime: 1000 } as unknown as HostConfig;
    expect(mergeUpdate('x', hc, verifyUpdate({ CpuRealtimeRuntime: 5000 }, host).req)).toMatchObject({ CpuRealtimePeriod: 100000, CpuRealtimeRuntime: 5000 });
    expect(mergeUpdate('x', hc, verifyUpdate({ CpuRealtimePeriod: 10, CpuRealtimeRuntime: 20 }, host).req)).toMatchObject({ CpuRealtimePeriod: 10, CpuRealtimeRuntime: 20 });
  });
});

describe('berthd --cpu-rt-period / --cpu-rt-runtime', () => {
  const parse = (file: Record<string, unknown>, argv: string[]) => {
    const f = join(tmp(), 'daemon.json');
    writeFileSync(f, JSON.stringify(file));
    return parseConfig(['--config-file', f, ...argv]);
  };

  it('reads the flags and the file keys', () => {
    expect(parse({}, ['--cpu-rt-runtime', '20000'])).toMatchObject({ cpuRtPeriod: 0, cpuRtRuntime: 20000 });
    expect(parse({ 'cpu-rt-period': 500000 }, [])).toMatchObject({ cpuRtPeriod: 500000, cpuRtRuntime: 0 });
  });

  it("refuses a bad number and a flag beside its file key, with dockerd's words", () => {
    expect(() => parse({}, ['--cpu-rt-runtime', 'x'])).toThrow('invalid argument "x" for "--cpu-rt-runtime" flag: strconv.ParseInt: parsing "x": invalid syntax');
    expect(() => parse({ 'cpu-rt-runtime': 1 }, ['--cpu-rt-runtime', '2'])).toThrow('the following directives are specified both as a flag and in the configuration file: cpu-rt-runtime: (from flag: 2, from file: 1)');
  });

  it('makes the daemon refuse them on cgroup v2 and on a kernel without the real-time scheduler', () => {
    const v2 = tmp();
    writeFileSync(join(v2, 'cgroup.controllers'), 'cpu memory');
    expect(() => detectCgroupDriver(v2, 'berth', { period: 0, runtime: 1000 })).toThrow('daemon-scoped cpu-rt-period and cpu-rt-runtime are not implemented for cgroup v2');
    expect(detectCgroupDriver(v2, 'berth', { period: 0, runtime: 0 }).version).toBe(2);
    const v1 = tmp();
    mkdirSync(join(v1, 'cpu'));
    expect(() => detectCgroupDriver(v1, 'berth', { period: 1000, runtime: 0 })).toThrow('daemon-scoped cpu-rt-period and cpu-rt-runtime are not supported by the kernel');
    writeFileSync(join(v1, 'cpu', 'cpu.rt_period_us'), '1000000');
    expect(detectCgroupDriver(v1, 'berth', { period: 1000, runtime: 0 }).supportsCpuRealtime()).toBe(true);
  });
});
