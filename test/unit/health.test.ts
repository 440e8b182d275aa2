import { describe, expect, it } from 'vitest';
import { buildContainer } from '../../daemon/containers/create';
import { statusText } from '../../daemon/containers/inspect';
import { listFilter } from '../../daemon/containers/list-filters';
import { goDuration, mergeHealthcheck, parseHealthcheck, probeOf } from '../../daemon/health/config';
import { LimitedOutput } from '../../daemon/health/probe';
import { ApiError } from '../../daemon/server/errors';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).statusCode).toBe(400);
    return (e as Error).message;
  }
  throw new Error('no error thrown');
}

describe('health check config', () => {
  it('checks durations and retries with dockerd messages, in dockerd order', () => {
    expect(message(() => parseHealthcheck({ Interval: 999_999 }))).toBe('Interval in Healthcheck cannot be less than 1ms');
    expect(message(() => parseHealthcheck({ Interval: -1, Timeout: 1 }))).toBe('Interval in Healthcheck cannot be less than 1ms');
    expect(message(() => parseHealthcheck({ Timeout: 5, Retries: -1 }))).toBe('Timeout in Healthcheck cannot be less than 1ms');
    expect(message(() => parseHealthcheck({ Retries: -1, StartPeriod: 1 }))).toBe('Retries in Healthcheck cannot be negative');
    expect(message(() => parseHealthcheck({ StartPeriod: 1 }))).toBe('StartPeriod in Healthcheck cannot be less than 1ms');
    expect(message(() => parseHealthcheck({ Interval: '1s' }))).toContain('json: cannot unmarshal string');
    expect(message(() => parseHealthcheck([]))).toContain('json: cannot unmarshal array');
  });

  it("keeps Go's field order and omits zero values; StartInterval (API 1.44) is dropped", () => {
    const h = parseHealthcheck({ Retries: 2, StartPeriod: 0, Timeout: 3e9, Interval: 1e9, StartInterval: 5e9, Test: ['CMD', 'x'] });
    expect(JSON.stringify(h)).toBe('{"Test":["CMD","x"],"Interval":1000000000,"Timeout":3000000000,"Retries":2}');
    expect(parseHealthcheck(null)).toBeUndefined();
    expect(parseHealthcheck({ Test: [] })).toEqual({});
  });

  it("merges the image's settings field by field, as dockerd", () => {
    const image = { Test: ['CMD-SHELL', 'true'], Interval: 2e8, Retries: 4 };
    expect(mergeHealthcheck(undefined, image)).toEqual(image);
    expect(mergeHealthcheck({ Test: ['CMD', 'false'] }, image)).toEqual({ Test: ['CMD', 'false'], Interval: 2e8, Retries: 4 });
    expect(mergeHealthcheck({ Test: ['NONE'] }, image)).toEqual({ Test: ['NONE'], Interval: 2e8, Retries: 4 });
    expect(mergeHealthcheck({ Timeout: 1e9 }, image)).toEqual({ Test: ['CMD-SHELL', 'true'], Interval: 2e8, Timeout: 1e9, Retries: 4 });
    expect(mergeHealthcheck({ Interval: 1e9 }, null)).toEqual({ Interval: 1e9 });
  });

  it('puts the merged check in the container config after Cmd', () => {
    const c = buildContainer({ Image: 'i', Cmd: ['sleep', '1'], Healthcheck: { Interval: 1e9 } }, 'n', { id: 'sha256:x', config: { Healthcheck: { Test: ['CMD', 'true'] } } });
    expect(c.Config.Healthcheck).toEqual({ Test: ['CMD', 'true'], Interval: 1e9 });
    const keys = Object.keys(c.Config);
    expect(keys.indexOf('Healthcheck')).toBe(keys.indexOf('Cmd') + 1);
    expect(buildContainer({ Image: 'i', Cmd: ['true'] }, 'm', { id: 'sha256:x', config: {} }).Config).not.toHaveProperty('Healthcheck');
  });

  it('turns a test into a probe with the defaults; NONE and unknown types are none', () => {
    expect(probeOf({ Test: ['CMD-SHELL', 'curl -f x || exit 1'] })).toEqual({ cmd: ['/bin/sh', '-c', 'curl -f x || exit 1'], intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, retries: 3 });
    expect(probeOf({ Test: ['CMD', 'check', '--fast'], Interval: 2e8, Timeout: 3e8, StartPeriod: 1e9, Retries: 1 })).toEqual({ cmd: ['check', '--fast'], intervalMs: 200, timeoutMs: 300, startPeriodMs: 1000, retries: 1 });
    expect(probeOf({ Test: ['NONE'] })).toBeNull();
    expect(probeOf({ Test: ['HTTP', 'x'] })).toBeNull();
    expect(probeOf({ Interval: 1e9 })).toBeNull();
    expect(probeOf(undefined)).toBeNull();
  });

  it("prints durations as Go's time.Duration does", () => {
    expect(goDuration(300)).toBe('300ms');
    expect(goDuration(30_000)).toBe('30s');
    expect(goDuration(1500)).toBe('1.5s');
    expect(goDuration(90_000)).toBe('1m30s');
    expect(goDuration(60_000)).toBe('1m0s');
    expect(goDuration(3_600_000)).toBe('1h0m0s');
  });

  it('keeps 4096 bytes of output and marks the cut with ...', () => {
    const out = new LimitedOutput();
    out.write(Buffer.alloc(4000, 'a'));
    out.write(Buffer.alloc(96, 'b'));
    expect(out.text()).toBe('a'.repeat(4000) + 'b'.repeat(96));
    out.write(Buffer.from('c'));
    expect(out.text()).toBe(`${'a'.repeat(4000)}${'b'.repeat(96)}...`);
  });
});

describe('health in ps', () => {
  const c = buildContainer({ Image: 'i', Cmd: ['sleep', '1'] }, 'n', { id: 'sha256:x', config: {} });
  const now = Date.parse('2026-01-01T00:00:10Z');
  c.State = { ...c.State, Status: 'running', Running: true, StartedAt: '2026-01-01T00:00:05.000000000Z' };

  it("shows the status after Up, as moby's State.String", () => {
    expect(statusText(c, now)).toBe('Up 5 seconds');
    c.State.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
    expect(statusText(c, now)).toBe('Up 5 seconds (health: starting)');
    c.State.Health.Status = 'unhealthy';
    expect(statusText(c, now)).toBe('Up 5 seconds (unhealthy)');
    c.State.Paused = true;
    expect(statusText(c, now)).toBe('Up 5 seconds (Paused)');
    c.State.Paused = false;
  });

  it('filters on health, none for containers without a check', () => {
    const plain = buildContainer({ Image: 'i', Cmd: ['true'] }, 'p', { id: 'sha256:x', config: {} });
    const ctx = { ordered: [c, plain], find: (r: string) => [c, plain].find((x) => x.Id === r)!, imageId: () => undefined };
    const pick = (v: string) => [c, plain].filter((x) => listFilter({ health: [v] }, ctx)(x, {})).map((x) => x.Name);
    c.State.Health = { Status: 'healthy', FailingStreak: 0, Log: [] };
    expect(pick('healthy')).toEqual(['/n']);
    expect(pick('none')).toEqual(['/p']);
    expect(pick('unhealthy')).toEqual([]);
  });
});
