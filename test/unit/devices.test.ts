// Device cgroup rules: moby's --device-cgroup-rule parse, the v1 kernel's reading of a rule list,
// the v1 writes, and the v2 eBPF program, run here by a small interpreter of the instructions it uses.
import { describe, expect, it } from 'vitest';
import { ACC_MKNOD, ACC_READ, ACC_WRITE, DEV_BLOCK, DEV_CHAR, deviceFilterProgram, OP } from '../../daemon/cgroups/device-filter';
import { ALLOW_ALL, DENY_ALL, parseCgroupRule, resolveRules, RUNC_DEFAULT_RULES, v1DeviceWrites, type DeviceAccess, type DeviceRule } from '../../daemon/cgroups/devices';

/** Runs a BPF_PROG_TYPE_CGROUP_DEVICE program on one request; throws on anything it does not know. */
function runFilter(prog: Buffer, type: number, access: number, major: number, minor: number): number {
  const ctx = [(access << 16) | type, major, minor];
  const r = new Array<number>(11).fill(0);
  r[1] = -1; // the context pointer: only loads from it are meaningful
  for (let pc = 0, steps = 0; steps < 10_000; steps++) {
    if (pc < 0 || pc * 8 >= prog.length) throw new Error(`pc ${pc} out of the program`);
    const code = prog.readUInt8(pc * 8);
    const dst = prog.readUInt8(pc * 8 + 1) & 0xf;
    const src = prog.readUInt8(pc * 8 + 1) >> 4;
    const off = prog.readInt16LE(pc * 8 + 2);
    const imm = prog.readInt32LE(pc * 8 + 4);
    pc++;
    switch (code) {
      case OP.LDXW:
        if (r[src] !== -1 || off % 4 !== 0 || off > 8) throw new Error(`bad load at ${pc - 1}`);
        r[dst] = ctx[off / 4] >>> 0;
        break;
      case OP.AND32_K:
        r[dst] = (r[dst] & imm) >>> 0;
        break;
      case OP.RSH32_K:
        r[dst] = r[dst] >>> imm;
        break;
      case OP.MOV32_X:
        r[dst] = r[src] >>> 0;
        break;
      case OP.MOV64_K:
        r[dst] = imm;
        break;
      case OP.JNE_K:
        if (r[dst] !== imm) pc += off;
        break;
      case OP.JNE_X:
        if (r[dst] !== r[src]) pc += off;
        break;
      case OP.EXIT:
        return r[0];
      default:
        throw new Error(`unknown opcode 0x${code.toString(16)} at ${pc - 1}`);
    }
  }
  throw new Error('no exit');
}

const rule = (type: DeviceRule['type'], major: number, minor: number, access: string, allow = true): DeviceRule => ({ type, major, minor, access, allow });
const ACCESS: Record<string, number> = { r: ACC_READ, w: ACC_WRITE, m: ACC_MKNOD };
/** The v1 kernel's decision for the resolved rules: the default unless one exception covers the whole access. */
function v1Decides(a: DeviceAccess, type: 'b' | 'c', major: number, minor: number, access: string): boolean {
  const hit = a.exceptions.find((e) => e.type === type && (e.major < 0 || e.major === major) && (e.minor < 0 || e.minor === minor) && [...access].every((c) => e.access.includes(c)));
  return hit ? hit.allow : a.defaultAllow;
}
const bits = (access: string): number => [...access].reduce((n, c) => n | ACCESS[c], 0);

describe('parseCgroupRule', () => {
  it("reads moby's form, with * for any number", () => {
    expect(parseCgroupRule('c 42:* rmw')).toEqual(rule('c', 42, -1, 'rmw'));
    expect(parseCgroupRule('b *:7 r')).toEqual(rule('b', -1, 7, 'r'));
    expect(parseCgroupRule('a *:* rwm')).toEqual(rule('a', -1, -1, 'rwm'));
    expect(parseCgroupRule('a')).toEqual(rule('a', -1, -1, 'rwm'));
  });

  it('refuses what the regular expression does not match', () => {
    for (const bad of ['', 'c 1:3', 'x 1:3 rwm', 'c 1:3 rwx', 'c  1:3 rwm', ' c 1:3 rwm', 'c 1:3 rwm ', 'c 1:3 rwmr', 'c -1:3 r', 'c 1 r', 'c 99999999999999999999:1 r']) {
      expect(parseCgroupRule(bad), bad).toBeNull();
    }
  });
});

describe('resolveRules and the v1 writes', () => {
  it("makes Docker's default: deny all, then runc's allowed devices", () => {
    const a = resolveRules([DENY_ALL, ...RUNC_DEFAULT_RULES]);
    expect(a.defaultAllow).toBe(false);
    expect(a.exceptions).toHaveLength(RUNC_DEFAULT_RULES.length);
    expect(v1DeviceWrites(a).slice(0, 4)).toEqual([
      ['devices.deny', 'a'],
      ['devices.allow', 'c *:* m'],
      ['devices.allow', 'b *:* m'],
      ['devices.allow', 'c 1:3 rwm'],
    ]);
  });

  it('resets on a rule of type a and merges the access of the same device', () => {
    expect(resolveRules([DENY_ALL, rule('c', 1, 3, 'r'), ALLOW_ALL, rule('c', 1, 3, 'r')])).toEqual({ defaultAllow: true, exceptions: [] });
    expect(v1DeviceWrites(resolveRules([DENY_ALL, ALLOW_ALL, ...RUNC_DEFAULT_RULES]))).toEqual([['devices.allow', 'a']]);
    expect(resolveRules([DENY_ALL, rule('c', 1, 3, 'r'), rule('c', 1, 3, 'mw')]).exceptions).toEqual([rule('c', 1, 3, 'rwm')]);
    // Toward the default again: a deny narrows an allow exception, and removes it once empty.
    expect(resolveRules([DENY_ALL, rule('c', 1, 3, 'rw'), rule('c', 1, 3, 'w', false)]).exceptions).toEqual([rule('c', 1, 3, 'r')]);
    expect(resolveRules([DENY_ALL, rule('c', 1, 3, 'r'), rule('c', 1, 3, 'r', false)]).exceptions).toEqual([]);
  });
});

describe('the v2 device filter program', () => {
  const requests: Array<['b' | 'c', number, number]> = [
    ['c', 1, 3],
    ['c', 1, 5],
    ['c', 1, 4],
    ['c', 5, 2],
    ['c', 136, 7],
    ['c', 10, 200],
    ['c', 10, 237],
    ['c', 42, 0],
    ['c', 42, 9],
    ['b', 7, 0],
    ['b', 8, 1],
    ['b', 1, 3],
  ];
  const accesses = ['r', 'w', 'm', 'rw', 'rm', 'wm', 'rwm'];
  const cases: Array<[string, DeviceRule[]]> = [
    ['the default set', [DENY_ALL, ...RUNC_DEFAULT_RULES]],
    ['--device-cgroup-rule c 42:* rm', [DENY_ALL, rule('c', 42, -1, 'rm'), ...RUNC_DEFAULT_RULES]],
    ['--device /dev/loop0 with r', [DENY_ALL, rule('b', 7, 0, 'r'), ...RUNC_DEFAULT_RULES]],
    ['privileged', [DENY_ALL, ALLOW_ALL, ...RUNC_DEFAULT_RULES]],
  ];

  for (const [name, rules] of cases) {
    it(`decides as the v1 kernel would: ${name}`, () => {
      const a = resolveRules(rules);
      const prog = deviceFilterProgram(a);
      for (const [type, major, minor] of requests) {
        for (const access of accesses) {
          const want = v1Decides(a, type, major, minor, access) ? 1 : 0;
          expect(runFilter(prog, type === 'b' ? DEV_BLOCK : DEV_CHAR, bits(access), major, minor), `${type} ${major}:${minor} ${access}`).toBe(want);
        }
      }
    });
  }

  it('refuses a block device open and allows /dev/null under the default set (fixed expectations)', () => {
    const prog = deviceFilterProgram(resolveRules([DENY_ALL, ...RUNC_DEFAULT_RULES]));
    expect(runFilter(prog, DEV_BLOCK, ACC_READ, 7, 0)).toBe(0);
    expect(runFilter(prog, DEV_BLOCK, ACC_MKNOD, 7, 0)).toBe(1);
    expect(runFilter(prog, DEV_CHAR, ACC_READ | ACC_WRITE, 1, 3)).toBe(1);
    expect(runFilter(prog, DEV_CHAR, ACC_READ | ACC_WRITE, 136, 12345)).toBe(1);
    expect(runFilter(prog, DEV_CHAR, ACC_READ, 1, 4)).toBe(0);
  });

  it('encodes 8 bytes an instruction and ends in an exit', () => {
    const prog = deviceFilterProgram(resolveRules([DENY_ALL]));
    // Prologue (6), mov r0 0, exit.
    expect(prog.length).toBe(8 * 8);
    expect(prog.readUInt8(prog.length - 8)).toBe(OP.EXIT);
    expect(prog.readInt32LE(prog.length - 12)).toBe(0);
  });
});
