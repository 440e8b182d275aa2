// /networks: list, inspect, create, remove, prune, connect and disconnect, in dockerd's shapes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ContainerManager } from '../../containers/manager';
import type { CreateNetworkRequest, EndpointConfig, NetworkManager } from '../../network/manager';
import type { NetworkRecord } from '../../network/store';
import { parseFilters, qbool } from '../app';
import { badRequest } from '../errors';

export interface NetworkDeps {
  network: NetworkManager;
  containers: ContainerManager;
}

type Req = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string> }>;

const LIST_FILTERS = ['name', 'id', 'driver', 'label', 'dangling', 'type', 'scope'];

/** GET /networks/{id} (and, with empty Containers, the items of GET /networks). */
export function networkJson(n: NetworkRecord, network: NetworkManager, withContainers: boolean): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  if (withContainers) {
    for (const { c, ep } of network.endpointsOn(n.Id)) {
      containers[c.Id] = { Name: c.Name.replace(/^\//, ''), EndpointID: ep.endpointId, MacAddress: ep.macAddress, IPv4Address: `${ep.ipAddress}/${ep.prefixLen}`, IPv6Address: '' };
    }
    // dockerd lists host and none containers too, with no address.
    if (n.builtin === 'host' || n.builtin === 'none') {
      for (const { c, endpointId } of network.builtinMembers(n.builtin)) containers[c.Id] = { Name: c.Name.replace(/^\//, ''), EndpointID: endpointId, MacAddress: '', IPv4Address: '', IPv6Address: '' };
    }
  }
  const config = n.ipam ? [{ Subnet: n.ipam.subnet, ...(n.ipam.range ? { IPRange: n.ipam.range } : {}), Gateway: n.ipam.gateway }] : [];
  return {
    Name: n.Name,
    Id: n.Id,
    Created: n.Created,
    Scope: 'local',
    Driver: n.Driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: n.IPAMOptions, Config: config },
    Internal: n.Internal,
    Attachable: n.Attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: n.Options,
    Labels: n.Labels,
  };
}

function labelMatches(labels: Record<string, string>, wanted: string[]): boolean {
  return wanted.every((l) => {
    const i = l.indexOf('=');
    return i < 0 ? l in labels : labels[l.slice(0, i)] === l.slice(i + 1);
  });
}

function matches(n: NetworkRecord, f: Record<string, string[]>, inUse: (n: NetworkRecord) => boolean): boolean {
  if (f.name && !f.name.some((v) => n.Name.includes(v))) return false;
  if (f.id && !f.id.some((v) => n.Id.startsWith(v))) return false;
  if (f.driver && !f.driver.includes(n.Driver)) return false;
  if (f.scope && !f.scope.includes('local')) return false;
  if (f.label && !labelMatches(n.Labels, f.label)) return false;
  if (f.type) {
    for (const t of f.type) if (t !== 'custom' && t !== 'builtin') throw badRequest(`invalid filter: 'type'='${t}'`);
    if (!f.type.includes(n.builtin ? 'builtin' : 'custom')) return false;
  }
  if (f.dangling) {
    const v = f.dangling[0];
    if (!['true', 'false', '1', '0'].includes(v)) throw badRequest(`invalid filter 'dangling=${v}'`);
    const dangling = !n.builtin && !inUse(n);
    if (dangling !== (v === 'true' || v === '1')) return false;
  }
  return true;
}

export function registerNetworkRoutes(app: FastifyInstance, deps: NetworkDeps): void {
  const { network, containers } = deps;
  const inUse = (n: NetworkRecord): boolean => network.endpointsOn(n.Id).length > 0;

  app.get('/networks', async (req: Req) => {
    const f = parseFilters(req.query.filters);
    for (const k of Object.keys(f)) if (!LIST_FILTERS.includes(k)) throw badRequest(`invalid filter '${k}'`);
    return network
      .list()
      .filter((n) => matches(n, f, inUse))
      .sort((a, b) => a.Created.localeCompare(b.Created))
      .map((n) => networkJson(n, network, false));
  });

  app.get('/networks/:id', async (req: Req) => networkJson(network.find(req.params.id), network, true));

  app.post('/networks/create', async (req, reply) => {
    const body = (req.body ?? {}) as CreateNetworkRequest & { CheckDuplicate?: boolean };
    if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('invalid network config');
    if (typeof body.Name !== 'string') throw badRequest('network name cannot be empty');
    const n = await network.create(body);
    return reply.code(201).send({ Id: n.Id, Warning: '' });
  });

  app.delete('/networks/:id', async (req: Req, reply) => {
    await network.remove(req.params.id);
    return reply.code(204).send();
  });

  app.post('/networks/prune', async (req: Req) => {
    const f = parseFilters(req.query.filters);
    for (const k of Object.keys(f)) if (!['label', 'label!', 'until'].includes(k)) throw badRequest(`invalid filter '${k}'`);
    const until = f.until?.[0];
    const cutoff = until === undefined ? Infinity : parseUntil(until);
    const deleted = await network.prune(
      (n) => (!f.label || labelMatches(n.Labels, f.label)) && (!f['label!'] || !labelMatches(n.Labels, f['label!'])) && Date.parse(n.Created) < cutoff,
    );
    return { NetworksDeleted: deleted.length ? deleted : null };
  });

  app.post('/networks/:id/connect', async (req: Req, reply) => {
    const body = (req.body ?? {}) as { Container?: string; EndpointConfig?: EndpointConfig };
    if (!body.Container) throw badRequest('container name or ID is required');
    const c = containers.find(body.Container);
    await network.connect(c, req.params.id, body.EndpointConfig ?? {});
    containers.refreshResolvConf(c);
    containers.save(c);
    return reply.code(200).send();
  });

  app.post('/networks/:id/disconnect', async (req: Req, reply) => {
    const body = (req.body ?? {}) as { Container?: string; Force?: boolean };
    if (!body.Container) throw badRequest('container name or ID is required');
    const c = containers.find(body.Container);
    await network.disconnect(c, req.params.id, qbool(String(body.Force ?? false)));
    containers.refreshResolvConf(c);
    containers.save(c);
    return reply.code(200).send();
  });
}

/** `until`: a Unix timestamp or an RFC 3339 time; durations ("10m") count back from now. */
function parseUntil(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const d = /^(\d+)(s|m|h)$/.exec(v);
  if (d) return Date.now() - Number(d[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[d[2] as 's' | 'm' | 'h'];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw badRequest(`invalid filter 'until=${v}'`);
  return t;
}
