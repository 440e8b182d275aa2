// Health check settings: the Config.Healthcheck a container is created with (checked as dockerd
// checks it, merged with the image's), the probe it describes and its timings with dockerd's defaults.
import type { HealthConfig } from '../images/config';
import { badRequest } from '../server/errors';

export type { HealthConfig };

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

/** One probe run as State.Health.Log shows it. */
export interface HealthResult {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

/** State.Health of a container whose health check runs (or ran). */
export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthResult[];
}

const MS = 1_000_000;
const MINIMUM_NS = MS;
export const DEFAULT_INTERVAL_NS = 30_000 * MS;
export const DEFAULT_TIMEOUT_NS = 30_000 * MS;
export const DEFAULT_RETRIES = 3;
/** Only so many results are kept in State.Health.Log. */
export const MAX_LOG_ENTRIES = 5;

type Json = Record<string, unknown>;

function duration(h: Json, key: string): number | undefined {
  const v = h[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw badRequest(`json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go struct field HealthConfig.Config.Healthcheck.${key} of type time.Duration`);
  }
  return v;
}

/**
 * The Healthcheck of a create body, checked with dockerd's messages (before the image's is merged
 * in, as dockerd does). StartInterval is dropped: it belongs to API 1.44, dockerd ignores it below.
 */
export function parseHealthcheck(v: unknown): HealthConfig | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go struct field Config.Healthcheck of type container.HealthConfig`);
  const h = v as Json;
  let test: string[] | undefined;
  if (h.Test !== undefined && h.Test !== null) {
    const t = typeof h.Test === 'string' ? [h.Test] : h.Test;
    if (!Array.isArray(t) || t.some((s) => typeof s !== 'string')) throw badRequest('json: cannot unmarshal Test of type []string');
    test = t as string[];
  }
  const retries = h.Retries;
  if (retries !== undefined && retries !== null && (typeof retries !== 'number' || !Number.isInteger(retries))) {
    throw badRequest(`json: cannot unmarshal ${typeof retries} into Go struct field HealthConfig.Config.Healthcheck.Retries of type int`);
  }
  const [interval, timeout, startPeriod] = (['Interval', 'Timeout', 'StartPeriod'] as const).map((key) => duration(h, key));
  // In dockerd's order: Interval, Timeout, Retries, StartPeriod.
  const atLeast = (ns: number | undefined, key: string): void => {
    if (ns !== undefined && ns !== 0 && ns < MINIMUM_NS) throw badRequest(`${key} in Healthcheck cannot be less than 1ms`);
  };
  atLeast(interval, 'Interval');
  atLeast(timeout, 'Timeout');
  if (typeof retries === 'number' && retries < 0) throw badRequest('Retries in Healthcheck cannot be negative');
  atLeast(startPeriod, 'StartPeriod');
  // Go's field order; zero values are omitted as Go's omitempty does.
  const out: HealthConfig = {};
  if (test?.length) out.Test = test;
  if (interval) out.Interval = interval;
  if (timeout) out.Timeout = timeout;
  if (startPeriod) out.StartPeriod = startPeriod;
  if (retries) out.Retries = retries as number;
  return out;
}

/** dockerd's merge: the container's settings win field by field; unset ones come from the image. */
export function mergeHealthcheck(user: HealthConfig | undefined, image: HealthConfig | null | undefined): HealthConfig | undefined {
  if (!image) return user;
  if (!user) return { ...image };
  return {
    ...(user.Test?.length || image.Test?.length ? { Test: user.Test?.length ? user.Test : image.Test } : {}),
    ...(user.Interval || image.Interval ? { Interval: user.Interval || image.Interval } : {}),
    ...(user.Timeout || image.Timeout ? { Timeout: user.Timeout || image.Timeout } : {}),
    ...(user.StartPeriod || image.StartPeriod ? { StartPeriod: user.StartPeriod || image.StartPeriod } : {}),
    ...(user.Retries || image.Retries ? { Retries: user.Retries || image.Retries } : {}),
  };
}

/** What the monitor runs: the command of a CMD or CMD-SHELL test; null for none, NONE or an unknown type. */
export interface Probe {
  cmd: string[];
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  retries: number;
}

export function probeOf(h: HealthConfig | undefined): Probe | null {
  const test = h?.Test;
  if (!h || !test?.length) return null;
  let cmd: string[];
  if (test[0] === 'CMD') cmd = test.slice(1);
  else if (test[0] === 'CMD-SHELL') cmd = ['/bin/sh', '-c', ...test.slice(1)];
  else return null;
  if (cmd.length === 0) return null;
  return {
    cmd,
    intervalMs: (h.Interval || DEFAULT_INTERVAL_NS) / MS,
    timeoutMs: (h.Timeout || DEFAULT_TIMEOUT_NS) / MS,
    startPeriodMs: (h.StartPeriod || 0) / MS,
    retries: h.Retries && h.Retries > 0 ? h.Retries : DEFAULT_RETRIES,
  };
}

/** Go's time.Duration.String() of a duration in milliseconds ("300ms", "30s", "1m30s", "1.5s"). */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${trim(ms)}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  if (h) return `${h}h${m}m${trim(s)}s`;
  if (m) return `${m}m${trim(s)}s`;
  return `${trim(s)}s`;
}

function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}
