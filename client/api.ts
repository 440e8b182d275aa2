// The client's only link to the daemon: HTTP/1.1 to the Engine API (v1.43) over a Unix socket
// or TCP, with the docker CLI's error wording, plus hijacked connections for attach.

import * as net from 'net';
import type { Readable } from 'stream';
import { Pool } from 'undici';

export const API_VERSION = '1.43';
export const DEFAULT_HOST = 'unix:///run/berth.sock';
export const CLIENT_VERSION = '0.1.0';

export interface HostSpec {
  /** The address as the user gave it (or the default), used in messages. */
  url: string;
  socketPath?: string;
  hostname?: string;
  port?: number;
}

/** Parses -H/--host or DOCKER_HOST: unix:///path, tcp://host:port, or host:port. */
export function parseHost(value: string | undefined): HostSpec {
  const v = (value ?? '').trim();
  if (v === '') return { url: DEFAULT_HOST, socketPath: DEFAULT_HOST.slice('unix://'.length) };
  const sep = v.indexOf('://');
  const proto = sep < 0 ? 'tcp' : v.slice(0, sep).toLowerCase();
  const addr = sep < 0 ? v : v.slice(sep + 3);
  if (proto === 'unix') {
    const path = addr === '' ? DEFAULT_HOST.slice('unix://'.length) : addr;
    return { url: `unix://${path}`, socketPath: path };
  }
  if (proto === 'tcp' || proto === 'http') {
    const hostPort = addr.replace(/\/.*$/, '');
    const m = /^(\[[^\]]+\]|[^:]*)(?::(\d+))?$/.exec(hostPort);
    if (!m) throw new Error(`Invalid bind address format: ${v}`);
    const hostname = (m[1] || '127.0.0.1').replace(/^\[|\]$/g, '');
    const port = m[2] ? Number(m[2]) : 2375;
    return { url: `tcp://${m[1] || '127.0.0.1'}:${port}`, hostname, port };
  }
  throw new Error(`Invalid bind address format: ${v}`);
}

/** An error response from the daemon ("Error response from daemon: <message>"). */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly daemonMessage: string,
    message = `Error response from daemon: ${daemonMessage}`,
  ) {
    super(message);
  }
}

/** The daemon could not be reached at all. */
export class ConnectionError extends Error {}

export type QueryValue = string | number | boolean | undefined | null | string[];
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  /** A JSON body (objects), raw bytes, or a stream. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable & { text(): Promise<string> };
}

function buildQuery(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v) params.append(k, item);
    else if (typeof v === 'boolean') params.set(k, v ? '1' : '0');
    else params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

function header(h: Record<string, string | string[] | undefined>, name: string): string {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

/** Turns an error response body into the docker CLI's error (client.checkResponseErr). */
export function responseError(statusCode: number, contentType: string, body: string, reqURL: string): Error {
  const statusMsg = `${statusCode} ${STATUS_TEXT[statusCode] ?? ''}`.trim();
  if (body.length === 0) {
    return new ApiError(statusCode, '', `request returned ${statusMsg} for API route and version ${reqURL}, check if the server supports the requested API version`);
  }
  if (contentType.split(';')[0].trim() === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (e) {
      return new ApiError(statusCode, '', `Error reading JSON: ${(e as Error).message}`);
    }
    const message = typeof parsed === 'object' && parsed !== null ? (parsed as { message?: unknown }).message : undefined;
    if (typeof message !== 'string' || message === '') {
      return new ApiError(statusCode, '', `Error response from daemon: API returned a ${statusCode} (${STATUS_TEXT[statusCode] ?? ''}) but provided no error-message`);
    }
    return new ApiError(statusCode, message.trim());
  }
  return new ApiError(statusCode, body.trim());
}

function isConnectFailure(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTDIR' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND' || code === 'ECONNRESET' || code === 'UND_ERR_CONNECT_TIMEOUT';
}

export class ApiClient {
  private pool: Pool | undefined;

  constructor(readonly host: HostSpec) {}

  private dispatcher(): Pool {
    if (!this.pool) {
      const origin = this.host.socketPath ? 'http://localhost' : `http://${this.host.hostname?.includes(':') ? `[${this.host.hostname}]` : this.host.hostname}:${this.host.port}`;
      this.pool = new Pool(origin, {
        connect: this.host.socketPath ? { socketPath: this.host.socketPath } : {},
        // Streams (wait, logs -f, attach-less runs, pulls) can be silent for as long as they like.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
    }
    return this.pool;
  }

  connectionError(e: unknown): Error {
    const code = (e as { code?: string }).code;
    if (code === 'EACCES' || code === 'EPERM') {
      return new ConnectionError(`permission denied while trying to connect to the berth daemon socket at ${this.host.url}: ${(e as Error).message}`);
    }
    return new ConnectionError(`Cannot connect to the berth daemon at ${this.host.url}. Is the daemon running?`);
  }

  private reqURL(path: string): string {
    const origin = this.host.socketPath ? `http://${encodeURIComponent(this.host.socketPath)}` : `http://${this.host.hostname}:${this.host.port}`;
    return origin + path;
  }

  /** Sends a request; a status >= 400 becomes an ApiError with the daemon's message. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    const fullPath = `/v${API_VERSION}${path}${buildQuery(opts.query)}`;
    const headers: Record<string, string> = { 'User-Agent': `berth/${CLIENT_VERSION}`, ...opts.headers };
    let body: string | Buffer | Readable | undefined;
    if (opts.body !== undefined) {
      if (Buffer.isBuffer(opts.body) || typeof opts.body === 'string' || isReadable(opts.body)) {
        body = opts.body as string | Buffer | Readable;
      } else {
        body = JSON.stringify(opts.body);
        headers['Content-Type'] ??= 'application/json';
      }
    } else if (method === 'POST') {
      // Like the Go client: an empty POST still says what it (doesn't) carry.
      headers['Content-Type'] ??= 'text/plain';
    }
    let res;
    try {
      res = await this.dispatcher().request({ method: method as 'GET', path: fullPath, headers, body });
    } catch (e) {
      if (isConnectFailure(e) || (e as { code?: string }).code === 'EACCES') throw this.connectionError(e);
      throw e;
    }
    const resHeaders = res.headers as Record<string, string | string[] | undefined>;
    if (res.statusCode >= 400) {
      const text = await res.body.text();
      throw responseError(res.statusCode, header(resHeaders, 'content-type'), text, this.reqURL(fullPath));
    }
    return { statusCode: res.statusCode, headers: resHeaders, body: res.body as unknown as ApiResponse['body'] };
  }

  /** A request whose JSON response is parsed. */
  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    const text = await res.body.text();
    return (text.trim() === '' ? undefined : JSON.parse(text)) as T;
  }

  /** A request whose response body is returned as text (inspect keeps the daemon's bytes). */
  async text(method: string, path: string, opts: RequestOptions = {}): Promise<string> {
    const res = await this.request(method, path, opts);
    return res.body.text();
  }

  /**
   * A hijacked connection (attach): the request asks for `Upgrade: tcp`, the daemon answers
   * `101`, and from then on the socket carries the raw stream. `head` holds stream bytes that
   * arrived together with the response headers.
   */
  hijack(path: string, query: Query): Promise<{ socket: net.Socket; head: Buffer; contentType: string }> {
    const fullPath = `/v${API_VERSION}${path}${buildQuery(query)}`;
    return new Promise((resolve, reject) => {
      const socket = this.host.socketPath ? net.connect({ path: this.host.socketPath }) : net.connect({ host: this.host.hostname, port: this.host.port ?? 2375 });
      let buf = Buffer.alloc(0);
      let done = false;
      const fail = (e: Error): void => {
        if (done) return;
        done = true;
        socket.destroy();
        reject(e);
      };
      socket.once('error', (e) => fail(isConnectFailure(e) || (e as { code?: string }).code === 'EACCES' ? this.connectionError(e) : e));
      socket.once('connect', () => {
        socket.write(
          `POST ${fullPath} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: berth/${CLIENT_VERSION}\r\nContent-Type: text/plain\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
        );
      });
      const onData = (chunk: Buffer): void => {
        buf = Buffer.concat([buf, chunk]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const rest = buf.subarray(end + 4);
        const lines = head.split('\r\n');
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1] ?? 0);
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        if (status === 101 || status === 200) {
          done = true;
          socket.removeListener('data', onData);
          socket.removeAllListeners('error');
          resolve({ socket, head: rest, contentType: headers['content-type'] ?? '' });
          return;
        }
        // An error response: read its body (Content-Length, or until the daemon closes).
        socket.removeListener('data', onData);
        const length = headers['content-length'] !== undefined ? Number(headers['content-length']) : undefined;
        let body = rest;
        const finish = (): void => {
          const text = (length !== undefined ? body.subarray(0, length) : body).toString('utf8');
          if (status >= 400) fail(responseError(status, headers['content-type'] ?? '', text, this.reqURL(fullPath)));
          else fail(new Error(`unable to upgrade to tcp, received ${status}`));
        };
        if (length !== undefined && body.length >= length) return finish();
        socket.on('data', (c: Buffer) => {
          body = Buffer.concat([body, c]);
          if (length !== undefined && body.length >= length) finish();
        });
        socket.once('end', finish);
        socket.once('close', finish);
      };
      socket.on('data', onData);
      socket.once('close', () => fail(new Error('the daemon closed the attach connection before answering')));
    });
  }

  async close(): Promise<void> {
    const p = this.pool;
    this.pool = undefined;
    if (p) await p.destroy().catch(() => undefined);
  }
}

function isReadable(v: unknown): v is Readable {
  return typeof v === 'object' && v !== null && typeof (v as Readable).pipe === 'function' && typeof (v as Readable).on === 'function';
}
