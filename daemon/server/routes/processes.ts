// A running container's processes: top, stats (stream and one-shot), pause, unpause.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ContainerManager } from '../../containers/manager';
import { statsJson, takeSample, type Sample } from '../../containers/stats';
import { top } from '../../containers/top';
import { qbool } from '../app';

type Req = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string> }>;

/** dockerd's collection interval. */
const INTERVAL = 1000;

export function registerProcessRoutes(app: FastifyInstance, containers: ContainerManager): void {
  app.get('/containers/:id/top', async (req: Req) => {
    const c = containers.find(req.params.id);
    const pids = await containers.pids(c);
    return top(pids, req.query.ps_args || '-ef');
  });

  app.post('/containers/:id/pause', async (req: Req, reply) => {
    await containers.pause(containers.find(req.params.id));
    return reply.code(204).send();
  });

  app.post('/containers/:id/unpause', async (req: Req, reply) => {
    await containers.unpause(containers.find(req.params.id));
    return reply.code(204).send();
  });

  app.get('/containers/:id/stats', async (req: Req, reply) => {
    const c = containers.find(req.params.id);
    const stream = req.query.stream === undefined ? true : qbool(req.query.stream);
    const oneShot = qbool(req.query['one-shot']);
    const sample = async (): Promise<Sample | undefined> => {
      const cg = await containers.cgroupStats(c);
      return cg ? takeSample(c, cg) : undefined;
    };
    if (!stream) {
      const first = await sample();
      // Without one-shot, dockerd primes the CPU numbers with a first sample a second earlier.
      if (!first || oneShot) return reply.send(statsJson(c, first, undefined));
      await delay(INTERVAL);
      const second = await sample();
      return reply.send(statsJson(c, second, second ? first : undefined));
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.43' });
    let closed = false;
    res.on('close', () => (closed = true));
    let pre: Sample | undefined;
    while (!closed) {
      const cur = await sample();
      res.write(JSON.stringify(statsJson(c, cur, pre)) + '\n');
      pre = cur;
      await delay(INTERVAL);
    }
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
