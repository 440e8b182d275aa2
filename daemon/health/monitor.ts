// The health monitor, as dockerd's: while a container with a health check runs (and is not paused)
// its probe runs every interval; results go to State.Health and a change of status is an event.
// It follows the containers through their events, so the lifecycle code needs no hooks for it.
import { readFileSync } from 'fs';
import type { Logger } from 'pino';
import type { ExecManager } from '../containers/exec';
import type { ContainerRecord } from '../containers/record';
import type { EventBus, EventMessage } from '../events/bus';
import { containerEvent } from '../events/container';
import { MAX_LOG_ENTRIES, probeOf, type HealthResult, type Probe } from './config';
import { runProbe } from './probe';

export interface HealthDeps {
  execs: ExecManager;
  bus: EventBus;
  log: Logger;
  find(id: string): ContainerRecord | undefined;
  save(c: ContainerRecord): void;
}

interface Running {
  stop: AbortController;
  timer?: NodeJS.Timeout;
}

export class HealthMonitor {
  private readonly monitors = new Map<string, Running>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly deps: HealthDeps,
    containers: ContainerRecord[],
  ) {
    // Containers die with the daemon: a health state left by one that stopped without its die is over.
    for (const c of containers) {
      if (!c.State.Running && c.State.Health && c.State.Health.Status !== 'unhealthy') {
        c.State.Health.Status = 'unhealthy';
        deps.save(c);
      }
    }
    this.unsubscribe = deps.bus.subscribe((msg) => this.onEvent(msg));
  }

  /** Daemon shutdown: no probe is scheduled after this. */
  close(): void {
    this.unsubscribe();
    for (const id of [...this.monitors.keys()]) this.halt(id);
  }

  private onEvent(msg: EventMessage): void {
    if (msg.Type !== 'container') return;
    const id = msg.Actor.ID;
    if (msg.Action === 'start') this.begin(id);
    else if (msg.Action === 'unpause') this.resume(id);
    else if (msg.Action === 'pause' || msg.Action === 'die' || msg.Action === 'destroy') this.halt(id);
  }

  /** A (re)start: the status goes back to starting, the log stays. */
  private begin(id: string): void {
    const c = this.deps.find(id);
    const probe = probeOf(c?.Config.Healthcheck);
    if (!c || !probe) return;
    this.halt(id);
    c.State.Health = { Status: 'starting', FailingStreak: 0, Log: c.State.Health?.Log ?? [] };
    this.run(c, probe);
  }

  private resume(id: string): void {
    const c = this.deps.find(id);
    const probe = probeOf(c?.Config.Healthcheck);
    if (!c || !probe || !c.State.Health || !c.State.Running || c.State.Paused || this.monitors.has(id)) return;
    this.run(c, probe);
  }

  /** Stops the probes; as in dockerd the status reads unhealthy once the monitor has stopped. */
  private halt(id: string): void {
    const m = this.monitors.get(id);
    if (!m) return;
    this.monitors.delete(id);
    clearTimeout(m.timer);
    m.stop.abort();
    const c = this.deps.find(id);
    if (c?.State.Health) {
      c.State.Health.Status = 'unhealthy';
      this.deps.save(c);
    }
    this.deps.log.debug({ container: id }, 'health monitor stopped');
  }

  /** The first probe one interval after the start, each next one an interval after the last ended. */
  private run(c: ContainerRecord, probe: Probe): void {
    const m: Running = { stop: new AbortController() };
    this.monitors.set(c.Id, m);
    const schedule = (): void => {
      m.timer = setTimeout(() => {
        const cur = this.deps.find(c.Id);
        if (!cur) return;
        runProbe(this.deps.execs, cur, probe, m.stop.signal)
          .then((result) => {
            if (m.stop.signal.aborted) return;
            // A probe the container's end killed is not a result: its die event is on the way.
            if (result.ExitCode === 0 || initAlive(cur.State.Pid)) this.record(cur, probe, result);
            schedule();
          })
          .catch((e: Error) => this.deps.log.error({ container: c.Id, err: e.message }, 'health probe failed'));
      }, probe.intervalMs);
    };
    schedule();
    this.deps.log.debug({ container: c.Id, cmd: probe.cmd, intervalMs: probe.intervalMs }, 'health monitor started');
  }

  private record(c: ContainerRecord, probe: Probe, result: HealthResult): void {
    const h = c.State.Health;
    if (!h) return;
    const old = h.Status;
    h.Log = [...h.Log, result].slice(-MAX_LOG_ENTRIES);
    if (result.ExitCode === 0) {
      h.FailingStreak = 0;
      h.Status = 'healthy';
    } else {
      // Failures in the start period do not count until the first success.
      const inStartPeriod = h.Status === 'starting' && Date.parse(result.Start) - Date.parse(c.State.StartedAt) < probe.startPeriodMs;
      if (!inStartPeriod) {
        h.FailingStreak++;
        if (h.FailingStreak >= probe.retries) h.Status = 'unhealthy';
      }
    }
    this.deps.log.debug({ container: c.Id, exitCode: result.ExitCode, status: h.Status, failingStreak: h.FailingStreak }, 'health probe done');
    if (h.Status !== old) {
      this.deps.log.info({ container: c.Id, status: h.Status }, 'health status changed');
      containerEvent(this.deps.bus, c, `health_status: ${h.Status}`);
    }
  }
}

const PF_EXITING = 0x4;

/**
 * Whether the container's PID 1 still runs: not gone, not a zombie, and not exiting. A dying PID 1 kills
 * the rest of its namespace (the probe too) before it turns zombie, and PF_EXITING is set before that.
 */
function initAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the command's name: state ppid pgrp session tty_nr tpgid flags ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] !== 'Z' && fields[0] !== 'X' && (Number(fields[6]) & PF_EXITING) === 0;
  } catch {
    return false;
  }
}
