// /containers/*: create, list, inspect, start, stop, restart, kill, wait, remove, logs, attach.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Duplex } from 'stream';
import { cpus } from 'os';
import { buildContainer, verifyRealtime, type ImageDefaults } from '../../containers/create';
import { verifyUpdate } from '../../containers/update';
import { verifyCpusets } from '../../containers/cpuset';
import { inspectContainer, summarizeContainer } from '../../containers/inspect';
import { entryWanted, frame, logRotation, logsDisabled, readLogs, type LogEntry, type StreamName } from '../../containers/logs';
import { parseEventTime } from '../../events/filter';
import { signalNumber, type ContainerManager, type WaitCondition } from '../../containers/manager';
import { impliesAll, listFilter } from '../../containers/list-filters';
import { generateName, validName } from '../../containers/names';
import type { ContainerRecord } from '../../containers/record';
import { parseFilters, qbool, qint } from '../app';
import { ApiError, badRequest, conflict, notFound } from '../errors';
import { writeUpgrade, type HijackRouter } from '../hijack';
import { terminalSize } from './exec';
import { DEFAULT_DETACH_KEYS, DetachScanner, parseDetachKeys } from '../detach-keys';

export interface ContainerDeps {
  containers: ContainerManager;
  /** Resolves an image reference for create; undefined when it is not present. */
  resolveImage(ref: string): ImageDefaults | undefined;
  /** Docker's normalised familiar name for the not-found message (`busybox:latest`). */
  familiarName(ref: string): string;
  inspectContext(c: ContainerRecord): Parameters<typeof inspectContainer>[1];
  /** ID of a network by name, for the Networks of list items. */
  networkId(name: string): string;
  /** The writable layer's size and the image's, for `size=1`. */
  sizes(c: ContainerRecord): { rw: number; image: number };
  /** Works out the new container's mounts and makes its volumes; `undo` removes those made. */
  attachMounts(c: ContainerRecord): { undo(): void };
}

type Req = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string> }>;

export function registerContainerRoutes(app: FastifyInstance, hijack: HijackRouter, deps: ContainerDeps): void {
  const { containers } = deps;

  app.post('/containers/create', async (req: FastifyRequest<{ Querystring: Record<string, string> }>, reply) => {
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('Config cannot be empty in order to create a container');
    const config = body as Record<string, unknown>;
    const imageRef = config.Image;
    if (typeof imageRef !== 'string' || !imageRef) throw badRequest('Config cannot be empty in order to create a container');
    verifyRealtime(config, containers.supportsCpuRealtime());
    let name = req.query.name;
    if (name !== undefined && name !== '') {
      if (!validName(name)) throw badRequest(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      name = name.replace(/^\//, '');
    } else {
      name = generateName((n) => containers.nameTaken(n));
    }
    const image = deps.resolveImage(imageRef);
    if (!image) throw notFound(`No such image: ${deps.familiarName(imageRef)}`);
    const record = buildContainer(config, name, image);
    const cpusetWarnings = verifyCpusets(record.HostConfig, containers.cpusetInfo());
    logRotation(record.HostConfig.LogConfig);
    const mounts = deps.attachMounts(record);
    let warnings: string[];
    try {
      warnings = [...cpusetWarnings, ...containers.add(record)];
    } catch (e) {
      mounts.undo();
      throw e;
    }
    return reply.code(201).send({ Id: record.Id, Warnings: warnings });
  });

  app.get('/containers/json', async (req: FastifyRequest<{ Querystring: Record<string, string> }>) => {
    const all = qbool(req.query.all);
    const limit = qint(req.query.limit, 'limit', -1);
    const filters = parseFilters(req.query.filters);
    const ordered = containers.list().sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created) || (b.Created > a.Created ? 1 : -1));
    const wanted = listFilter(filters, { ordered, find: (ref) => containers.find(ref), imageId: (ref) => deps.resolveImage(ref)?.id });
    let list = ordered.map((c) => ({ c, s: summarizeContainer(c, deps.networkId, (ref) => deps.resolveImage(ref)?.id) }));
    if (!all && limit <= 0 && !impliesAll(filters)) list = list.filter(({ c }) => c.State.Running);
    list = list.filter(({ c, s }) => wanted(c, s));
    if (limit > 0) list = list.slice(0, limit);
    if (!qbool(req.query.size)) return list.map(({ s }) => s);
    return list.map(({ c, s }) => withSizes(s, deps.sizes(c)));
  });

  app.get('/containers/:id/json', async (req: Req) => {
    const c = containers.find(req.params.id);
    return inspectContainer(c, deps.inspectContext(c));
  });

  app.post('/containers/:id/start', async (req: Req, reply) => {
    await containers.start(containers.find(req.params.id));
    return reply.code(204).send();
  });

  app.post('/containers/:id/stop', async (req: Req, reply) => {
    const c = containers.find(req.params.id);
    const t = req.query.t === undefined ? undefined : qint(req.query.t, 't', 10);
    if (req.query.signal) signalNumber(req.query.signal);
    await containers.stop(c, t, req.query.signal);
    return reply.code(204).send();
  });

  app.post('/containers/:id/restart', async (req: Req, reply) => {
    const c = containers.find(req.params.id);
    await containers.restart(c, req.query.t === undefined ? undefined : qint(req.query.t, 't', 10));
    return reply.code(204).send();
  });

  app.post('/containers/:id/update', async (req: Req) => {
    // As dockerd: the values are checked before the container is looked up.
    const { req: update, warnings } = verifyUpdate(req.body ?? {}, { ncpu: cpus().length, blkioWeight: containers.supportsBlkioWeight(), cpuset: containers.cpusetInfo() });
    await containers.update(containers.find(req.params.id), update);
    return { Warnings: warnings };
  });

  app.post('/containers/:id/resize', async (req: Req, reply) => {
    const c = containers.find(req.params.id);
    const [h, w] = terminalSize(req.query);
    containers.resize(c, h, w);
    return reply.code(200).send();
  });

  app.post('/containers/:id/kill', async (req: Req, reply) => {
    const c = containers.find(req.params.id);
    containers.kill(c, req.query.signal || 'SIGKILL');
    return reply.code(204).send();
  });

  app.post('/containers/:id/wait', async (req: Req, reply: FastifyReply) => {
    const c = containers.find(req.params.id);
    const condition = (req.query.condition || 'not-running') as WaitCondition;
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw badRequest(`invalid condition: "${condition}"`);
    const result = containers.wait(c, condition);
    // Headers go out before the wait: the docker CLI blocks on them before it starts the container.
    reply.hijack();
    reply.raw.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.43' });
    reply.raw.flushHeaders();
    const closed = new Promise<void>((resolve) => reply.raw.on('close', resolve));
    await Promise.race([result.then((r) => reply.raw.end(JSON.stringify(r) + '\n')), closed]);
  });

  app.delete('/containers/:id', async (req: Req, reply) => {
    const c = containers.find(req.params.id);
    await containers.remove(c, { force: qbool(req.query.force), volumes: qbool(req.query.v) });
    return reply.code(204).send();
  });

  app.get('/containers/:id/logs', async (req: Req, reply: FastifyReply) => {
    const c = containers.find(req.params.id);
    const q = req.query;
    const stdout = qbool(q.stdout);
    const stderr = qbool(q.stderr);
    if (!stdout && !stderr) throw badRequest('Bad parameters: you must choose at least one stream');
    if (logsDisabled(c.HostConfig.LogConfig)) throw new ApiError(501, 'configured logging driver does not support reading');
    // As dockerd: a tail that is not a number means all of it.
    const tail = /^\d+$/.test(q.tail ?? '') ? Number(q.tail) : -1;
    const query = { stdout, stderr, tail, since: logTime(q.since, 'since'), until: logTime(q.until, 'until') };
    const timestamps = qbool(q.timestamps);
    const encode = (e: LogEntry): Buffer => {
      const payload = Buffer.from(timestamps ? `${e.time} ${e.log}` : e.log);
      return c.Config.Tty ? payload : frame(e.stream, payload);
    };
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'Content-Type': c.Config.Tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream',
      'Api-Version': '1.43',
    });
    // Reading the file and subscribing happen in one synchronous stretch: no line is lost or doubled.
    for (const e of readLogs(containers.logPath(c), query)) res.write(encode(e));
    const nowNano = BigInt(Date.now()) * 1_000_000n;
    if (!qbool(q.follow) || (query.until !== undefined && query.until <= nowNano)) return res.end();
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      stop?.();
      if (timer) clearTimeout(timer);
      if (!res.writableEnded) res.end();
    };
    const stop = containers.followLogs(c, (e) => {
      if (entryWanted(e, { ...query, tail: -1 })) res.write(encode(e));
    }, finish);
    if (!stop) return res.end();
    if (query.until !== undefined) timer = setTimeout(finish, Number((query.until - nowNano) / 1_000_000n));
    res.on('close', finish);
  });

  const attach = (id: string, q: URLSearchParams, socket: Duplex): void => {
    const c = containers.find(id);
    if (c.State.Paused) throw conflict('You cannot attach to a paused container, unpause it first');
    const want = { stdout: qbool(q.get('stdout')), stderr: qbool(q.get('stderr')) };
    writeUpgrade(socket, !c.Config.Tty);
    containers.emitEvent(c, 'attach');
    const send = (stream: StreamName, chunk: Buffer): void => {
      if (want[stream] && socket.writable) socket.write(c.Config.Tty ? chunk : frame(stream, chunk));
    };
    if (qbool(q.get('logs'))) {
      for (const e of readLogs(containers.logPath(c), { ...want, tail: -1 })) send(e.stream, Buffer.from(e.log));
    }
    if (!qbool(q.get('stream'))) {
      socket.end();
      return;
    }
    const stop = containers.listen(c, { data: send, end: () => socket.end() });
    socket.on('close', stop);
    socket.on('error', stop);
    if (qbool(q.get('stdin')) && c.Config.OpenStdin) {
      const scanner = new DetachScanner(parseDetachKeys(q.get('detachKeys') || DEFAULT_DETACH_KEYS));
      socket.on('data', (d: Buffer) => {
        const { forward, detach } = scanner.feed(d);
        if (forward.length) containers.writeStdin(c, forward);
        if (detach) {
          stop();
          socket.end();
        }
      });
      socket.on('end', () => {
        if (c.Config.StdinOnce) containers.writeStdin(c, null);
      });
    }
  };
  hijack.add('/containers/:id/attach', (params, query, socket) => attach(params.id, query, socket));
  // Clients that do not ask for an upgrade (curl) still get the stream on the same connection.
  app.post('/containers/:id/attach', async (req: Req, reply) => {
    if (containers.find(req.params.id).State.Paused) throw conflict('You cannot attach to a paused container, unpause it first');
    reply.hijack();
    attach(req.params.id, new URLSearchParams(req.query), req.raw.socket);
  });
}

/** SizeRw and SizeRootFs go after Ports, as in dockerd's list entry; zero sizes are left out (omitempty). */
function withSizes(s: Record<string, unknown>, sizes: { rw: number; image: number }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    out[k] = v;
    if (k === 'Ports') {
      if (sizes.rw) out.SizeRw = sizes.rw;
      if (sizes.rw + sizes.image) out.SizeRootFs = sizes.rw + sizes.image;
    }
  }
  return out;
}

/** since/until of the logs endpoint: `seconds[.nanoseconds]`, 0 meaning unbounded. */
function logTime(v: string | undefined, name: string): bigint | undefined {
  const t = parseEventTime(v, name);
  return t === 0n ? undefined : t;
}
