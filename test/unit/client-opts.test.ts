// Flag values → API values, as the docker CLI computes them (filters, env, ports, volumes,
// CPUs) and the create body for run/create.
import { describe, expect, it } from 'vitest';
import {
  addFilter,
  parseFilters,
  parseKeyValueFile,
  parseNanoCPUs,
  parsePortSpec,
  parsePublish,
  parseRestartPolicy,
  parseVolumes,
  parseDevice,
  validateAttach,
  validateDevice,
  validateDeviceCgroupRule,
  validateEnv,
  validateExtraHost,
  validateIPAddress,
  validateLabel,
  validateLink,
} from '../../client/opts';
import { parseGoDurationStrict } from '../../client/format/time';
import { buildContainerConfig, normalizeCapabilities } from '../../client/container-config';
import { parseHost } from '../../client/api';
import { runErrorStatus } from '../../client/commands/containers';

describe('filters', () => {
  it('builds the filters JSON from repeated key=value flags', () => {
    expect(parseFilters(['dangling=true'])).toBe('{"dangling":{"true":true}}');
    expect(JSON.parse(parseFilters(['status=exited', 'status=created', ' Name = web '])!)).toEqual({
      status: { exited: true, created: true },
      name: { web: true },
    });
    expect(parseFilters([])).toBeUndefined();
  });

  it('keeps "=" inside the value and rejects a filter without one', () => {
    expect(addFilter({}, 'label=com.example=1')).toEqual({ label: { 'com.example=1': true } });
    expect(() => addFilter({}, 'dangling')).toThrow('bad format of filter (expected name=value)');
  });
});

describe('env and labels', () => {
  it('takes the client value for a bare KEY and keeps KEY= and KEY=v', () => {
    const env = { HOME: '/root' };
    expect(validateEnv('HOME', env)).toBe('HOME=/root');
    expect(validateEnv('UNSET', env)).toBe('UNSET');
    expect(validateEnv('A=', env)).toBe('A=');
    expect(validateEnv('discovery.type=single-node', env)).toBe('discovery.type=single-node');
    expect(() => validateEnv('=x', env)).toThrow('invalid environment variable: =x');
  });

  it('reads env files with comments and bare keys from the environment', () => {
    expect(parseKeyValueFile('# c\nA=1\n\nB\nC\n', { B: '2' })).toEqual(['A=1', 'B=2']);
  });
});

describe('flag value validation (pflag time, docker CLI messages)', () => {
  it('refuses what the docker CLI refuses', () => {
    expect(() => validateLabel('=x')).toThrow("invalid label '=x': empty name");
    expect(validateLabel('c')).toBe('c');
    expect(validateAttach('STDOUT')).toBe('stdout');
    expect(() => validateAttach('foo')).toThrow('valid streams are STDIN, STDOUT and STDERR');
    expect(() => validateIPAddress('1.2.3')).toThrow('IP address is not correctly formatted: 1.2.3');
    expect(validateExtraHost('h:1.2.3.4')).toBe('h:1.2.3.4');
    expect(validateExtraHost('h=host-gateway')).toBe('h=host-gateway');
    expect(() => validateExtraHost('foo')).toThrow('bad format for add-host: "foo"');
    expect(() => validateLink('a:b:c')).toThrow('bad format for links: a:b:c');
  });

  it("parses durations with Go's messages", () => {
    expect(parseGoDurationStrict('1h30m')).toBe(90 * 60_000);
    expect(parseGoDurationStrict('-1.5s')).toBe(-1500);
    expect(() => parseGoDurationStrict('5')).toThrow('time: missing unit in duration "5"');
    expect(() => parseGoDurationStrict('5x')).toThrow('time: unknown unit "x" in duration "5x"');
    expect(() => parseGoDurationStrict('abc')).toThrow('time: invalid duration "abc"');
  });
});

describe('ports', () => {
  it('parses every -p form (nat.ParsePortSpec)', () => {
    expect(parsePortSpec('80')).toEqual([{ port: '80/tcp', binding: { HostIp: '', HostPort: '' } }]);
    expect(parsePortSpec('8080:80')).toEqual([{ port: '80/tcp', binding: { HostIp: '', HostPort: '8080' } }]);
    expect(parsePortSpec('127.0.0.1::53/udp')).toEqual([{ port: '53/udp', binding: { HostIp: '127.0.0.1', HostPort: '' } }]);
    expect(parsePortSpec('[::1]:80:80')).toEqual([{ port: '80/tcp', binding: { HostIp: '::1', HostPort: '80' } }]);
    expect(parsePortSpec('9000-9001:9000-9001').map((p) => `${p.binding.HostPort}->${p.port}`)).toEqual(['9000->9000/tcp', '9001->9001/tcp']);
    expect(parsePortSpec('8000-8010:80')).toEqual([{ port: '80/tcp', binding: { HostIp: '', HostPort: '8000-8010' } }]);
  });

  it('rejects bad ports', () => {
    expect(() => parsePortSpec('abc')).toThrow('invalid containerPort: abc');
    expect(() => parsePortSpec('x:80')).toThrow('invalid hostPort: x');
    expect(() => parsePortSpec('80/xyz')).toThrow('invalid proto: xyz');
    expect(() => parsePortSpec('1-3:1-2')).toThrow('invalid ranges specified for container and host Ports');
  });

  it('collects exposed ports and bindings, including the long syntax', () => {
    expect(parsePublish(['9200:9200', '9300:9300', 'target=53,published=5353,protocol=udp'])).toEqual({
      exposed: { '9200/tcp': {}, '9300/tcp': {}, '53/udp': {} },
      bindings: {
        '9200/tcp': [{ HostIp: '', HostPort: '9200' }],
        '9300/tcp': [{ HostIp: '', HostPort: '9300' }],
        '53/udp': [{ HostIp: '', HostPort: '5353' }],
      },
    });
  });
});

describe('volumes, CPUs, restart, caps, hosts', () => {
  it('splits binds from anonymous volumes and makes ./ sources absolute', () => {
    expect(parseVolumes(['/data', '/h:/c:ro', 'named:/n', './x:/x', '.:/y'], '/work')).toEqual({
      binds: ['/h:/c:ro', 'named:/n', '/work/x:/x', '/work:/y'],
      volumes: { '/data': {} },
    });
    // Like the docker CLI, paths are left to the daemon to judge.
    expect(parseVolumes(['rel'], '/work').volumes).toEqual({ rel: {} });
    expect(() => parseVolumes(['a:b:c:d'])).toThrow('invalid spec: a:b:c:d: too many colons');
  });

  it('converts --cpus to NanoCPUs exactly', () => {
    expect(parseNanoCPUs('1.5')).toBe(1_500_000_000);
    expect(parseNanoCPUs('0.000000001')).toBe(1);
    expect(parseNanoCPUs('2')).toBe(2_000_000_000);
    expect(() => parseNanoCPUs('0.0000000001')).toThrow('value is too precise');
    expect(() => parseNanoCPUs('abc')).toThrow('failed to parse abc as a rational number');
  });

  it('parses restart policies', () => {
    expect(parseRestartPolicy('always')).toEqual({ Name: 'always', MaximumRetryCount: 0 });
    expect(parseRestartPolicy('on-failure:3')).toEqual({ Name: 'on-failure', MaximumRetryCount: 3 });
    expect(parseRestartPolicy('no')).toEqual({ Name: 'no', MaximumRetryCount: 0 });
    expect(() => parseRestartPolicy(':1')).toThrow('invalid restart policy format: no policy provided before colon');
    expect(() => parseRestartPolicy('on-failure:x')).toThrow('invalid restart policy format: maximum retry count must be an integer');
  });

  it('normalises capabilities as the Go client does', () => {
    expect(normalizeCapabilities(['net_admin', 'ALL', 'CAP_NET_ADMIN'])).toEqual(['ALL', 'CAP_NET_ADMIN']);
    expect(normalizeCapabilities([])).toBeNull();
  });

  it('parses -H / DOCKER_HOST', () => {
    expect(parseHost(undefined)).toEqual({ url: 'unix:///run/berth.sock', socketPath: '/run/berth.sock' });
    expect(parseHost('unix:///tmp/b.sock')).toEqual({ url: 'unix:///tmp/b.sock', socketPath: '/tmp/b.sock' });
    expect(parseHost('tcp://127.0.0.1:2375')).toMatchObject({ hostname: '127.0.0.1', port: 2375 });
    expect(parseHost('localhost:1234')).toMatchObject({ hostname: 'localhost', port: 1234 });
    expect(() => parseHost('ssh://x')).toThrow('Invalid bind address format: ssh://x');
  });
});

describe('create body', () => {
  it('maps run flags to Config and HostConfig fields', () => {
    const cc = buildContainerConfig(
      {
        env: ['FOO=bar', 'HOME'],
        label: ['a=b', 'c'],
        memory: '512m',
        cpus: '1.5',
        cpuShares: '512',
        pidsLimit: '100',
        network: ['mynet'],
        entrypoint: '/bin/sh',
        hostname: 'h',
        workdir: '/tmp',
        user: '1000',
        interactive: true,
        tty: true,
        stopSignal: 'SIGINT',
        stopTimeout: '5',
        rm: true,
      },
      'alpine',
      ['ls', '-la'],
      { env: { HOME: '/root' } },
    );
    expect(cc.config).toMatchObject({
      Image: 'alpine',
      Cmd: ['ls', '-la'],
      Entrypoint: ['/bin/sh'],
      Env: ['FOO=bar', 'HOME=/root'],
      Labels: { a: 'b', c: '' },
      Hostname: 'h',
      WorkingDir: '/tmp',
      User: '1000',
      Tty: true,
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      StopSignal: 'SIGINT',
      StopTimeout: 5,
    });
    expect(cc.hostConfig).toMatchObject({ Memory: 536870912, NanoCpus: 1_500_000_000, CpuShares: 512, PidsLimit: 100, NetworkMode: 'mynet', AutoRemove: true });
    expect(cc.networkingConfig).toEqual({ EndpointsConfig: {} });
  });

  it('leaves the image defaults alone when no command or entrypoint is given', () => {
    const cc = buildContainerConfig({}, 'busybox', [], { env: {} });
    expect(cc.config.Cmd).toBeNull();
    expect(cc.config.Entrypoint).toBeNull();
    expect(cc.config.Env).toBeNull();
    expect(cc.config).not.toHaveProperty('StopTimeout');
    expect(cc.hostConfig.NetworkMode).toBe('default');
    expect(buildContainerConfig({ entrypoint: '' }, 'busybox', [], { env: {} }).config.Entrypoint).toEqual(['']);
  });

  it('refuses --rm with a restart policy and conflicting network modes', () => {
    expect(() => buildContainerConfig({ rm: true, restart: 'always' }, 'x', [])).toThrow('conflicting options: cannot specify both --restart and --rm');
    expect(() => buildContainerConfig({ network: ['host', 'mynet'] }, 'x', [])).toThrow('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  });

  it('builds Healthcheck from the --health-* flags as the docker CLI does', () => {
    const hc = (f: Record<string, unknown>) => buildContainerConfig(f, 'x', []).config.Healthcheck;
    expect(hc({ healthCmd: 'test -f /ok', healthInterval: '200ms', healthTimeout: '1s', healthStartPeriod: '1m', healthRetries: '2' })).toEqual({
      Test: ['CMD-SHELL', 'test -f /ok'],
      Interval: 200_000_000,
      Timeout: 1_000_000_000,
      StartPeriod: 60_000_000_000,
      Retries: 2,
    });
    expect(hc({ healthInterval: '1s' })).toEqual({ Interval: 1_000_000_000 });
    // Zero values are as good as absent.
    expect(hc({ healthInterval: '0s', healthRetries: '0' })).toBeUndefined();
    expect(hc({ noHealthcheck: true, healthInterval: '0s' })).toEqual({ Test: ['NONE'] });
    expect(() => hc({ noHealthcheck: true, healthCmd: 'true' })).toThrow('--no-healthcheck conflicts with --health-* options');
    expect(() => hc({ healthRetries: '-1' })).toThrow('--health-retries cannot be negative');
    expect(() => hc({ healthInterval: '-1s' })).toThrow('--health-interval cannot be negative');
  });
});

describe('run exit statuses', () => {
  it('maps start errors to 127, 126 and 125 as the docker CLI does', () => {
    expect(runErrorStatus('Error response from daemon: exec: "nope": executable file not found in $PATH: unknown')).toBe(127);
    expect(runErrorStatus('Error response from daemon: open /x: no such file or directory')).toBe(127);
    expect(runErrorStatus('Error response from daemon: exec: "/etc": permission denied')).toBe(126);
    expect(runErrorStatus('Error response from daemon: Conflict. The container name "/x" is already in use')).toBe(125);
  });
});

describe('--device and --device-cgroup-rule', () => {
  it("reads HOST[:CONTAINER][:MODE] as docker-cli's parseLinuxDevice does", () => {
    expect(parseDevice('/dev/loop0')).toEqual({ PathOnHost: '/dev/loop0', PathInContainer: '/dev/loop0', CgroupPermissions: 'rwm' });
    expect(parseDevice('/dev/loop0:r')).toEqual({ PathOnHost: '/dev/loop0', PathInContainer: '/dev/loop0', CgroupPermissions: 'r' });
    expect(parseDevice('/dev/loop0:/dev/l')).toEqual({ PathOnHost: '/dev/loop0', PathInContainer: '/dev/l', CgroupPermissions: 'rwm' });
    expect(parseDevice('/dev/loop0:/dev/l:mw')).toEqual({ PathOnHost: '/dev/loop0', PathInContainer: '/dev/l', CgroupPermissions: 'mw' });
  });

  it("refuses what docker-cli's validators refuse, with their words", () => {
    expect(validateDevice('/dev/a:/dev/b:rw')).toBe('/dev/a:/dev/b:rw');
    expect(() => validateDevice('/dev/a:/dev/b:rwx')).toThrow('bad mode specified: rwx');
    expect(() => validateDevice('/dev/a:/dev/b:rr')).toThrow('bad mode specified: rr');
    expect(() => validateDevice('/dev/a:b')).toThrow('b is not an absolute path');
    expect(() => validateDevice(':/dev/b')).toThrow('bad format for path: :/dev/b');
    expect(() => validateDevice('/a:/b:r:x')).toThrow('bad format for path: /a:/b:r:x');
    expect(validateDeviceCgroupRule('c 42:* rmw')).toBe('c 42:* rmw');
    expect(() => validateDeviceCgroupRule('c 42 rmw')).toThrow("invalid device cgroup format 'c 42 rmw'");
  });
});
