// The cgroup v2 driver on a real cgroup v2 kernel: test/vm/run-v2.sh boots Debian's kernel under
// qemu (TCG) and runs berthd and its checks there (test/vm/guest/check-v2.js). Development and CI
// machines run cgroup v1, so this is the only place the v2 driver meets a kernel. On by default;
// BERTH_SKIP_VM=1 skips it. About 1.5 minutes cold (debootstrap, kernel download), 40 s warm.
import { spawn } from 'child_process';
import { existsSync } from 'fs';
import { join } from 'path';
import { describe, expect, it } from 'vitest';

const SCRIPT = join(__dirname, 'run-v2.sh');
const LIMIT_MS = 15 * 60_000;

function skipReason(): string | null {
  if (process.env.BERTH_SKIP_VM === '1') return 'BERTH_SKIP_VM=1';
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'needs an x86_64 Linux host';
  if (process.getuid?.() !== 0) return 'needs root';
  const onPath = (bin: string) => (process.env.PATH ?? '/usr/bin:/bin').split(':').some((d) => d && existsSync(join(d, bin)));
  if (!onPath('qemu-system-x86_64') && !onPath('apt-get')) return 'neither qemu-system-x86_64 nor apt-get to install it';
  return null;
}

const reason = skipReason();
if (reason) console.log(`cgroup v2 VM test skipped: ${reason}`);

function runScript(): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a hung run can be ended whole (bash, timeout, qemu).
    const child = spawn('bash', [SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => {
      out += `\ncgroup-v2.test: killed run-v2.sh after ${LIMIT_MS / 1000}s\n`;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, LIMIT_MS - 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('cgroup v2 driver, in a cgroup v2 VM', () => {
  it.skipIf(reason !== null)(
    `run-v2.sh passes${reason ? ` (skipped: ${reason})` : ''}`,
    async () => {
      const { code, out } = await runScript();
      // The checks and warnings, for the log either way.
      console.log(
        out
          .split('\n')
          .filter((l) => /^(run-v2:|berth-vm: \[|BERTH-VM-)/.test(l))
          .join('\n'),
      );
      const detail = out.length > 20_000 ? `...${out.slice(-20_000)}` : out;
      expect(out, detail).toContain('BERTH-VM-RESULT: PASS');
      expect(code, detail).toBe(0);
    },
    LIMIT_MS,
  );
});
