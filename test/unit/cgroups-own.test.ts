import { describe, expect, it } from 'vitest';
import { parseOwnCgroups } from '../../daemon/cgroups/own';

describe('parseOwnCgroups', () => {
  it('maps each v1 controller of a co-mounted hierarchy to its path, and skips named ones apart', () => {
    const own = parseOwnCgroups('12:cpu,cpuacct:/system.slice/berthd.service\n4:memory:/sandbox/1\n1:name=systemd:/init.scope\n0::/init.scope\n');
    expect(own.get('cpu')).toBe('/system.slice/berthd.service');
    expect(own.get('cpuacct')).toBe('/system.slice/berthd.service');
    expect(own.get('memory')).toBe('/sandbox/1');
    expect(own.get('name=systemd')).toBe('/init.scope');
    expect(own.get('')).toBe('/init.scope');
    expect(own.has('pids')).toBe(false);
  });

  it('reads the v2 line alone, and paths with colons whole', () => {
    const own = parseOwnCgroups('0::/user.slice/a:b.scope\n');
    expect([...own]).toEqual([['', '/user.slice/a:b.scope']]);
  });
});
