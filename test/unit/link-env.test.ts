// The legacy link variables and the process env around them, against moby's (20.10-27) rules:
// daemon/links ToEnv, container CreateDaemonEnvironment and ReplaceOrAppendEnvValues.
import { describe, expect, it } from 'vitest';
import { linkEnv } from '../../daemon/containers/link-env';
import { containerEnv, replaceOrAppendEnv } from '../../daemon/containers/process-env';

const IP = '172.17.0.2';

describe('linkEnv', () => {
  it('gives the lowest port, four variables per port, the name and the env but HOME and PATH', () => {
    const env = linkEnv({ name: '/web/my-db', ip: IP, env: ['PATH=/bin', 'HOME=/root', 'FOO=bar', 'BARE', 'EMPTY=', 'EQ=a=b'], exposedPorts: ['8080/udp', '80/tcp'] });
    expect(env).toEqual([
      `MY_DB_PORT=tcp://${IP}:80`,
      `MY_DB_PORT_80_TCP=tcp://${IP}:80`,
      `MY_DB_PORT_80_TCP_ADDR=${IP}`,
      'MY_DB_PORT_80_TCP_PORT=80',
      'MY_DB_PORT_80_TCP_PROTO=tcp',
      `MY_DB_PORT_8080_UDP=udp://${IP}:8080`,
      `MY_DB_PORT_8080_UDP_ADDR=${IP}`,
      'MY_DB_PORT_8080_UDP_PORT=8080',
      'MY_DB_PORT_8080_UDP_PROTO=udp',
      'MY_DB_NAME=/web/my-db',
      'MY_DB_ENV_FOO=bar',
      'MY_DB_ENV_EMPTY=',
      'MY_DB_ENV_EQ=a=b',
    ]);
  });

  it('names only, with no ports and no env', () => {
    expect(linkEnv({ name: '/a/b', ip: IP, env: [], exposedPorts: [] })).toEqual(['B_NAME=/a/b']);
  });

  it('adds range variables for three consecutive ports before the per-port ones (duplicating ADDR and PROTO, as dockerd)', () => {
    const env = linkEnv({ name: '/web/db', ip: IP, env: [], exposedPorts: ['6381/tcp', '6379/tcp', '6380/tcp'] });
    const per = (p: number): string[] => [`DB_PORT_${p}_TCP=tcp://${IP}:${p}`, `DB_PORT_${p}_TCP_ADDR=${IP}`, `DB_PORT_${p}_TCP_PORT=${p}`, `DB_PORT_${p}_TCP_PROTO=tcp`];
    expect(env).toEqual([
      `DB_PORT=tcp://${IP}:6379`,
      `DB_PORT_6379_TCP_START=tcp://${IP}:6379`,
      `DB_PORT_6379_TCP_ADDR=${IP}`,
      'DB_PORT_6379_TCP_PROTO=tcp',
      'DB_PORT_6379_TCP_PORT_START=6379',
      `DB_PORT_6379_TCP_END=tcp://${IP}:6381`,
      'DB_PORT_6379_TCP_PORT_END=6381',
      ...per(6379),
      ...per(6380),
      ...per(6381),
      'DB_NAME=/web/db',
    ]);
  });

  it('makes no range of two consecutive ports', () => {
    const env = linkEnv({ name: '/web/db', ip: IP, env: [], exposedPorts: ['81/tcp', '80/tcp'] });
    expect(env.filter((e) => /_(START|END)=/.test(e))).toEqual([]);
    expect(env[0]).toBe(`DB_PORT=tcp://${IP}:80`);
  });

  it('puts tcp first on the same number and ranges by number alone, the end named by its own protocol', () => {
    const a = linkEnv({ name: '/w/d', ip: IP, env: [], exposedPorts: ['53/udp', '53/tcp'] });
    expect(a.slice(0, 2)).toEqual([`D_PORT=tcp://${IP}:53`, `D_PORT_53_TCP=tcp://${IP}:53`]);
    expect(a[5]).toBe(`D_PORT_53_UDP=udp://${IP}:53`);
    const b = linkEnv({ name: '/w/d', ip: IP, env: [], exposedPorts: ['7002/udp', '7001/udp', '7000/tcp'] });
    expect(b.slice(0, 7)).toEqual([
      `D_PORT=tcp://${IP}:7000`,
      `D_PORT_7000_TCP_START=tcp://${IP}:7000`,
      `D_PORT_7000_TCP_ADDR=${IP}`,
      'D_PORT_7000_TCP_PROTO=tcp',
      'D_PORT_7000_TCP_PORT_START=7000',
      `D_PORT_7000_UDP_END=udp://${IP}:7002`,
      'D_PORT_7000_UDP_PORT_END=7002',
    ]);
  });

  it('takes a port without protocol as tcp', () => {
    expect(linkEnv({ name: '/w/d', ip: IP, env: [], exposedPorts: ['8000'] })[0]).toBe(`D_PORT=tcp://${IP}:8000`);
  });
});

describe('containerEnv', () => {
  it('puts PATH, HOSTNAME, TERM and the link variables first, the container Env over them', () => {
    expect(containerEnv({ Env: ['PATH=/bin', 'FOO=bar'], Hostname: 'h1' }, false, ['L_NAME=/x/l'])).toEqual(['PATH=/bin', 'HOSTNAME=h1', 'L_NAME=/x/l', 'FOO=bar']);
    expect(containerEnv({ Env: ['PATH=/bin'], Hostname: 'h1' }, true, [])).toEqual(['PATH=/bin', 'HOSTNAME=h1', 'TERM=xterm']);
  });

  it('lets the container Env replace a default in place or unset it, and gives the default PATH', () => {
    expect(containerEnv({ Env: ['L_NAME=mine', 'HOSTNAME', 'X=1'], Hostname: 'h1' }, false, ['L_NAME=/x/l', 'L_ENV_A=1'])).toEqual([
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'L_NAME=mine',
      'L_ENV_A=1',
      'X=1',
    ]);
  });
});

describe('replaceOrAppendEnv', () => {
  it('replaces the last of a repeated key, appends new keys each time, ignores unsetting a missing one', () => {
    expect(replaceOrAppendEnv(['A=1', 'B=1', 'A=2'], ['A=3', 'C=1', 'C=2', 'D'])).toEqual(['A=1', 'B=1', 'A=3', 'C=1', 'C=2']);
  });

  it('does not change its arguments', () => {
    const defaults = ['A=1'];
    replaceOrAppendEnv(defaults, ['A']);
    expect(defaults).toEqual(['A=1']);
  });
});
