// Engine API streams as the client reads them: multiplexed attach/log frames and JSON
// progress messages.
import { describe, expect, it } from 'vitest';
import { FrameDemuxer, JSONStreamParser, StreamError, displayJSONMessage, encodeFrame } from '../../client/stream';
import { detachKeyBytes } from '../../client/attach';

describe('FrameDemuxer', () => {
  it('splits stdout and stderr frames packed into one chunk', () => {
    const d = new FrameDemuxer();
    const frames = d.push(Buffer.concat([encodeFrame('stdout', 'out\n'), encodeFrame('stderr', 'err\n')]));
    expect(frames.map((f) => [f.stream, f.payload.toString()])).toEqual([
      ['stdout', 'out\n'],
      ['stderr', 'err\n'],
    ]);
  });

  it('reassembles frames split across chunks, byte by byte', () => {
    const d = new FrameDemuxer();
    const all = Buffer.concat([encodeFrame('stdout', 'hello '), encodeFrame('stdout', 'world'), encodeFrame('stderr', '!')]);
    const seen: string[] = [];
    for (const b of all) for (const f of d.push(Buffer.from([b]))) seen.push(`${f.stream}:${f.payload.toString()}`);
    expect(seen).toEqual(['stdout:hello ', 'stdout:world', 'stderr:!']);
    expect(d.buffered).toBe(0);
  });

  it('writes the 8-byte header: stream type, three zero bytes, big-endian size', () => {
    const f = encodeFrame('stderr', Buffer.alloc(300, 'x'));
    expect([...f.subarray(0, 8)]).toEqual([2, 0, 0, 0, 0, 0, 1, 44]);
  });

  it('keeps an incomplete frame until the rest arrives and handles empty payloads', () => {
    const d = new FrameDemuxer();
    const f = encodeFrame('stdout', 'abcdef');
    expect(d.push(f.subarray(0, 10))).toEqual([]);
    expect(d.buffered).toBe(10);
    expect(d.push(f.subarray(10)).map((x) => x.payload.toString())).toEqual(['abcdef']);
    expect(d.push(encodeFrame('stdout', '')).map((x) => x.payload.length)).toEqual([0]);
  });

  it('rejects an unknown stream type', () => {
    expect(() => new FrameDemuxer().push(Buffer.from([9, 0, 0, 0, 0, 0, 0, 0]))).toThrow(StreamError);
  });
});

describe('JSON message display (non-terminal)', () => {
  it('prints id and status lines and drops progress bars', () => {
    expect(displayJSONMessage({ status: 'Pulling from library/busybox', id: 'latest' })).toBe('latest: Pulling from library/busybox\n');
    expect(displayJSONMessage({ status: 'Pulling fs layer', progressDetail: {}, id: 'abc' })).toBe('abc: Pulling fs layer\n');
    expect(displayJSONMessage({ status: 'Downloading', progressDetail: { current: 10, total: 100 }, progress: '[=>  ]', id: 'abc' })).toBeUndefined();
    expect(displayJSONMessage({ status: 'Digest: sha256:abc' })).toBe('Digest: sha256:abc\n');
    expect(displayJSONMessage({ stream: 'Loaded image: busybox:latest\n' })).toBe('Loaded image: busybox:latest\n');
    expect(displayJSONMessage({ aux: { ID: 'sha256:x' } })).toBeUndefined();
  });

  it('turns an error message into an error', () => {
    expect(() => displayJSONMessage({ errorDetail: { message: 'pull access denied' }, error: 'pull access denied' })).toThrow('pull access denied');
  });

  it('parses concatenated JSON values across chunk boundaries', () => {
    const p = new JSONStreamParser();
    expect(p.push('{"status":"a"}\r\n{"sta')).toEqual([{ status: 'a' }]);
    expect(p.push('tus":"b}"}{"x":[1,{"y":2}]}\n')).toEqual([{ status: 'b}' }, { x: [1, { y: 2 }] }]);
    expect(p.rest()).toBe('');
  });
});

describe('detach keys', () => {
  it('parses the docker CLI key syntax', () => {
    expect(detachKeyBytes(undefined)).toEqual([16, 17]);
    expect(detachKeyBytes('ctrl-a,x')).toEqual([1, 120]);
    expect(detachKeyBytes('ctrl-@,ctrl-[')).toEqual([0, 27]);
    expect(() => detachKeyBytes('bogus')).toThrow("Unknown character: 'bogus'");
  });
});
