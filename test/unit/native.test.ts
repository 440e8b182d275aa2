import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync, statSync, openSync, closeSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { describe, expect, it } from 'vitest';
import * as libc from '../../native/libc';

describe('native/libc', () => {
  it('names the operation, arguments and errno of a failing call', () => {
    let err: unknown;
    try {
      libc.mount('none', '/nonexistent/berth-test', 'tmpfs', 0, null);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(libc.SyscallError);
    const e = err as libc.SyscallError;
    expect(e.code).toBe('ENOENT');
    expect(e.op).toBe('mount');
    expect(e.message).toContain('mount("none", "/nonexistent/berth-test", "tmpfs"');
    expect(e.message).toMatch(/ENOENT$/);
  });

  it('reports EINVAL and EBADF by name', () => {
    expect(() => libc.setns(-1, libc.CLONE_NEWNET)).toThrow(/setns\(-1, "0x40000000"\): EBADF/);
    expect(() => libc.umount2('/', 0xff)).toThrow(/EINVAL/);
    expect(() => libc.kill(999999999, 0)).toThrow(/ESRCH/);
  });

  it('mounts and unmounts a tmpfs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-native-'));
    try {
      libc.mount('tmpfs', dir, 'tmpfs', libc.MS_NOSUID, 'size=1m');
      writeFileSync(join(dir, 'x'), 'y');
      const mounted = spawnSync('findmnt', ['-no', 'FSTYPE', dir]).stdout.toString().trim();
      expect(mounted).toBe('tmpfs');
      libc.umount2(dir, libc.MNT_DETACH);
      expect(spawnSync('findmnt', ['-no', 'FSTYPE', dir]).status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes device nodes and reads back extended attributes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-native-'));
    try {
      const wh = join(dir, 'wh');
      libc.mknod(wh, libc.S_IFCHR | 0o600, libc.makedev(0, 0));
      const st = statSync(wh);
      expect(st.isCharacterDevice()).toBe(true);
      expect(st.rdev).toBe(0);
      const null2 = join(dir, 'null');
      libc.mknod(null2, libc.S_IFCHR | 0o666, libc.makedev(1, 3));
      expect(statSync(null2).rdev).toBe(statSync('/dev/null').rdev);
      libc.lsetxattr(dir, 'trusted.overlay.opaque', Buffer.from('y'));
      expect(libc.lgetxattr(dir, 'trusted.overlay.opaque')?.toString()).toBe('y');
      expect(libc.lgetxattr(dir, 'trusted.berth.absent')).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('clears close-on-exec and non-blocking flags', () => {
    const fd = openSync('/dev/null', 'r');
    try {
      libc.setCloexec(fd);
      expect(libc.fcntl(fd, libc.F_GETFD) & libc.FD_CLOEXEC).toBe(libc.FD_CLOEXEC);
      libc.fcntl(fd, libc.F_SETFL, libc.fcntl(fd, libc.F_GETFL) | libc.O_NONBLOCK);
      libc.makeInheritable(fd);
      expect(libc.fcntl(fd, libc.F_GETFD) & libc.FD_CLOEXEC).toBe(0);
      expect(libc.fcntl(fd, libc.F_GETFL) & libc.O_NONBLOCK).toBe(0);
    } finally {
      closeSync(fd);
    }
  });

  it('execve replaces a process image with argv and env intact', () => {
    const compiled = join(__dirname, '../../dist/native/libc.js');
    const code = `
      const libc = require(${JSON.stringify(compiled)});
      libc.makeInheritable(1);
      libc.execve('/bin/sh', ['sh', '-c', 'echo "$0 $GREETING"', 'argv0'], ['GREETING=hello']);
    `;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
    expect(r.stdout).toBe('argv0 hello\n');
  });

  it('execve of a missing file throws ENOENT', () => {
    expect(() => libc.execve('/nonexistent/berth', ['x'], [])).toThrow(/execve\("\/nonexistent\/berth".*ENOENT/);
  });

  it('sethostname works inside a new UTS namespace only', () => {
    const compiled = join(__dirname, '../../dist/native/libc.js');
    const code = `
      const libc = require(${JSON.stringify(compiled)});
      libc.unshare(libc.CLONE_NEWUTS);
      libc.sethostname('berth-uts-test');
      process.stdout.write(require('os').hostname());
    `;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
    expect(r.stdout).toBe('berth-uts-test');
    expect(require('os').hostname()).not.toBe('berth-uts-test');
  });
});
