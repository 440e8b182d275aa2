import { describe, expect, it } from 'vitest';
import { blkioV1, ioStatV2, keyValues, single } from '../../daemon/cgroups/stats';
import { parseNetDev, parseProcStat } from '../../daemon/containers/stats';
import { parsePsOutput, validatePsArgs } from '../../daemon/containers/top';
import { parseGoDuration, parseTimestamp } from '../../daemon/util/timestamps';

describe('cgroup counters', () => {
  it('parses key/value files, single values and max', () => {
    expect(keyValues('usage_usec 10\nuser_usec 4\n')).toEqual({ usage_usec: 10, user_usec: 4 });
    expect(single('max\n')).toBeUndefined();
    expect(single('42\n')).toBe(42);
  });

  it('parses v1 blkio without Total lines and v2 io.stat into read/write', () => {
    expect(blkioV1('8:0 Read 10\n8:0 Write 20\n8:0 Total 30\nTotal 30\n')).toEqual([
      { major: 8, minor: 0, op: 'Read', value: 10 },
      { major: 8, minor: 0, op: 'Write', value: 20 },
      { major: 8, minor: 0, op: 'Total', value: 30 },
    ]);
    expect(ioStatV2('254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n')).toEqual({
      bytes: [
        { major: 254, minor: 0, op: 'read', value: 4096 },
        { major: 254, minor: 0, op: 'write', value: 8192 },
      ],
      ops: [
        { major: 254, minor: 0, op: 'read', value: 1 },
        { major: 254, minor: 0, op: 'write', value: 2 },
      ],
    });
  });

  it('reads host CPU time from /proc/stat and interfaces from net/dev, without lo', () => {
    expect(parseProcStat('cpu  100 0 50 1000 10 0 5 7 0 0\ncpu0 50 0 25 500 5 0 2 3 0 0\ncpu1 50 0 25 500 5 0 3 4 0 0\nintr 1\n')).toEqual({ systemCpu: 11650000000, onlineCpus: 2 });
    const dev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0
  eth0:    1296      12    1    2    0     0          0         0      726       9    3    4    0     0       0          0
`;
    expect(parseNetDev(dev)).toEqual({ eth0: { rx_bytes: 1296, rx_packets: 12, rx_errors: 1, rx_dropped: 2, tx_bytes: 726, tx_packets: 9, tx_errors: 3, tx_dropped: 4 } });
  });
});

describe('top', () => {
  const out = 'UID PID PPID C STIME TTY TIME CMD\nroot 10 1 0 07:00 ? 00:00:00 sleep 300 now\nroot 11 1 0 07:00 ? 00:00:00 other\n';
  it('keeps only the container PIDs and joins the command', () => {
    expect(parsePsOutput(out, new Set([10]))).toEqual({ Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], Processes: [['root', '10', '1', '0', '07:00', '?', '00:00:00', 'sleep 300 now']] });
  });
  it('keeps thread lines of kept processes and refuses output without PID', () => {
    const threads = 'PID TID CMD\n10 - sleep\n- 10 -\n11 - other\n- 11 -\n';
    expect(parsePsOutput(threads, new Set([10])).Processes).toEqual([['10', '-', 'sleep'], ['-', '10', '-']]);
    expect(() => parsePsOutput('USER CMD\nroot x\n', new Set())).toThrow("Couldn't find PID field in ps output");
    expect(() => validatePsArgs('-o user=PID')).toThrow('specifying "user=PID" is not allowed');
    expect(() => validatePsArgs('-o pid=PID')).not.toThrow();
  });
});

describe('timestamps', () => {
  it('parses Go durations, Unix seconds and RFC 3339', () => {
    expect(parseGoDuration('1h30m')).toBe(5400e3);
    expect(parseGoDuration('10x')).toBeUndefined();
    expect(parseTimestamp('10m', 1_000_000)).toBe(400_000);
    expect(parseTimestamp('1700000000.5')).toBe(1700000000500);
    expect(parseTimestamp('2024-01-01T00:00:00Z')).toBe(Date.UTC(2024, 0, 1));
    expect(() => parseTimestamp('yesterday')).toThrow('failed to parse value as time or duration: "yesterday"');
  });
});
