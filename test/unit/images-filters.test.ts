// The reference filter's glob, as Go's path.Match reads it.
import { describe, expect, it } from 'vitest';
import { globRegExp } from '../../daemon/images/filters';

describe('globRegExp', () => {
  it('matches names with dashes, dots and slashes literally', () => {
    expect(globRegExp('my-repo').test('my-repo')).toBe(true);
    expect(globRegExp('my-repo').test('myxrepo')).toBe(false);
    expect(globRegExp('reg.local/a-b:1.0').test('reg.local/a-b:1.0')).toBe(true);
    expect(globRegExp('reg.local/a-b:1.0').test('regxlocal/a-b:1x0')).toBe(false);
  });

  it('keeps * and ? within one path element', () => {
    expect(globRegExp('lib/*').test('lib/busy-box')).toBe(true);
    expect(globRegExp('*').test('lib/busybox')).toBe(false);
    expect(globRegExp('b?sybox').test('busybox')).toBe(true);
  });

  it('reads classes with ranges, negation and an escaped dash', () => {
    expect(globRegExp('v[0-9]').test('v7')).toBe(true);
    expect(globRegExp('v[^0-9]').test('v7')).toBe(false);
    expect(globRegExp('a[\\-x]b').test('a-b')).toBe(true);
    expect(globRegExp('a[\\-x]b').test('ayb')).toBe(false);
  });

  it('refuses a malformed pattern', () => {
    expect(() => globRegExp('a[')).toThrow('syntax error in pattern');
    expect(() => globRegExp('a\\')).toThrow('syntax error in pattern');
  });
});
