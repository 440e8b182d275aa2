import { describe, expect, it } from 'vitest';
import { parseMount } from '../../client/opts';

describe('--mount parsing (opts.MountOpt)', () => {
  it('builds the Mount objects the docker CLI sends', () => {
    expect(parseMount('type=bind,src=/a,dst=/b,readonly,bind-propagation=rshared')).toEqual({ Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true, BindOptions: { Propagation: 'rshared' } });
    expect(parseMount('target=/v,volume-nocopy,volume-opt=type=tmpfs,volume-label=a=b')).toEqual({
      Type: 'volume',
      Target: '/v',
      VolumeOptions: { NoCopy: true, Labels: { a: 'b' }, DriverConfig: { Options: { type: 'tmpfs' } } },
    });
    expect(parseMount('type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1770')).toEqual({ Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 * 2 ** 20, Mode: 0o1770 } });
    expect(parseMount('type=volume,target=/x,ro=false').ReadOnly).toBe(false);
  });

  it('refuses what the docker CLI refuses', () => {
    expect(() => parseMount('type=bind,src=/a')).toThrow('target is required');
    expect(() => parseMount('type=bind,target=/x,volume-nocopy')).toThrow("cannot mix 'volume-*' options with mount type 'bind'");
    expect(() => parseMount('target=/x,foo=bar')).toThrow("unexpected key 'foo' in 'foo=bar'");
    expect(() => parseMount('target=/x,source')).toThrow("invalid field 'source' must be a key=value pair");
    expect(() => parseMount('target=/x,readonly=maybe')).toThrow('invalid value for readonly: maybe');
  });
});
