// Hijacked connections (attach): clients that send `Upgrade: tcp` get the raw socket through the
// server's 'upgrade' event, so stdin bytes never reach the HTTP parser; others are hijacked in-route.
import type { IncomingMessage, Server } from 'http';
import type { Duplex } from 'stream';
import { API_VERSION } from './app';
import { ApiError } from './errors';

export type HijackHandler = (params: Record<string, string>, query: URLSearchParams, socket: Duplex, body: string) => void;

interface Route {
  pattern: RegExp;
  keys: string[];
  handler: HijackHandler;
}

export class HijackRouter {
  private readonly routes: Route[] = [];
  /** Upgraded sockets leave the HTTP server's bookkeeping: closing the server must end them itself. */
  private readonly sockets = new Set<Duplex>();

  add(path: string, handler: HijackHandler): void {
    const keys: string[] = [];
    const pattern = new RegExp(
      '^' +
        path.replace(/:(\w+)/g, (_, k: string) => {
          keys.push(k);
          return '([^/]+)';
        }) +
        '$',
    );
    this.routes.push({ pattern, keys, handler });
  }

  /** Ends every hijacked connection (daemon shutdown). */
  closeAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const url = new URL(req.url ?? '/', 'http://berth');
      const path = url.pathname.replace(/^\/v\d+\.\d+/, '');
      const route = this.routes.find((r) => req.method === 'POST' && r.pattern.test(path));
      if (!route) {
        writeError(socket, new ApiError(404, 'page not found'));
        return;
      }
      const m = route.pattern.exec(path) as RegExpExecArray;
      const params = Object.fromEntries(route.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])]));
      readBody(socket, head, Number(req.headers['content-length'] ?? 0)).then(
        (body) => {
          try {
            route.handler(params, url.searchParams, socket, body);
          } catch (e) {
            writeError(socket, e);
          }
        },
        () => socket.destroy(),
      );
    });
  }
}

/** The request body (JSON options, a few bytes) from the bytes after the headers; the rest is stdin. */
function readBody(socket: Duplex, head: Buffer, length: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = head;
    const done = (): void => {
      socket.removeListener('data', onData);
      socket.removeListener('error', reject);
      if (buf.length > length) socket.unshift(buf.subarray(length));
      resolve(buf.subarray(0, length).toString('utf8'));
    };
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= length) done();
    };
    if (buf.length >= length) return done();
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

export function writeUpgrade(socket: Duplex, multiplexed: boolean): void {
  const type = multiplexed ? 'application/vnd.docker.multiplexed-stream' : 'application/vnd.docker.raw-stream';
  socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${type}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: ${API_VERSION}\r\n\r\n`);
}

function writeError(socket: Duplex, e: unknown): void {
  const status = e instanceof ApiError ? e.statusCode : 500;
  const body = JSON.stringify({ message: (e as Error).message }) + '\n';
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 409 ? 'Conflict' : 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nApi-Version: ${API_VERSION}\r\n\r\n${body}`,
  );
}
