// /containers/{id}/exec and /exec/*: create, start (hijacked), inspect, resize.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Duplex } from 'stream';
import type { ExecConfig, ExecManager } from '../../containers/exec';
import { frame } from '../../containers/logs';
import type { ContainerManager } from '../../containers/manager';
import { qint } from '../app';
import { badRequest, conflict } from '../errors';
import { writeUpgrade, type HijackRouter } from '../hijack';

type Json = Record<string, unknown>;

function strings(v: unknown, name: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw badRequest(`json: cannot unmarshal ${name}: expected a list of strings`);
  return v as string[];
}

function bool(v: unknown, name: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw badRequest(`json: cannot unmarshal ${name}: expected a boolean`);
  return v;
}

function str(v: unknown, name: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw badRequest(`json: cannot unmarshal ${name}: expected a string`);
  return v;
}

/** The h and w query parameters of the resize endpoints. */
export function terminalSize(q: Record<string, string>): [number, number] {
  const h = qint(q.h, 'h', 0);
  const w = qint(q.w, 'w', 0);
  if (h < 0 || w < 0 || h > 65535 || w > 65535) throw badRequest(`invalid terminal size ${q.h}x${q.w}`);
  return [h, w];
}

export function parseExecConfig(body: unknown): ExecConfig {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('exec configuration is missing');
  const b = body as Json;
  const cmd = strings(b.Cmd, 'Cmd');
  if (cmd.length === 0) throw badRequest('No exec command specified');
  return {
    AttachStdin: bool(b.AttachStdin, 'AttachStdin'),
    AttachStdout: bool(b.AttachStdout, 'AttachStdout'),
    AttachStderr: bool(b.AttachStderr, 'AttachStderr'),
    Tty: bool(b.Tty, 'Tty'),
    Env: strings(b.Env, 'Env'),
    Cmd: cmd,
    Privileged: bool(b.Privileged, 'Privileged'),
    User: str(b.User, 'User'),
    WorkingDir: str(b.WorkingDir, 'WorkingDir'),
    DetachKeys: str(b.DetachKeys, 'DetachKeys'),
    ...(Array.isArray(b.ConsoleSize) && b.ConsoleSize.length === 2 && b.ConsoleSize.every((n) => Number.isInteger(n)) ? { ConsoleSize: b.ConsoleSize as [number, number] } : {}),
  };
}

export function registerExecRoutes(app: FastifyInstance, hijack: HijackRouter, deps: { containers: ContainerManager; execs: ExecManager }): void {
  const { containers, execs } = deps;

  app.post('/containers/:id/exec', async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const c = containers.find(req.params.id);
    const inst = execs.create(c, parseExecConfig(req.body));
    return reply.code(201).send({ Id: inst.ID });
  });

  app.get('/exec/:id/json', async (req: FastifyRequest<{ Params: { id: string } }>) => execs.inspect(execs.get(req.params.id)));

  app.post('/exec/:id/resize', async (req: FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string> }>, reply) => {
    const inst = execs.get(req.params.id);
    const [h, w] = terminalSize(req.query);
    execs.resize(inst, h, w);
    return reply.code(200).send();
  });

  /** Streams the exec's output on a hijacked socket until it exits. */
  const attach = (id: string, socket: Duplex): void => {
    const inst = execs.get(id);
    const c = containers.find(inst.ContainerID);
    if (c.State.Paused) throw conflict(`Container ${c.Id} is paused, unpause the container before exec`);
    writeUpgrade(socket, !inst.config.Tty);
    const want = { stdout: inst.config.AttachStdout, stderr: inst.config.AttachStderr };
    execs
      .start(
        c,
        inst,
        {
          data: (stream, chunk) => {
            if (want[stream] && socket.writable) socket.write(inst.config.Tty ? chunk : frame(stream, chunk));
          },
          end: () => socket.end(),
        },
        inst.config.AttachStdin ? socket : null,
      )
      .catch((e: Error) => {
        if (socket.writable) socket.end(frame('stderr', Buffer.from(`${e.message}\n`)));
      });
  };

  hijack.add('/exec/:id/start', (params, _query, socket, body) => {
    const opts = (body ? JSON.parse(body) : {}) as Json;
    if (opts.Detach === true) throw badRequest('detached exec start needs no upgrade');
    attach(params.id, socket);
  });

  app.post('/exec/:id/start', async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const opts = (req.body ?? {}) as Json;
    const inst = execs.get(req.params.id);
    const c = containers.find(inst.ContainerID);
    if (opts.Detach === true) {
      // Output of a detached exec goes nowhere, as with Docker.
      void execs.start(c, inst, { data: () => undefined, end: () => undefined }, null).catch(() => undefined);
      return reply.code(200).send();
    }
    if (!c.State.Running) throw badRequest(`Container ${c.Id} is not running`);
    reply.hijack();
    attach(req.params.id, req.raw.socket);
  });
}
