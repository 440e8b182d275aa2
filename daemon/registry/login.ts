// POST /auth: credentials checked against the registry's /v2/ as its challenge asks.
import type { Logger } from 'pino';
import { ApiError } from '../server/errors';
import type { AuthConfig } from './auth';
import { type RegistryConfig, endpointsFor } from './endpoints';
import { RegistrySession } from './session';

export async function login(domain: string, auth: AuthConfig, cfg: RegistryConfig, log: Logger): Promise<void> {
  const ep = endpointsFor(domain, { ...cfg, registryMirrors: [] })[0];
  const session = new RegistrySession(ep, '', auth, [], log);
  let res;
  try {
    res = await session.request('GET', '/v2/', { ok: [200, 401] });
  } catch (e) {
    if ((e as Error).message.includes('incorrect username or password')) throw new ApiError(401, (e as Error).message);
    throw e;
  }
  await res.body.dump();
  if (res.statusCode === 401) throw new ApiError(401, `login attempt to ${ep.url}/v2/ failed with status: 401 Unauthorized`);
  log.info({ registry: domain, user: auth.username }, 'login succeeded');
}
