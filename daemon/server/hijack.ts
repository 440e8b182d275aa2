// Hijacked connections (attach): clients that send `Upgrade: tcp` get the raw socket through the
// server's 'upgrade' event, so stdin bytes never reach the HTTP parser; others are hijacked in-route.
import type { IncomingMessage, Server } from 'http';
import type { Duplex } from 'stream';
import { API_VERSION } from './app';
import { ApiError } from './errors';

export type HijackHandler = (params: Record<string, string>, query: URLSearchParams, socket: Duplex) => void;

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
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const url = new URL(req.url ?? '/', 'http://berth');
      const path = url.pathname.replace(/^\/v\d+\.\d+/, '');
      for (const r of this.routes) {
        const m = r.pattern.exec(path);
        if (!m || req.method !== 'POST') continue;
        const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])]));
        try {
          r.handler(params, url.searchParams, socket);
        } catch (e) {
          writeError(socket, e);
        }
        return;
      }
      writeError(socket, new ApiError(404, 'page not found'));
    });
  }
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
