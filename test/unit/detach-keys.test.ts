import { describe, expect, it } from 'vitest';
import { DetachScanner, parseDetachKeys } from '../../daemon/server/detach-keys';

describe('detach keys', () => {
  it('parses Docker key specs', () => {
    expect([...parseDetachKeys('ctrl-p,ctrl-q')]).toEqual([16, 17]);
    expect([...parseDetachKeys('ctrl-@,a,ctrl-[')]).toEqual([0, 97, 27]);
    expect(() => parseDetachKeys('ctrl-pp')).toThrow('Invalid detach keys (ctrl-pp) provided');
  });

  it('forwards input and stops at the sequence, across chunks', () => {
    const s = new DetachScanner(parseDetachKeys('ctrl-p,ctrl-q'));
    expect(s.feed(Buffer.from('ab\x10'))).toEqual({ forward: Buffer.from('ab'), detach: false });
    expect(s.feed(Buffer.from('\x11rest'))).toEqual({ forward: Buffer.alloc(0), detach: true });
  });

  it('releases a held prefix when the sequence breaks', () => {
    const s = new DetachScanner(parseDetachKeys('ctrl-p,ctrl-q'));
    expect(s.feed(Buffer.from('\x10x'))).toEqual({ forward: Buffer.from('\x10x'), detach: false });
    expect(s.feed(Buffer.from('\x10\x10\x11'))).toEqual({ forward: Buffer.from('\x10'), detach: true });
  });
});
