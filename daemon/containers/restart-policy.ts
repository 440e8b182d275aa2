// HostConfig.RestartPolicy: dockerd's validation, and the decision and backoff after each exit
// (the rules of moby's restartmanager: 100 ms doubling up to a minute, reset after 10 s of running).
import { badRequest } from '../server/errors';

export interface RestartPolicy {
  Name: string;
  MaximumRetryCount: number;
}

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
/** A run at least this long counts as healthy: the next restart waits the first delay again. */
const RESET_AFTER_MS = 10_000;

/** dockerd's checks of a policy at create and update (the name is checked by the daemon, not the CLI). */
export function validateRestartPolicy(p: RestartPolicy, autoRemove: boolean): void {
  if (autoRemove && !isNone(p)) throw badRequest("can't create 'AutoRemove' container with restart policy");
  switch (p.Name) {
    case 'always':
    case 'unless-stopped':
    case 'no':
      if (p.MaximumRetryCount !== 0) throw badRequest(`maximum retry count cannot be used with restart policy '${p.Name}'`);
      break;
    case 'on-failure':
      if (p.MaximumRetryCount < 0) throw badRequest('maximum retry count cannot be negative');
      break;
    case '':
      break;
    default:
      throw badRequest(`invalid restart policy '${p.Name}'`);
  }
}

export function isNone(p: RestartPolicy | undefined): boolean {
  return !p || p.Name === '' || p.Name === 'no';
}

/** Whether a policy brings the container back after an exit, given what the user did and how often it already came back. */
export function policyWantsRestart(p: RestartPolicy | undefined, exitCode: number, manuallyStopped: boolean, restartCount: number): boolean {
  if (!p) return false;
  switch (p.Name) {
    case 'always':
      return true;
    case 'unless-stopped':
      return !manuallyStopped;
    case 'on-failure':
      return exitCode !== 0 && (p.MaximumRetryCount === 0 || restartCount < p.MaximumRetryCount);
    default:
      return false;
  }
}

/** One container's restart state while the daemon runs: the backoff and whether the user cancelled it. */
export class RestartBackoff {
  private delay = 0;
  private cancelled = false;

  constructor(private count: number) {}

  /** The delay before the next restart in ms, or null when the container stays down. */
  next(p: RestartPolicy | undefined, exitCode: number, manuallyStopped: boolean, ranMs: number): number | null {
    if (isNone(p) || this.cancelled) return null;
    if (ranMs >= RESET_AFTER_MS) this.delay = 0;
    this.delay = this.delay === 0 ? FIRST_DELAY_MS : Math.min(this.delay * 2, MAX_DELAY_MS);
    if (!policyWantsRestart(p, exitCode, manuallyStopped, this.count)) return null;
    this.count++;
    return this.delay;
  }

  /** A stop or kill by the user: the next exit is final. */
  cancel(): void {
    this.cancelled = true;
  }
}
