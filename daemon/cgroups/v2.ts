// cgroup v2: one tree; controllers are enabled for the parent's children, the container's cgroup at <parent>/<id>.
import { closeSync, constants, existsSync, openSync, readFileSync } from 'fs';
import { mkdir, readFile, writeFile } from 'fs/promises';
import * as libc from '../../native/libc';
import { deviceFilterProgram } from './device-filter';
import { resolveRules, type DeviceRule } from './devices';
import type { CgroupfsSpec } from '../runtime/init-spec';
import type { CgroupDriver } from './driver';
import { moveTo, ownCgroupFile } from './own';
import { cpuQuota, sharesToWeight, swapMax, type CpusetInfo, type Limits } from './limits';
import { ioStatV2, keyValues, single, type CgroupStats } from './stats';
import { killAll, parsePids, rmdirIfPresent } from './v1';

const WANTED = ['cpu', 'memory', 'pids', 'io', 'cpuset'];

export class CgroupV2 implements CgroupDriver {
  readonly version = 2;
  private ready: Promise<void> | undefined;
  constructor(
    private readonly mount: string,
    private readonly parent: string,
  ) {}

  private dir(id: string): string {
    return `${this.mount}/${this.parent}/${id}`;
  }

  /** Enables the controllers the host offers in the root and in our parent, once. */
  private setup(): Promise<void> {
    // A failed setup is retried by the next create, not cached.
    this.ready ??= (async () => {
      const available = (await readFile(`${this.mount}/cgroup.controllers`, 'utf8')).split(/\s+/);
      const enable = WANTED.filter((c) => available.includes(c))
        .map((c) => `+${c}`)
        .join(' ');
      await writeFile(`${this.mount}/cgroup.subtree_control`, enable);
      await mkdir(`${this.mount}/${this.parent}`, { recursive: true });
      await writeFile(`${this.mount}/${this.parent}/cgroup.subtree_control`, enable);
    })().catch((e: unknown) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  async create(id: string, limits: Limits, devices: readonly DeviceRule[]): Promise<string[]> {
    await this.setup();
    const dir = this.dir(id);
    await mkdir(dir, { recursive: true });
    try {
      attachDeviceFilter(dir, devices);
      for (const [file, value] of this.writes(id, limits, false)) await writeFile(`${dir}/${file}`, value);
    } catch (e) {
      await this.remove(id);
      throw e;
    }
    return this.joinFiles(id);
  }

  async update(id: string, limits: Limits): Promise<void> {
    // memory.max below the usage makes the kernel reclaim, then OOM-kill: there is no refusal to report.
    for (const [file, value] of this.writes(id, limits, true)) await writeFile(`${this.dir(id)}/${file}`, value);
  }

  /** [file, value] for the limits; an update also resets what is now unlimited. */
  private writes(id: string, limits: Limits, update: boolean): Array<[string, string]> {
    const dir = this.dir(id);
    const writes: Array<[string, string]> = [];
    if (limits.memory > 0) writes.push(['memory.max', String(limits.memory)]);
    // Kernels without swap accounting have no memory.swap.max.
    if (limits.memory > 0 && existsSync(`${dir}/memory.swap.max`)) writes.push(['memory.swap.max', swapMax(limits)]);
    if (limits.memoryReservation) writes.push(['memory.low', String(limits.memoryReservation)]);
    const q = cpuQuota(limits);
    if (q) writes.push(['cpu.max', `${q.quota} ${q.period}`]);
    if (limits.cpuShares > 0) writes.push(['cpu.weight', String(sharesToWeight(limits.cpuShares))]);
    if (limits.pidsLimit > 0) writes.push(['pids.max', String(limits.pidsLimit)]);
    else if (update) writes.push(['pids.max', 'max']);
    if (limits.blkioWeight && existsSync(`${dir}/io.bfq.weight`)) writes.push(['io.bfq.weight', String(limits.blkioWeight)]);
    // Empty lists are the parent's effective ones; an update of none leaves them as they are.
    if (limits.cpusetCpus) writes.push(['cpuset.cpus', limits.cpusetCpus]);
    if (limits.cpusetMems) writes.push(['cpuset.mems', limits.cpusetMems]);
    return writes;
  }

  /** As dockerd's sysinfo on v2 (runc ignores the values there). */
  supportsCpuRealtime(): boolean {
    return false;
  }

  supportsBlkioWeight(): boolean {
    return existsSync(`${this.mount}/${this.parent}/io.bfq.weight`);
  }

  /** As dockerd on v2: the effective lists, where the host offers the cpuset controller. */
  cpusetInfo(): CpusetInfo | null {
    try {
      if (!readFileSync(`${this.mount}/cgroup.controllers`, 'utf8').split(/\s+/).includes('cpuset')) return null;
      const [cpus, mems] = ['cpuset.cpus.effective', 'cpuset.mems.effective'].map((f) => readFileSync(`${this.mount}/${f}`, 'utf8').trim());
      return { cpus, mems };
    } catch {
      return null;
    }
  }

  procs(id: string): string[] {
    return [`${this.dir(id)}/cgroup.procs`];
  }

  joinFiles(id: string): string[] {
    return this.procs(id);
  }

  reclaim(pid: number): Promise<void> {
    return moveTo([ownCgroupFile(this.mount, '', 'cgroup.procs')], pid);
  }

  async remove(id: string): Promise<void> {
    await killAll(this.procs(id));
    await rmdirIfPresent(this.dir(id));
  }

  async oomKilled(id: string): Promise<boolean> {
    const text = await readFile(`${this.dir(id)}/memory.events`, 'utf8').catch(() => '');
    return Number(/^oom_kill (\d+)/m.exec(text)?.[1] ?? 0) > 0;
  }

  async removeParent(): Promise<void> {
    await rmdirIfPresent(`${this.mount}/${this.parent}`, false).catch(() => undefined);
  }

  cgroupfs(): CgroupfsSpec {
    return { version: 2 };
  }

  memoryLimitFile(id: string): string {
    return `${this.dir(id)}/memory.max`;
  }

  async freeze(id: string, frozen: boolean): Promise<void> {
    await writeFile(`${this.dir(id)}/cgroup.freeze`, frozen ? '1' : '0');
    // cgroup.events says `frozen 1` once every task has stopped.
    for (let i = 0; i < 1000; i++) {
      const events = await readFile(`${this.dir(id)}/cgroup.events`, 'utf8');
      if (new RegExp(`^frozen ${frozen ? 1 : 0}$`, 'm').test(events)) return;
      await new Promise((r) => setTimeout(r, 1));
    }
    throw new Error(`cgroup ${id} did not reach frozen=${frozen ? 1 : 0}`);
  }

  async pids(id: string): Promise<number[]> {
    return parsePids(await readFile(`${this.dir(id)}/cgroup.procs`, 'utf8'));
  }

  async stats(id: string): Promise<CgroupStats> {
    const read = (f: string): Promise<string> => readFile(`${this.dir(id)}/${f}`, 'utf8').catch(() => '');
    const [cpuStat, memCur, memMax, memStat, pidsCur, pidsMax, io] = await Promise.all(
      ['cpu.stat', 'memory.current', 'memory.max', 'memory.stat', 'pids.current', 'pids.max', 'io.stat'].map(read),
    );
    const cs = keyValues(cpuStat);
    return {
      cpu: {
        total: (cs.usage_usec ?? 0) * 1000,
        user: (cs.user_usec ?? 0) * 1000,
        system: (cs.system_usec ?? 0) * 1000,
        periods: cs.nr_periods ?? 0,
        throttledPeriods: cs.nr_throttled ?? 0,
        throttledTime: (cs.throttled_usec ?? 0) * 1000,
      },
      // As dockerd on v2: no max_usage or failcnt.
      memory: { usage: single(memCur) ?? 0, limit: single(memMax), stats: keyValues(memStat) },
      pids: { current: single(pidsCur) ?? 0, limit: single(pidsMax) },
      io: ioStatV2(io),
    };
  }
}

/**
 * Loads the device rules as an eBPF program and attaches it to the cgroup, as runc does on v2. Our
 * descriptors go at once: the attachment holds the program, and the kernel frees it with the cgroup.
 */
function attachDeviceFilter(dir: string, devices: readonly DeviceRule[]): void {
  const prog = libc.bpfProgLoad(libc.BPF_PROG_TYPE_CGROUP_DEVICE, deviceFilterProgram(resolveRules(devices)), 'Apache');
  try {
    const cg = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      libc.bpfProgAttach(cg, prog, libc.BPF_CGROUP_DEVICE, libc.BPF_F_ALLOW_MULTI);
    } finally {
      closeSync(cg);
    }
  } finally {
    closeSync(prog);
  }
}
