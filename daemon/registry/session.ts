// HTTP to one registry endpoint for one repository, authenticated as the registry asks: its
// /v2/ challenge decides between no auth, Basic, and a Bearer token from the realm it names.
import type { Readable } from 'stream';
import { Agent, request, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { type AuthConfig, credentials, parseChallenges } from './auth';
import type { Endpoint } from './endpoints';
import { registryError } from './errors';

// A registry that is down or unreachable fails within seconds, not minutes.
const agent = new Agent({ connect: { timeout: 5_000 }, headersTimeout: 30_000, bodyTimeout: 60_000 });
const MAX_REDIRECTS = 5;

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: Buffer | Readable | string;
  /** Statuses that are not errors; others throw a RegistryError. */
  ok?: number[];
}

export type Response = Dispatcher.ResponseData;

/** Go's url.Error text for a failed connection, as Docker prints it. */
export function transportError(method: string, url: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err.code ?? err.cause?.code;
  const u = new URL(url);
  const hostPort = `${u.hostname}:${u.port || (u.protocol === 'https:' ? 443 : 80)}`;
  const verb = method[0] + method.slice(1).toLowerCase();
  let reason = err.message;
  if (code === 'ECONNREFUSED') reason = `dial tcp ${hostPort}: connect: connection refused`;
  else if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') reason = `dial tcp ${hostPort}: i/o timeout`;
  else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') reason = `dial tcp: lookup ${u.hostname}: no such host`;
  else if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') reason = 'net/http: timeout awaiting response headers';
  return new Error(`${verb} ${JSON.stringify(url)}: ${reason}`);
}

export class RegistrySession {
  private authorization?: string;
  private ready?: Promise<void>;
  /** The registry wants Basic auth and there are no credentials. */
  private basicMissing = false;

  constructor(
    readonly endpoint: Endpoint,
    /** Repository path on the registry, e.g. library/busybox. */
    readonly repo: string,
    private readonly auth: AuthConfig,
    /** Token scopes, e.g. repository:library/busybox:pull. */
    private readonly scopes: string[],
    private readonly log: Logger,
  ) {}

  url(path: string): string {
    return path.startsWith('http://') || path.startsWith('https://') ? path : `${this.endpoint.url}${path}`;
  }

  /** A request under /v2/<repo>/ (or an absolute upload URL), authenticated, redirects followed for reads. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    await this.authenticate();
    let url = this.url(path);
    for (let hop = 0; ; hop++) {
      const sameHost = new URL(url).host === new URL(this.endpoint.url).host;
      const headers: Record<string, string> = { 'user-agent': 'berth/0.1.0', ...opts.headers };
      if (this.authorization && sameHost) headers.authorization = this.authorization;
      let res: Response;
      try {
        res = await request(url, { method: method as Dispatcher.HttpMethod, headers, body: opts.body, dispatcher: agent });
      } catch (e) {
        throw transportError(method, url, e);
      }
      const location = res.headers.location;
      if ((method === 'GET' || method === 'HEAD') && [301, 302, 303, 307, 308].includes(res.statusCode) && location && hop < MAX_REDIRECTS) {
        await res.body.dump();
        url = new URL(String(location), url).toString();
        continue;
      }
      if (res.statusCode === 401 && this.basicMissing) {
        await res.body.dump();
        throw new Error(`${method[0]}${method.slice(1).toLowerCase()} ${JSON.stringify(url)}: no basic auth credentials`);
      }
      if (!(opts.ok ?? [200]).includes(res.statusCode)) {
        const text = method === 'HEAD' ? '' : await res.body.text().catch(() => '');
        if (method === 'HEAD') await res.body.dump();
        throw registryError(res.statusCode, '', text, `${method} ${url}`);
      }
      return res;
    }
  }

  private authenticate(): Promise<void> {
    this.ready ??= this.challenge();
    return this.ready;
  }

  /** GET /v2/ as Docker's ping: its challenge tells how to authenticate. */
  private async challenge(): Promise<void> {
    const url = `${this.endpoint.url}/v2/`;
    let res: Response;
    try {
      res = await request(url, { method: 'GET', headers: { 'user-agent': 'berth/0.1.0' }, dispatcher: agent });
    } catch (e) {
      this.ready = undefined;
      throw transportError('GET', url, e);
    }
    await res.body.dump();
    if (res.statusCode !== 401) return;
    const challenges = parseChallenges(res.headers['www-authenticate']);
    const cred = credentials(this.auth);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      this.authorization = `Bearer ${await this.token(bearer.params, cred)}`;
    } else if (challenges.some((c) => c.scheme === 'basic')) {
      if (cred) this.authorization = `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
      else this.basicMissing = true;
    }
  }

  /** A token from the realm for the session's scopes (anonymous when there are no credentials). */
  private async token(params: Record<string, string>, cred: { username: string; password: string } | undefined): Promise<string> {
    if (this.auth.registrytoken) return this.auth.registrytoken;
    const realm = params.realm;
    if (!realm) throw new Error('bearer challenge without a realm');
    const u = new URL(realm);
    if (params.service) u.searchParams.set('service', params.service);
    for (const s of this.scopes) u.searchParams.append('scope', s);
    const headers: Record<string, string> = { 'user-agent': 'berth/0.1.0' };
    let method: Dispatcher.HttpMethod = 'GET';
    let body: string | undefined;
    if (this.auth.identitytoken) {
      // An identity token is an OAuth2 refresh token (distribution's token spec).
      method = 'POST';
      headers['content-type'] = 'application/x-www-form-urlencoded';
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.auth.identitytoken, client_id: 'berth', service: params.service ?? '' });
      for (const s of this.scopes) form.append('scope', s);
      body = form.toString();
    } else if (cred) {
      headers.authorization = `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
      u.searchParams.set('account', cred.username);
    }
    let res: Response;
    try {
      res = await request(method === 'POST' ? realm : u.toString(), { method, headers, body, dispatcher: agent });
    } catch (e) {
      throw transportError(method, u.toString(), e);
    }
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      if (res.statusCode === 401) throw new Error('unauthorized: incorrect username or password');
      throw registryError(res.statusCode, '', text, `fetching token from ${u.origin}`);
    }
    const parsed = JSON.parse(text) as { token?: string; access_token?: string };
    const token = parsed.token || parsed.access_token;
    if (!token) throw new Error(`the token server ${u.origin} answered without a token`);
    this.log.debug({ realm: u.origin, scopes: this.scopes }, 'registry token obtained');
    return token;
  }
}
