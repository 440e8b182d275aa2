// The cgroup v2 device controller is an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to
// the cgroup: the kernel runs it on every open and mknod of a device node and refuses the access
// when it returns 0. Built here from the resolved rules as runc's devicefilter builds it: load the
// request into registers, one block per exception that jumps past itself on any mismatch, then the
// default.
import type { DeviceAccess, DeviceRule } from './devices';

/** struct bpf_cgroup_dev_ctx: u32 access_type (access << 16 | type), u32 major, u32 minor. */
export const DEV_BLOCK = 1;
export const DEV_CHAR = 2;
export const ACC_MKNOD = 1;
export const ACC_READ = 2;
export const ACC_WRITE = 4;

// Opcodes (linux/bpf_common.h, linux/bpf.h).
export const OP = {
  /** dst = *(u32 *)(src + off) */
  LDXW: 0x61,
  /** dst = (u32)dst & imm */
  AND32_K: 0x54,
  /** dst = (u32)dst >> imm */
  RSH32_K: 0x74,
  /** dst = (u32)src */
  MOV32_X: 0xbc,
  /** dst = imm */
  MOV64_K: 0xb7,
  /** if dst != imm goto pc + off */
  JNE_K: 0x55,
  /** if dst != src goto pc + off */
  JNE_X: 0x5d,
  EXIT: 0x95,
} as const;

interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

/** R2 = type, R3 = access, R4 = major, R5 = minor, read from the context in R1. */
const PROLOGUE: Insn[] = [
  insn(OP.LDXW, 2, 1, 0, 0),
  insn(OP.AND32_K, 2, 0, 0, 0xffff),
  insn(OP.LDXW, 3, 1, 0, 0),
  insn(OP.RSH32_K, 3, 0, 0, 16),
  insn(OP.LDXW, 4, 1, 4, 0),
  insn(OP.LDXW, 5, 1, 8, 0),
];

function accessBits(access: string): number {
  return (access.includes('m') ? ACC_MKNOD : 0) | (access.includes('r') ? ACC_READ : 0) | (access.includes('w') ? ACC_WRITE : 0);
}

/** One exception: each check jumps to the end of the block when the request does not match. */
function block(r: DeviceRule): Insn[] {
  const checks: Insn[][] = [];
  if (r.type !== 'a') checks.push([insn(OP.JNE_K, 2, 0, 0, r.type === 'b' ? DEV_BLOCK : DEV_CHAR)]);
  const bits = accessBits(r.access);
  // The request's access must lie within the rule's: (request & rule) == request.
  if (bits !== (ACC_MKNOD | ACC_READ | ACC_WRITE)) checks.push([insn(OP.MOV32_X, 1, 3, 0, 0), insn(OP.AND32_K, 1, 0, 0, bits), insn(OP.JNE_X, 1, 3, 0, 0)]);
  if (r.major >= 0) checks.push([insn(OP.JNE_K, 4, 0, 0, r.major)]);
  if (r.minor >= 0) checks.push([insn(OP.JNE_K, 5, 0, 0, r.minor)]);
  const out = checks.flat();
  out.push(insn(OP.MOV64_K, 0, 0, 0, r.allow ? 1 : 0), insn(OP.EXIT, 0, 0, 0, 0));
  // Every check ends in its jump: past the rest of the block.
  for (let i = 0; i < out.length; i++) if (out[i].code === OP.JNE_K || out[i].code === OP.JNE_X) out[i].off = out.length - i - 1;
  return out;
}

export function deviceFilterInsns(access: DeviceAccess): Insn[] {
  return [...PROLOGUE, ...access.exceptions.flatMap(block), insn(OP.MOV64_K, 0, 0, 0, access.defaultAllow ? 1 : 0), insn(OP.EXIT, 0, 0, 0, 0)];
}

/** The program as BPF_PROG_LOAD takes it: 8 bytes an instruction (code, dst | src << 4, s16 off, s32 imm). */
export function deviceFilterProgram(access: DeviceAccess): Buffer {
  const insns = deviceFilterInsns(access);
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((x, i) => {
    buf.writeUInt8(x.code, i * 8);
    buf.writeUInt8((x.src << 4) | x.dst, i * 8 + 1);
    buf.writeInt16LE(x.off, i * 8 + 2);
    buf.writeInt32LE(x.imm | 0, i * 8 + 4);
  });
  return buf;
}
