// docker cp and docker diff: /containers/{id}/archive (HEAD, GET, PUT) and /containers/{id}/changes.
import { mkdirSync, rmSync } from 'fs';
import { randomBytes } from 'crypto';
import * as libc from '../../../native/libc';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ContainerManager, MountHooks } from '../../containers/manager';
import type { ContainerRecord } from '../../containers/record';
import type { PathStat } from '../../files/archive';
import { containerChanges } from '../../files/changes';
import { runHelper, type HelperRun } from '../../files/client';
import type { HelperMount, HelperSpec } from '../../files/helper';
import { qbool } from '../app';
import { badRequest } from '../errors';

type Req = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string> }>;

export interface FilesDeps {
  containers: ContainerManager;
  /** The volume code's view of a container's mounts: a stopped container's are bound for cp too. */
  mounts: Pick<MountHooks, 'prepare' | 'release'>;
  containerDir(id: string): string;
  layersRoot: string;
  execRoot: string;
}

const statHeader = (stat: PathStat): string => Buffer.from(JSON.stringify(stat)).toString('base64');

export function registerFileRoutes(app: FastifyInstance, deps: FilesDeps): void {
  const { containers } = deps;
  /**
   * Runs the helper in the container's root: its live root while it runs, else its overlay, mounted
   * privately by the helper while the manager holds the stopped filesystem (a start waits for it).
   */
  const helper = (c: ContainerRecord, ref: string, op: Omit<HelperSpec, 'root'>, use: (run: HelperRun) => Promise<void>): Promise<void> =>
    containers.withFilesystem(c, async (pid) => {
      if (pid !== null) {
        const run = await runHelper({ ...op, root: { pid } }, ref);
        return use(run).finally(() => run.kill());
      }
      const mountpoint = `${deps.execRoot}/cp/${randomBytes(8).toString('hex')}`;
      mkdirSync(mountpoint, { recursive: true });
      let run: HelperRun | undefined;
      let prepared = false;
      try {
        // tmpfs mounts hold nothing while the container is stopped: dockerd skips them too.
        const mounts: HelperMount[] = deps.mounts
          .prepare(c)
          .filter((m) => m.fstype === null)
          .map((m) => ({ source: m.source, target: m.target, readonly: (m.flags & libc.MS_RDONLY) !== 0, file: m.file === true }));
        prepared = true;
        const dir = deps.containerDir(c.Id);
        const overlay = { layersRoot: deps.layersRoot, lower: containers.lowerDirs(c), upper: `${dir}/rw/upper`, work: `${dir}/rw/work`, mountpoint, mounts };
        run = await runHelper({ ...op, root: { overlay } }, ref);
        await use(run);
      } finally {
        run?.kill();
        await run?.exited;
        if (prepared) deps.mounts.release(c);
        rmSync(mountpoint, { recursive: true, force: true });
      }
    });

  const pathOf = (req: Req): string => {
    const path = req.query.path;
    if (!path) throw badRequest('Path cannot be empty');
    return path;
  };

  app.head('/containers/:id/archive', async (req: Req, reply: FastifyReply) => {
    const c = containers.find(req.params.id);
    let stat: PathStat | undefined;
    await helper(c, req.params.id, { op: 'stat', path: pathOf(req) }, async (run) => {
      stat = run.stat;
    });
    return reply.code(200).header('X-Docker-Container-Path-Stat', statHeader(stat as PathStat)).header('Content-Type', 'application/x-tar').send();
  });

  app.get('/containers/:id/archive', async (req: Req, reply: FastifyReply) => {
    const c = containers.find(req.params.id);
    await helper(c, req.params.id, { op: 'get', path: pathOf(req) }, async (run) => {
      containers.emitEvent(c, 'archive-path');
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'Content-Type': 'application/x-tar', 'X-Docker-Container-Path-Stat': statHeader(run.stat as PathStat), 'Api-Version': '1.43' });
      await new Promise<void>((resolve) => {
        run.body.on('error', () => {
          res.destroy();
          resolve();
        });
        res.on('close', resolve);
        run.body.pipe(res);
      });
    });
  });

  app.put('/containers/:id/archive', async (req: Req, reply: FastifyReply) => {
    const c = containers.find(req.params.id);
    const path = pathOf(req);
    const extract = { noOverwriteDirNonDir: qbool(req.query.noOverwriteDirNonDir), copyUIDGID: qbool(req.query.copyUIDGID) };
    const writable = {
      readonlyRootfs: c.HostConfig.ReadonlyRootfs === true,
      mounts: (c.MountPoints ?? []).filter((m) => !m.Hidden).map((m) => ({ destination: m.Destination, rw: m.RW })),
    };
    await helper(c, req.params.id, { op: 'put', path, extract, writable }, async (run) => {
      req.raw.pipe(run.input);
      await run.result;
    });
    containers.emitEvent(c, 'extract-to-dir');
    return reply.code(200).send();
  });

  app.get('/containers/:id/changes', async (req: Req) => {
    const c = containers.find(req.params.id);
    const changes = containerChanges(`${deps.containerDir(c.Id)}/rw/upper`, containers.imageLayers(c));
    return changes.length ? changes : null;
  });
}
