// Detach keys (`ctrl-p,ctrl-q` by default): the sequence ends an attach and leaves the container running.
import { badRequest } from './errors';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** Docker's format: comma-separated single characters or ctrl-<char>. */
export function parseDetachKeys(spec: string): Buffer {
  const bytes = spec.split(',').map((k) => {
    if (k.length === 1) return k.charCodeAt(0);
    const m = /^ctrl-([a-z@\][\\^_])$/.exec(k);
    if (!m) throw badRequest(`Invalid detach keys (${spec}) provided`);
    const ch = m[1];
    return ch >= 'a' && ch <= 'z' ? ch.charCodeAt(0) - 96 : { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 }[ch] as number;
  });
  return Buffer.from(bytes);
}

/**
 * Passes input through until the detach sequence appears; a partial match is held back until it
 * completes or breaks. Returns the bytes to forward and whether the sequence was seen.
 */
export class DetachScanner {
  private held = 0;

  constructor(private readonly keys: Buffer) {}

  feed(chunk: Buffer): { forward: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const byte of chunk) {
      if (byte === this.keys[this.held]) {
        this.held++;
        if (this.held === this.keys.length) return { forward: Buffer.from(out), detach: true };
        continue;
      }
      if (this.held) out.push(...this.keys.subarray(0, this.held));
      this.held = 0;
      if (byte === this.keys[0]) this.held = 1;
      else out.push(byte);
    }
    return { forward: Buffer.from(out), detach: false };
  }
}
