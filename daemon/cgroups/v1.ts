// cgroup v1: one hierarchy per controller, the container's cgroup at <controller>/<parent>/<id>.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, writeSync } from 'fs';
import type { CgroupfsSpec } from '../runtime/init-spec';
import { mkdir, readFile, rmdir, writeFile } from 'fs/promises';
import type { CgroupDriver, DaemonRealtime } from './driver';
import { moveTo, ownCgroupFile } from './own';
import { resolveRules, v1DeviceWrites, type DeviceRule } from './devices';
import { goErrnoText } from '../util/go-errno';
import { mountTable } from '../util/mounts';
import { CgroupApplyError, cpuQuota, memswLimit, type CpusetInfo, type Limits } from './limits';
import { blkioV1, keyValues, single, type CgroupStats } from './stats';

const CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'pids', 'freezer', 'blkio', 'cpuset', 'devices'] as const;
const CPUSET_LISTS = ['cpuset.cpus', 'cpuset.mems'];

export class CgroupV1 implements CgroupDriver {
  readonly version = 1;
  private layout: CgroupfsSpec | null = null;
  constructor(
    private readonly mount: string,
    private readonly parent: string,
    private readonly rt: DaemonRealtime = { period: 0, runtime: 0 },
  ) {}

  private dir(controller: string, id: string): string {
    return `${this.mount}/${controller}/${this.parent}/${id}`;
  }

  async create(id: string, limits: Limits, devices: readonly DeviceRule[]): Promise<string[]> {
    await Promise.all(CONTROLLERS.map((c) => mkdir(this.dir(c, id), { recursive: true })));
    try {
      await this.initRealtimeParents();
      // First, as runc's Apply does: a task already SCHED_RR could not join a cgroup without a runtime.
      await this.setRealtime(id, limits);
      await this.fillCpuset(id);
      this.writeDeviceRules(id, devices);
      for (const [c, file, value] of this.writes(id, limits, false)) await writeFile(`${this.dir(c, id)}/${file}`, value);
    } catch (e) {
      await this.remove(id);
      throw e;
    }
    return this.joinFiles(id);
  }

  async update(id: string, limits: Limits): Promise<void> {
    for (const [c, file, value] of this.writes(id, limits, true)) {
      try {
        await writeFile(`${this.dir(c, id)}/${file}`, value);
      } catch (e) {
        // The kernel refuses a limit below what the cgroup uses and cannot reclaim; runc's message.
        if ((e as NodeJS.ErrnoException).code === 'EBUSY' && file === 'memory.limit_in_bytes') {
          const read = (f: string) => readFile(`${this.dir('memory', id)}/${f}`, 'utf8').then((t) => t.trim(), () => '?');
          throw new Error(`unable to set memory limit to ${value} (current usage: ${await read('memory.usage_in_bytes')}, peak usage: ${await read('memory.max_usage_in_bytes')})`);
        }
        throw e;
      }
    }
  }

  /**
   * The kernel takes one rule a write: each file is opened once and written rule by rule, in
   * order (0.15 ms here for Docker's default set, against 2 ms for a writeFile each).
   */
  private writeDeviceRules(id: string, devices: readonly DeviceRule[]): void {
    const fds = new Map<string, number>();
    try {
      for (const [file, value] of v1DeviceWrites(resolveRules(devices))) {
        let fd = fds.get(file);
        if (fd === undefined) fds.set(file, (fd = openSync(`${this.dir('devices', id)}/${file}`, 'w')));
        writeSync(fd, value);
      }
    } finally {
      for (const fd of fds.values()) closeSync(fd);
    }
  }

  /**
   * dockerd's initCPURtController, at each start while the daemon has --cpu-rt-period or
   * --cpu-rt-runtime: every level of the parent, from the top, gets them (a child's real-time
   * runtime must fit in its parent's, and new cgroups have none).
   */
  private async initRealtimeParents(): Promise<void> {
    if (this.rt.period === 0 && this.rt.runtime === 0) return;
    let dir = `${this.mount}/cpu`;
    for (const part of this.parent.split('/').filter(Boolean)) {
      dir = `${dir}/${part}`;
      for (const [file, value] of [['cpu.rt_period_us', this.rt.period], ['cpu.rt_runtime_us', this.rt.runtime]] as const) {
        if (value === 0) continue;
        try {
          await writeFile(`${dir}/${file}`, String(value));
        } catch (e) {
          throw new Error(`unable to init CPU RT controller: ${(e as NodeJS.ErrnoException).syscall ?? 'write'} ${dir}/${file}: ${goErrnoText(e)}`);
        }
      }
    }
  }

  /**
   * runc's SetRtSched: the period first, unless the kernel refuses it (EINVAL) before the new
   * runtime is in, then tried again after it; its messages for a refusal.
   */
  private async setRealtime(id: string, limits: Limits): Promise<void> {
    const dir = this.dir('cpu', id);
    const write = async (file: string, value: number): Promise<void> => {
      try {
        await writeFile(`${dir}/${file}`, String(value));
      } catch (e) {
        throw Object.assign(new CgroupApplyError(`unable to apply cgroup configuration: failed to write "${value}": write ${dir}/${file}: ${goErrnoText(e)}`), { code: (e as NodeJS.ErrnoException).code });
      }
    };
    const { cpuRtPeriod: period = 0, cpuRtRuntime: runtime = 0 } = limits;
    let retryPeriod = false;
    if (period !== 0) {
      try {
        await write('cpu.rt_period_us', period);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EINVAL' || runtime === 0) throw e;
        retryPeriod = true;
      }
    }
    if (runtime !== 0) {
      await write('cpu.rt_runtime_us', runtime);
      if (retryPeriod) await write('cpu.rt_period_us', period);
    }
  }

  supportsCpuRealtime(): boolean {
    return existsSync(`${this.mount}/cpu/cpu.rt_period_us`);
  }

  /**
   * A new cpuset cgroup has no CPUs and no memory nodes, and no task can join it until it has:
   * each level below the root that has none gets its parent's, as runc fills them.
   */
  private async fillCpuset(id: string): Promise<void> {
    let dir = `${this.mount}/cpuset`;
    for (const part of [...this.parent.split('/').filter(Boolean), id]) {
      const child = `${dir}/${part}`;
      for (const file of CPUSET_LISTS) {
        if ((await readFile(`${child}/${file}`, 'utf8')).trim() === '') await writeFile(`${child}/${file}`, await readFile(`${dir}/${file}`, 'utf8'));
      }
      dir = child;
    }
  }

  /**
   * The memory limit and, where the kernel accounts swap, memory plus swap. The kernel keeps the
   * second at least the first at every write, so runc's order: memsw first when it grows past the
   * current limit (or goes unlimited), else the limit first.
   */
  private memoryWrites(id: string, limits: Limits): Array<[string, string, string]> {
    const memory: [string, string, string] = ['memory', 'memory.limit_in_bytes', String(limits.memory)];
    const swap = memswLimit(limits);
    const file = `${this.dir('memory', id)}/memory.memsw.limit_in_bytes`;
    if (swap === null || !existsSync(file)) return [memory];
    const memsw: [string, string, string] = ['memory', 'memory.memsw.limit_in_bytes', swap];
    const current = Number(readFileSync(`${this.dir('memory', id)}/memory.limit_in_bytes`, 'utf8'));
    return swap === '-1' || current < Number(swap) ? [memsw, memory] : [memory, memsw];
  }

  /** [controller, file, value] for the limits; an update also resets what is now unlimited. */
  private writes(id: string, limits: Limits, update: boolean): Array<[string, string, string]> {
    const writes: Array<[string, string, string]> = [];
    if (limits.memory > 0) writes.push(...this.memoryWrites(id, limits));
    if (limits.memoryReservation) writes.push(['memory', 'memory.soft_limit_in_bytes', String(limits.memoryReservation)]);
    const q = cpuQuota(limits);
    if (q) writes.push(['cpu', 'cpu.cfs_period_us', String(q.period)], ['cpu', 'cpu.cfs_quota_us', String(q.quota)]);
    if (limits.cpuShares > 0) writes.push(['cpu', 'cpu.shares', String(limits.cpuShares)]);
    if (limits.pidsLimit > 0) writes.push(['pids', 'pids.max', String(limits.pidsLimit)]);
    else if (update) writes.push(['pids', 'pids.max', 'max']);
    if (limits.blkioWeight && existsSync(`${this.dir('blkio', id)}/blkio.weight`)) writes.push(['blkio', 'blkio.weight', String(limits.blkioWeight)]);
    // No cpuset is all the parent's, filled in at create; an update of none leaves the lists as they are.
    if (limits.cpusetCpus) writes.push(['cpuset', 'cpuset.cpus', limits.cpusetCpus]);
    if (limits.cpusetMems) writes.push(['cpuset', 'cpuset.mems', limits.cpusetMems]);
    return writes;
  }

  supportsBlkioWeight(): boolean {
    return existsSync(`${this.mount}/blkio/blkio.weight`);
  }

  cpusetInfo(): CpusetInfo | null {
    try {
      const [cpus, mems] = CPUSET_LISTS.map((f) => readFileSync(`${this.mount}/cpuset/${f}`, 'utf8').trim());
      return { cpus, mems };
    } catch {
      return null;
    }
  }

  procs(id: string): string[] {
    return CONTROLLERS.map((c) => `${this.dir(c, id)}/cgroup.procs`);
  }

  joinFiles(id: string): string[] {
    return CONTROLLERS.map((c) => `${this.dir(c, id)}/tasks`);
  }

  /** Only the init's main thread joined (through `tasks`): it alone goes back, the same way. */
  reclaim(pid: number): Promise<void> {
    return moveTo(
      CONTROLLERS.map((c) => ownCgroupFile(`${this.mount}/${c}`, c, 'tasks')),
      pid,
    );
  }

  async remove(id: string): Promise<void> {
    await killAll(this.procs(id));
    await Promise.all(CONTROLLERS.map((c) => rmdirIfPresent(this.dir(c, id))));
  }

  async oomKilled(id: string): Promise<boolean> {
    const text = await readFile(`${this.dir('memory', id)}/memory.oom_control`, 'utf8').catch(() => '');
    return Number(/^oom_kill (\d+)/m.exec(text)?.[1] ?? 0) > 0;
  }

  async removeParent(): Promise<void> {
    await Promise.all(CONTROLLERS.map((c) => rmdirIfPresent(`${this.mount}/${c}/${this.parent}`, false).catch(() => undefined)));
  }

  /** The host's hierarchies that hold a controller containers join, and the links to them. */
  cgroupfs(): CgroupfsSpec {
    if (this.layout) return this.layout;
    const subsystems = new Set(CONTROLLERS as readonly string[]);
    const hierarchies: Array<{ name: string; options: string }> = [];
    for (const { point, fstype, superOptions } of mountTable()) {
      if (fstype !== 'cgroup' || point.slice(0, point.lastIndexOf('/')) !== this.mount) continue;
      const controllers = superOptions.filter((o) => subsystems.has(o));
      if (controllers.length) hierarchies.push({ name: point.slice(point.lastIndexOf('/') + 1), options: controllers.join(',') });
    }
    const names = new Set(hierarchies.map((h) => h.name));
    const links = readdirSync(this.mount, { withFileTypes: true })
      .filter((e) => e.isSymbolicLink())
      .map((e) => ({ name: e.name, target: readlinkSync(`${this.mount}/${e.name}`) }))
      .filter((l) => names.has(l.target));
    this.layout = { version: 1, hierarchies, links };
    return this.layout;
  }

  memoryLimitFile(id: string): string {
    return `${this.dir('memory', id)}/memory.limit_in_bytes`;
  }

  async freeze(id: string, frozen: boolean): Promise<void> {
    const want = frozen ? 'FROZEN' : 'THAWED';
    const file = `${this.dir('freezer', id)}/freezer.state`;
    // The kernel may report FREEZING for a while; writing again nudges it, as runc does.
    for (let i = 0; i < 1000; i++) {
      await writeFile(file, want);
      if ((await readFile(file, 'utf8')).trim() === want) return;
      await new Promise((r) => setTimeout(r, 1));
    }
    throw new Error(`cgroup ${id} did not reach ${want}`);
  }

  async pids(id: string): Promise<number[]> {
    return parsePids(await readFile(`${this.dir('pids', id)}/cgroup.procs`, 'utf8'));
  }

  async stats(id: string): Promise<CgroupStats> {
    const read = (c: string, f: string): Promise<string> => readFile(`${this.dir(c, id)}/${f}`, 'utf8').catch(() => '');
    const [usage, perCpu, acct, cpuStat, memUsage, memMax, memFail, memLimit, memStat, pidsCur, pidsMax, blkBytes, blkOps] = await Promise.all([
      read('cpuacct', 'cpuacct.usage'),
      read('cpuacct', 'cpuacct.usage_percpu'),
      read('cpuacct', 'cpuacct.stat'),
      read('cpu', 'cpu.stat'),
      read('memory', 'memory.usage_in_bytes'),
      read('memory', 'memory.max_usage_in_bytes'),
      read('memory', 'memory.failcnt'),
      read('memory', 'memory.limit_in_bytes'),
      read('memory', 'memory.stat'),
      read('pids', 'pids.current'),
      read('pids', 'pids.max'),
      read('blkio', 'blkio.throttle.io_service_bytes_recursive'),
      read('blkio', 'blkio.throttle.io_serviced_recursive'),
    ]);
    // cpuacct.stat counts in USER_HZ ticks (100 a second on Linux), as libcontainer converts them.
    const ticks = keyValues(acct);
    const cs = keyValues(cpuStat);
    return {
      cpu: {
        total: single(usage) ?? 0,
        perCpu: perCpu.trim().split(/\s+/).filter(Boolean).map(Number),
        user: (ticks.user ?? 0) * 1e7,
        system: (ticks.system ?? 0) * 1e7,
        periods: cs.nr_periods ?? 0,
        throttledPeriods: cs.nr_throttled ?? 0,
        throttledTime: cs.throttled_time ?? 0,
      },
      memory: { usage: single(memUsage) ?? 0, maxUsage: single(memMax), failcnt: single(memFail), limit: single(memLimit), stats: keyValues(memStat) },
      pids: { current: single(pidsCur) ?? 0, limit: single(pidsMax) },
      io: { bytes: blkioV1(blkBytes), ops: blkioV1(blkOps) },
    };
  }
}

export function parsePids(text: string): number[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map(Number);
}

/** SIGKILLs every process listed in the cgroup.procs files and waits until they are gone. */
export async function killAll(procsFiles: string[]): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const pids = new Set<number>();
    for (const f of procsFiles) {
      const text = await readFile(f, 'utf8').catch(() => '');
      for (const line of text.split('\n')) if (line.trim()) pids.add(Number(line));
    }
    if (pids.size === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * rmdir, retried while a container's cgroup is EBUSY: the kernel can take a moment to drop its last
 * exited task (runc retries too). A parent is busy while it has children: no retry for those.
 */
export async function rmdirIfPresent(dir: string, retryBusy = true): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || !retryBusy || attempt >= 100) throw e;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
