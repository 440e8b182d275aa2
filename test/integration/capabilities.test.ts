// --cap-add and --cap-drop through the real CLI: the container's command, its execs and inspect
// see the set dockerd would make; names dockerd does not know or cannot hand on get its 400.
import { readFileSync } from 'fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasDocker, startDaemonWithImage, stopAndCheck, type TestDaemon } from '../helpers/daemon';

const IMG = 'berthcaps/busybox:latest';
/** Docker's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP. */
const DEFAULT = 0xa80425fbn;
const bit = (n: number): bigint => 1n << BigInt(n);
const CHOWN = 0;
const KILL = 5;
const NET_ADMIN = 12;
const NET_RAW = 13;
const SYS_ADMIN = 21;
/** What this process (and so the daemon it starts) holds: the most a container can get. */
const held = BigInt(`0x${/^CapPrm:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);

describe.skipIf(!hasDocker)('capabilities (--cap-add, --cap-drop)', () => {
  let d: TestDaemon;
  const capEff = (out: string): bigint => BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(out)![1]}`);
  const runCaps = (...flags: string[]): bigint => {
    const r = d.docker(['run', '--rm', ...flags, IMG, 'grep', 'CapEff', '/proc/self/status']);
    expect(r.stderr).toBe('');
    return capEff(r.stdout);
  };

  beforeAll(async () => {
    d = await startDaemonWithImage(IMG);
  });

  afterAll(async () => {
    if (d) await stopAndCheck(d);
  });

  it('adds to and drops from the default set, with or without CAP_, in any case', () => {
    expect(runCaps()).toBe(DEFAULT);
    expect(runCaps('--cap-add', 'net_admin', '--cap-drop', 'CAP_CHOWN')).toBe((DEFAULT | bit(NET_ADMIN)) & ~bit(CHOWN));
  });

  it('gives only the added ones after --cap-drop ALL, and all but the dropped after --cap-add ALL', () => {
    expect(runCaps('--cap-drop', 'ALL', '--cap-add', 'KILL')).toBe(bit(KILL));
    expect(runCaps('--cap-add', 'ALL', '--cap-drop', 'CHOWN')).toBe(held & ~bit(CHOWN));
  });

  it('gives execs the container set and keeps the names as given in inspect', () => {
    expect(d.docker(['run', '-d', '--name', 'netadmin', '--stop-timeout', '0', '--cap-add', 'NET_ADMIN', '--cap-drop', 'KILL', IMG, 'sleep', '300']).status).toBe(0);
    expect(capEff(d.docker(['exec', 'netadmin', 'grep', 'CapEff', '/proc/self/status']).stdout)).toBe((DEFAULT | bit(NET_ADMIN)) & ~bit(KILL));
    const made = d.docker(['exec', 'netadmin', 'ip', 'link', 'add', 'capbr0', 'type', 'bridge']);
    expect(made.stderr).toBe('');
    expect(made.status).toBe(0);
    expect(d.docker(['exec', 'netadmin', 'ip', 'link', 'show', 'capbr0']).status).toBe(0);
    // An exec with --privileged still gets everything.
    expect(capEff(d.docker(['exec', '--privileged', 'netadmin', 'grep', 'CapEff', '/proc/self/status']).stdout) & bit(SYS_ADMIN)).toBe(bit(SYS_ADMIN));
    const hc = JSON.parse(d.docker(['inspect', 'netadmin']).stdout)[0].HostConfig as { CapAdd: string[]; CapDrop: string[] };
    expect([hc.CapAdd, hc.CapDrop]).toEqual([['CAP_NET_ADMIN'], ['CAP_KILL']]);
    d.docker(['rm', '-f', 'netadmin']);
  });

  it('gives an exec of a container with only drops exactly the narrower set, bounding set included', () => {
    expect(d.docker(['run', '-d', '--name', 'dropped', '--stop-timeout', '0', '--cap-drop', 'CHOWN', '--cap-drop', 'NET_RAW', IMG, 'sleep', '300']).status).toBe(0);
    const narrower = DEFAULT & ~bit(CHOWN) & ~bit(NET_RAW);
    // Twice: the first exec may find no spare yet, the second is served by one.
    for (let i = 0; i < 2; i++) {
      const out = d.docker(['exec', 'dropped', 'cat', '/proc/self/status']).stdout;
      expect(capEff(out)).toBe(narrower);
      expect(BigInt(`0x${/CapBnd:\s*([0-9a-f]+)/.exec(out)![1]}`)).toBe(narrower);
    }
    d.docker(['rm', '-f', 'dropped']);
  });

  it("refuses unknown names and ones the daemon cannot hand on with dockerd's messages, creating nothing", async () => {
    const before = d.docker(['ps', '-aq']).stdout;
    const r = d.docker(['create', '--cap-add', 'FOO', IMG]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Error response from daemon: invalid CapAdd: unknown capability: "CAP_FOO"');
    const api = await d.api<{ message: string }>('POST', '/v1.43/containers/create', { Image: IMG, HostConfig: { CapDrop: ['cap_bogus'] } });
    expect(api.status).toBe(400);
    expect(api.body.message).toBe('invalid CapDrop: unknown capability: "CAP_BOGUS"');
    // Sandboxed hosts lack some capability (this one may not): dockerd refuses to add it.
    const lacking = Array.from({ length: 41 }, (_, i) => i).find((i) => !(held & bit(i)));
    if (lacking === 24) {
      const sr = d.docker(['create', '--cap-add', 'SYS_RESOURCE', IMG]);
      expect(sr.stderr).toContain('invalid CapAdd: capability not supported by your kernel or not available in the current environment: "CAP_SYS_RESOURCE"');
    }
    expect(d.docker(['ps', '-aq']).stdout).toBe(before);
  });
});
