// The Engine API server: versioned and unversioned paths, Docker's error bodies and headers.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ApiError } from './errors';

export const API_VERSION = '1.43';
export const MIN_API_VERSION = '1.24';
export const BERTH_VERSION = '0.1.0';

const VERSIONED = /^\/v(\d+\.\d+)(\/.*)$/;

function versionLess(a: string, b: string): boolean {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1 < b1 || (a1 === b1 && a2 < b2);
}

export function createApp(log: Logger): FastifyInstance {
  // pino's Logger and fastify's base logger type differ only in optional members.
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    // /_ping declares its own HEAD route (Docker's HEAD /_ping has no body but the same headers).
    exposeHeadRoutes: false,
    bodyLimit: 64 * 1024 * 1024,
    // Docker accepts `/containers/x/json/` and `/containers/x/json` alike.
    routerOptions: { ignoreTrailingSlash: true },
    rewriteUrl: (req) => {
      const url = req.url ?? '/';
      const m = VERSIONED.exec(url);
      if (!m) return url;
      (req as { apiVersion?: string }).apiVersion = m[1];
      return m[2];
    },
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('Api-Version', API_VERSION);
    reply.header('Docker-Experimental', 'false');
    reply.header('Ostype', 'linux');
    reply.header('Server', `Berth/${BERTH_VERSION} (linux)`);
    const version = (req.raw as { apiVersion?: string }).apiVersion;
    if (version && versionLess(API_VERSION, version)) {
      throw new ApiError(400, `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
    }
    if (version && versionLess(version, MIN_API_VERSION)) {
      throw new ApiError(400, `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
    }
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body).trim();
    if (!text) return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch (e) {
      done(new ApiError(400, `invalid JSON: ${(e as Error).message}`), undefined);
    }
  });
  // Tar archives and other bodies stay unread: handlers stream them from request.raw.
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

  app.setReplySerializer((payload) => JSON.stringify(payload) + '\n');
  // The Go client decodes error bodies only when the type is exactly application/json.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (reply.getHeader('content-type') === 'application/json; charset=utf-8') reply.header('content-type', 'application/json');
    return payload;
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status = err instanceof ApiError ? err.statusCode : (err.statusCode ?? 500);
    if (status >= 500) req.log.error({ err, url: req.url }, 'request failed');
    if (status === 304) return reply.code(304).send();
    return reply.code(status).send({ message: err.message });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ message: 'page not found' }));
  return app;
}

/** Query booleans as Docker parses them: 1/true/True, anything else false. */
export function qbool(v: unknown): boolean {
  return v === '1' || v === 'true' || v === 'True' || v === 'TRUE';
}

export function qint(v: unknown, name: string, fallback: number): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ApiError(400, `invalid value for ${name}: ${String(v)}`);
  return n;
}

/** The `filters` query parameter: JSON of name -> [values] (or the legacy name -> {value: true}). */
export function parseFilters(v: unknown): Record<string, string[]> {
  if (!v) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(String(v));
  } catch {
    throw new ApiError(400, `invalid filter '${String(v)}'`);
  }
  if (typeof raw !== 'object' || raw === null) throw new ApiError(400, `invalid filter '${String(v)}'`);
  const out: Record<string, string[]> = {};
  for (const [k, val] of Object.entries(raw as Record<string, unknown>)) {
    out[k] = Array.isArray(val) ? val.map(String) : Object.keys(val as object);
  }
  return out;
}
