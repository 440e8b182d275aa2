import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../daemon/config';
import { decodeUlimits, mergeUlimits, parseUlimit, toRlimits } from '../../daemon/containers/ulimits';

describe('parseUlimit (go-units)', () => {
  it('reads name=soft[:hard], hard defaulting to soft, -1 unlimited', () => {
    expect(parseUlimit('nofile=1024:2048')).toEqual({ Name: 'nofile', Soft: 1024, Hard: 2048 });
    expect(parseUlimit('nproc=50')).toEqual({ Name: 'nproc', Soft: 50, Hard: 50 });
    expect(parseUlimit('core=-1')).toEqual({ Name: 'core', Soft: -1, Hard: -1 });
    expect(parseUlimit('core=100:-1')).toEqual({ Name: 'core', Soft: 100, Hard: -1 });
  });

  it("refuses what go-units refuses, with its words", () => {
    expect(() => parseUlimit('nofile')).toThrow('invalid ulimit argument: nofile');
    expect(() => parseUlimit('as=1')).toThrow('invalid ulimit type: as');
    expect(() => parseUlimit('NOFILE=1')).toThrow('invalid ulimit type: NOFILE');
    expect(() => parseUlimit('nofile=2:1')).toThrow('ulimit soft limit must be less than or equal to hard limit: 2 > 1');
    expect(() => parseUlimit('nofile=-1:5')).toThrow('ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: 5');
    expect(() => parseUlimit('nofile=x')).toThrow('strconv.ParseInt: parsing "x": invalid syntax');
    expect(() => parseUlimit('nofile=1:99999999999999999999')).toThrow('strconv.ParseInt: parsing "99999999999999999999": value out of range');
  });
});

describe('mergeUlimits and toRlimits (moby, runc)', () => {
  const defaults = { nproc: { Name: 'nproc', Soft: 10, Hard: 20 }, nofile: { Name: 'nofile', Soft: 1, Hard: 2 } };

  it("puts the daemon's defaults after the container's own, which win by name; null for none", () => {
    expect(mergeUlimits([{ Name: 'nofile', Soft: 5, Hard: 6 }], defaults)).toEqual([
      { Name: 'nofile', Soft: 5, Hard: 6 },
      { Name: 'nproc', Soft: 10, Hard: 20 },
    ]);
    expect(mergeUlimits(null, {})).toBeNull();
    expect(mergeUlimits([], {})).toBeNull();
  });

  it("maps names as runc does (any case, RLIMIT_AS too) and refuses others with runc's words", () => {
    expect(toRlimits([{ Name: 'NoFile', Soft: 1, Hard: 2 }, { Name: 'as', Soft: -1, Hard: -1 }, { Name: 'cpu', Soft: 3, Hard: 4 }])).toEqual([
      { type: 7, soft: 1, hard: 2 },
      { type: 9, soft: -1, hard: -1 },
      { type: 0, soft: 3, hard: 4 },
    ]);
    expect(() => toRlimits([{ Name: 'bogus', Soft: 1, Hard: 1 }])).toThrow('wrong rlimit value: RLIMIT_BOGUS');
    expect(toRlimits(null)).toEqual([]);
  });

  it('decodes the API list with Go zero values and refuses other JSON types', () => {
    expect(decodeUlimits([{ Name: 'nofile', Soft: 3 }])).toEqual([{ Name: 'nofile', Soft: 3, Hard: 0 }]);
    expect(decodeUlimits(null)).toBeNull();
    expect(() => decodeUlimits({})).toThrow('json: cannot unmarshal object into Go struct field HostConfig.Ulimits of type []*units.Ulimit');
    expect(() => decodeUlimits([{ Name: 'nofile', Soft: '3' }])).toThrow('json: cannot unmarshal string into Go struct field Ulimit.HostConfig.Ulimits.Soft of type int64');
  });
});

describe('berthd --default-ulimit and "default-ulimits"', () => {
  const withFile = (content: unknown, argv: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-unit-'));
    try {
      const file = join(dir, 'daemon.json');
      writeFileSync(file, JSON.stringify(content));
      return parseConfig(['--config-file', file, ...argv]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('collects repeated flags by name (the last wins) and reads the file map', () => {
    expect(withFile({}, ['--default-ulimit', 'nofile=1:2', '--default-ulimit', 'nproc=3', '--default-ulimit', 'nofile=5:6']).defaultUlimits).toEqual({
      nofile: { Name: 'nofile', Soft: 5, Hard: 6 },
      nproc: { Name: 'nproc', Soft: 3, Hard: 3 },
    });
    expect(withFile({ 'default-ulimits': { nofile: { Name: 'nofile', Soft: 7 } } }, []).defaultUlimits).toEqual({ nofile: { Name: 'nofile', Soft: 7, Hard: 0 } });
  });

  it("refuses a bad flag, a bad file entry, and both together, with dockerd's words", () => {
    expect(() => withFile({}, ['--default-ulimit', 'nofile=3:2'])).toThrow('invalid argument "nofile=3:2" for "--default-ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 3 > 2');
    expect(() => withFile({ 'default-ulimits': { nofile: 'x' } }, [])).toThrow(/json: cannot unmarshal default-ulimits.nofile/);
    expect(() => withFile({ 'default-ulimits': { nofile: { Name: 'nofile', Soft: 1, Hard: 2 } } }, ['--default-ulimit', 'nproc=1'])).toThrow(
      'the following directives are specified both as a flag and in the configuration file: default-ulimits: (from flag: [nproc=1:1], from file: map[nofile:map[Hard:2 Name:nofile Soft:1]])',
    );
  });
});
