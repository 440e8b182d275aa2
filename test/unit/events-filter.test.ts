import { describe, expect, it } from 'vitest';
import type { EventMessage } from '../../daemon/events/bus';
import { eventMatches, parseEventTime, validateEventFilters } from '../../daemon/events/filter';

const ev = (over: Partial<EventMessage> = {}): EventMessage => ({
  Type: 'container',
  Action: 'start',
  Actor: { ID: 'abc123', Attributes: { name: 'web', image: 'busybox:latest', team: 'blue' } },
  scope: 'local',
  time: 1,
  timeNano: 1e9,
  ...over,
});

describe('events filter', () => {
  it('parses the CLI timestamps into nanoseconds', () => {
    expect(parseEventTime('1700000000.5', 'since')).toBe(1700000000500000000n);
    expect(parseEventTime('12', 'since')).toBe(12000000000n);
    expect(parseEventTime(undefined, 'since')).toBeUndefined();
    expect(() => parseEventTime('soon', 'until')).toThrow('invalid value for until: soon');
  });

  it('matches container by ID prefix or name, image with or without the tag, labels all', () => {
    expect(eventMatches(ev(), { container: ['abc'] })).toBe(true);
    expect(eventMatches(ev(), { container: ['web'] })).toBe(true);
    expect(eventMatches(ev(), { container: ['db'] })).toBe(false);
    expect(eventMatches(ev(), { image: ['busybox'] })).toBe(true);
    expect(eventMatches(ev(), { image: ['busy'] })).toBe(false);
    expect(eventMatches(ev(), { label: ['team=blue', 'team'] })).toBe(true);
    expect(eventMatches(ev(), { label: ['team=blue', 'x'] })).toBe(false);
    expect(eventMatches(ev(), { type: ['image'] })).toBe(false);
    expect(eventMatches(ev({ Action: 'exec_start: sh -c x' }), { event: ['exec_start'] })).toBe(true);
    expect(eventMatches(ev({ Action: 'exec_start: sh -c x' }), { event: ['start'] })).toBe(false);
  });

  it('refuses unknown filter keys and types', () => {
    expect(() => validateEventFilters({ colour: ['red'] })).toThrow("invalid filter 'colour'");
    expect(() => validateEventFilters({ type: ['car'] })).toThrow("invalid filter 'type=car'");
  });
});
