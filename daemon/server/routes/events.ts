// GET /events: past events from the bus's memory (since/until), then live ones, filtered.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EventBus, EventMessage } from '../../events/bus';
import { eventMatches, parseEventTime, validateEventFilters } from '../../events/filter';
import { parseFilters } from '../app';

export function registerEventRoutes(app: FastifyInstance, bus: EventBus): void {
  app.get('/events', async (req: FastifyRequest<{ Querystring: Record<string, string> }>, reply) => {
    const since = parseEventTime(req.query.since, 'since');
    const until = parseEventTime(req.query.until, 'until');
    const filters = parseFilters(req.query.filters);
    validateEventFilters(filters);
    const wanted = (ev: EventMessage): boolean => eventMatches(ev, filters);
    const nowNano = BigInt(Date.now()) * 1_000_000n;

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.43' });
    res.flushHeaders();
    const send = (ev: EventMessage): void => {
      if (wanted(ev)) res.write(bus.encode(ev) + '\n');
    };
    // History and subscription happen in one synchronous stretch: no event can fall between them.
    const onlyPast = until !== undefined && until <= nowNano;
    if (since !== undefined || until !== undefined) {
      for (const ev of bus.history()) {
        const t = bus.nanoOf(ev);
        if ((since === undefined || t >= since) && (until === undefined || t <= until)) send(ev);
      }
    }
    if (onlyPast) return res.end();
    const unsubscribe = bus.subscribe((ev) => {
      if (until === undefined || bus.nanoOf(ev) <= until) send(ev);
    });
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      unsubscribe();
      if (timer) clearTimeout(timer);
      if (!res.writableEnded) res.end();
    };
    if (until !== undefined) timer = setTimeout(finish, Number((until - nowNano) / 1_000_000n));
    res.on('close', finish);
  });
}
