import { describe, expect, it } from 'vitest';
import { buildContainer, type ImageDefaults } from '../../daemon/containers/create';
import { ApiError } from '../../daemon/server/errors';
import { containerResolvConf } from '../../daemon/runtime/etc-files';
import { validName } from '../../daemon/containers/names';

const image: ImageDefaults = {
  id: 'sha256:' + 'a'.repeat(64),
  config: { Env: ['PATH=/bin', 'LANG=C'], Cmd: ['sh'], Entrypoint: null, WorkingDir: '/srv', User: 'daemon', Labels: { a: '1' }, StopSignal: 'SIGQUIT' },
};

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    return e as ApiError;
  }
  throw new Error('no error thrown');
}

describe('container create', () => {
  it('takes CMD, env, workdir, user and labels from the image unless given', () => {
    const c = buildContainer({ Image: 'img', Env: ['LANG=en', 'X=1'], Labels: { b: '2' } }, 'n', image);
    expect(c.Path).toBe('sh');
    expect(c.Args).toEqual([]);
    expect(c.Config.Env).toEqual(['PATH=/bin', 'LANG=en', 'X=1']);
    expect(c.Config.WorkingDir).toBe('/srv');
    expect(c.Config.User).toBe('daemon');
    expect(c.Config.Labels).toEqual({ a: '1', b: '2' });
    expect(c.Config.StopSignal).toBe('SIGQUIT');
    expect(c.Config.Hostname).toBe(c.Id.slice(0, 12));
    expect(c.Name).toBe('/n');
  });

  it('appends arguments to the entrypoint and drops the image CMD when the entrypoint is replaced', () => {
    const withEp: ImageDefaults = { ...image, config: { ...image.config, Entrypoint: ['/entry'], Cmd: ['default'] } };
    expect(buildContainer({ Image: 'i' }, 'a', withEp)).toMatchObject({ Path: '/entry', Args: ['default'] });
    expect(buildContainer({ Image: 'i', Cmd: ['x'] }, 'b', withEp)).toMatchObject({ Path: '/entry', Args: ['x'] });
    expect(buildContainer({ Image: 'i', Entrypoint: ['echo'] }, 'c', withEp)).toMatchObject({ Path: 'echo', Args: [] });
    expect(buildContainer({ Image: 'i', Entrypoint: [''], Cmd: ['ls'] }, 'd', withEp)).toMatchObject({ Path: 'ls', Args: [] });
    expect(buildContainer({ Image: 'i', Entrypoint: 'echo', Cmd: 'hi' }, 'e', withEp)).toMatchObject({ Path: 'echo', Args: ['hi'] });
  });

  it('adds a default PATH when neither image nor user sets one', () => {
    const bare: ImageDefaults = { id: image.id, config: { Cmd: ['true'] } };
    expect(buildContainer({ Image: 'i' }, 'p', bare).Config.Env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  });

  it('rejects what Docker rejects with its messages', () => {
    expect(apiError(() => buildContainer({ Image: 'i', HostConfig: { Memory: 4 * 1024 * 1024 } }, 'm', image))).toMatchObject({ statusCode: 400, message: 'Minimum memory limit allowed is 6MB' });
    expect(apiError(() => buildContainer({ Image: 'i', Cmd: 5 }, 'm', image)).statusCode).toBe(400);
    // A missing network is dockerd's 404 at start; only a malformed mode fails here.
    expect(apiError(() => buildContainer({ Image: 'i', HostConfig: { NetworkMode: 'container:' } }, 'm', image))).toMatchObject({ statusCode: 400, message: 'invalid network mode: container:' });
    expect(apiError(() => buildContainer({ Image: 'i', MacAddress: 'zz' }, 'm', image))).toMatchObject({ statusCode: 400, message: 'invalid MAC address: zz' });
    expect(apiError(() => buildContainer({ Image: 'i', WorkingDir: 'rel' }, 'm', image)).statusCode).toBe(400);
    const noCmd: ImageDefaults = { id: image.id, config: {} };
    expect(apiError(() => buildContainer({ Image: 'i' }, 'm', noCmd))).toMatchObject({ statusCode: 400, message: 'No command specified' });
  });

  it('validates names as Docker does', () => {
    expect(validName('web')).toBe(true);
    expect(validName('/web-1.a_b')).toBe(true);
    expect(validName('a')).toBe(false);
    expect(validName('-x')).toBe(false);
    expect(validName('x y')).toBe(false);
  });
});

describe('resolv.conf for containers', () => {
  it('drops loopback resolvers and falls back to public ones', () => {
    expect(containerResolvConf('nameserver 127.0.0.53\noptions edns0\n')).toBe('options edns0\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
    expect(containerResolvConf('search lan\nnameserver 10.0.0.2\n')).toBe('search lan\nnameserver 10.0.0.2\n');
    expect(containerResolvConf('')).toBe('nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  });
});
