import { describe, expect, it } from 'vitest';
import { policyWantsRestart, RestartBackoff, validateRestartPolicy } from '../../daemon/containers/restart-policy';

const p = (Name: string, MaximumRetryCount = 0) => ({ Name, MaximumRetryCount });

describe('validateRestartPolicy (dockerd 24 messages)', () => {
  it.each([
    [p('foo'), false, "invalid restart policy 'foo'"],
    [p('always', 3), false, "maximum retry count cannot be used with restart policy 'always'"],
    [p('no', 1), false, "maximum retry count cannot be used with restart policy 'no'"],
    [p('on-failure', -1), false, 'maximum retry count cannot be negative'],
    [p('always'), true, "can't create 'AutoRemove' container with restart policy"],
    // The AutoRemove check comes first, as in dockerd.
    [p('foo'), true, "can't create 'AutoRemove' container with restart policy"],
  ])('%j (AutoRemove %s): %s', (policy, autoRemove, message) => {
    expect(() => validateRestartPolicy(policy, autoRemove)).toThrow(message);
  });

  it.each([p(''), p('no'), p('always'), p('unless-stopped'), p('on-failure'), p('on-failure', 5)])('accepts %j', (policy) => {
    expect(() => validateRestartPolicy(policy, false)).not.toThrow();
  });
  it('accepts no policy with AutoRemove', () => expect(() => validateRestartPolicy(p('no'), true)).not.toThrow());
});

describe('policyWantsRestart', () => {
  it('follows each policy', () => {
    expect(policyWantsRestart(p('always'), 0, true, 9)).toBe(true);
    expect(policyWantsRestart(p('unless-stopped'), 0, false, 0)).toBe(true);
    expect(policyWantsRestart(p('unless-stopped'), 1, true, 0)).toBe(false);
    expect(policyWantsRestart(p('on-failure'), 0, false, 0)).toBe(false);
    expect(policyWantsRestart(p('on-failure'), 2, false, 100)).toBe(true);
    expect(policyWantsRestart(p('on-failure', 2), 2, false, 1)).toBe(true);
    expect(policyWantsRestart(p('on-failure', 2), 2, false, 2)).toBe(false);
    expect(policyWantsRestart(p('no'), 1, false, 0)).toBe(false);
    expect(policyWantsRestart(undefined, 1, false, 0)).toBe(false);
  });
});

describe('RestartBackoff (moby restartmanager)', () => {
  it('doubles from 100 ms up to a minute and starts over after a 10 s run', () => {
    const b = new RestartBackoff(0);
    const delays = Array.from({ length: 12 }, () => b.next(p('always'), 1, false, 50));
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
    expect(b.next(p('always'), 1, false, 10_000)).toBe(100);
    expect(b.next(p('always'), 1, false, 9_999)).toBe(200);
  });

  it('counts from the restarts already made and stops at the maximum', () => {
    const b = new RestartBackoff(1);
    expect(b.next(p('on-failure', 2), 3, false, 0)).toBe(100);
    expect(b.next(p('on-failure', 2), 3, false, 0)).toBeNull();
  });

  it('gives up for good once cancelled, and never for no policy', () => {
    const b = new RestartBackoff(0);
    b.cancel();
    expect(b.next(p('always'), 0, false, 0)).toBeNull();
    expect(new RestartBackoff(0).next(p('no'), 1, false, 0)).toBeNull();
  });
});
