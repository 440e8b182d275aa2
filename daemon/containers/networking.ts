// The container side of networking: what create checks (networks, ports, links, container:X) and
// what start needs beyond the network manager (the namespace to join, /etc files' context).
import { readFileSync } from 'fs';
import { badRequest, conflict, notFound, serverError } from '../server/errors';
import { parseNetworkMode, type NetworkManager, type Sandbox } from '../network/manager';
import { checkPortBindings } from '../network/ports';
import type { EtcContext } from '../runtime/etc-files';
import { shortId } from '../util/ids';
import { linkEnv } from './link-env';
import type { ContainerRecord } from './record';

type Find = (ref: string) => ContainerRecord | 'ambiguous' | undefined;

function lookup(find: Find, ref: string): ContainerRecord {
  const c = find(ref);
  if (c === 'ambiguous') throw badRequest(`multiple IDs found with provided prefix: ${ref}`);
  if (!c) throw notFound(`No such container: ${ref}`);
  return c;
}

function splitLink(link: string): [string, string] {
  const [name, alias] = link.replace(/^\//, '').split(':');
  return [name, (alias ?? name).replace(/^.*\//, '')];
}

/** Validates and normalizes a new container's networking; returns Docker's warnings. */
export function prepareNetworking(network: NetworkManager, c: ContainerRecord, find: Find): string[] {
  const mode = parseNetworkMode(c.HostConfig.NetworkMode);
  if ('error' in mode) throw badRequest(mode.error);
  if (mode.kind === 'container') {
    const target = lookup(find, mode.ref);
    if (target.Id === c.Id) throw badRequest('cannot join own network');
  }
  c.Networks = network.endpointsForCreate(mode, c.Networks);
  for (const link of (c.HostConfig.Links as string[] | null | undefined) ?? []) {
    const [name] = splitLink(link);
    if (!find(name) || find(name) === 'ambiguous') throw badRequest(`could not get container for ${name}`);
  }
  return checkPortBindings(c);
}

/** The sandbox of the container whose namespace `c` joins (container:X), which must run. */
export function joinedSandbox(c: ContainerRecord, find: Find): { sandbox: Sandbox; from: ContainerRecord } | undefined {
  const mode = parseNetworkMode(c.HostConfig.NetworkMode);
  if ('error' in mode || mode.kind !== 'container') return undefined;
  const target = lookup(find, mode.ref);
  if (!target.State.Running || !target.Sandbox) throw conflict(`cannot join network of a non running container: ${target.Id}`);
  if (target.Sandbox.mode === 'container') throw conflict(`cannot join network of a container that joined another one: ${target.Id}`);
  // As Docker: the container takes the other's host name along with its namespace.
  c.Config.Hostname = target.Config.Hostname;
  c.Config.Domainname = target.Config.Domainname;
  return { sandbox: target.Sandbox, from: target };
}

export function etcContext(
  c: ContainerRecord,
  sandbox: Sandbox,
  network: NetworkManager,
  find: Find,
  etcPath: (c: ContainerRecord, name: 'hosts' | 'resolv.conf') => string,
  joined?: ContainerRecord,
): EtcContext {
  const links: string[] = [];
  for (const link of (c.HostConfig.Links as string[] | null | undefined) ?? []) {
    const [name, alias] = splitLink(link);
    const target = lookup(find, name);
    const tname = target.Name.replace(/^\//, '');
    if (!target.State.Running || !target.Sandbox) throw conflict(`Cannot link to a non running container: /${tname} AS ${c.Name}/${alias}`);
    const mine = new Set(sandbox.endpoints.map((e) => e.networkId));
    const ep = target.Sandbox.endpoints.find((e) => mine.has(e.networkId)) ?? target.Sandbox.endpoints[0];
    if (!ep) throw conflict(`Cannot link to /${tname}, as it does not belong to the default network`);
    links.push(`${ep.ipAddress}\t${[...new Set([alias, shortId(target.Id), tname])].join(' ')}`);
  }
  const shared = joined ? { hosts: readFileSync(etcPath(joined, 'hosts'), 'utf8'), resolv: readFileSync(etcPath(joined, 'resolv.conf'), 'utf8') } : undefined;
  return { links, nameserver: network.dnsServerFor(sandbox), daemonDns: network.configuredDns, hostGateway: network.bridgeGateway, shared };
}

/**
 * The link variables of `c`'s processes (link-env.ts), computed afresh at each start and exec as
 * dockerd does, so they carry the linked containers' current addresses. Only a container on the
 * default bridge gets them; each linked container must run and be on it too.
 */
export function linkedEnv(c: ContainerRecord, sandbox: Sandbox, bridgeNetworkId: string, find: Find): string[] {
  if (!sandbox.endpoints.some((e) => e.networkId === bridgeNetworkId)) return [];
  const env: string[] = [];
  for (const link of (c.HostConfig.Links as string[] | null | undefined) ?? []) {
    const [name, alias] = splitLink(link);
    const found = find(name);
    // dockerd keeps a removed linked container in its link index: to it, one that is not running.
    const target = found && found !== 'ambiguous' ? found : undefined;
    const full = `${c.Name}/${alias}`;
    if (!target?.State.Running || !target.Sandbox) throw serverError(`Cannot link to a non running container: ${target?.Name ?? `/${name}`} AS ${full}`);
    const ep = target.Sandbox.endpoints.find((e) => e.networkId === bridgeNetworkId);
    if (!ep) throw serverError(`container ${target.Id} not attached to default bridge network`);
    env.push(...linkEnv({ name: full, ip: ep.ipAddress, env: target.Config.Env, exposedPorts: Object.keys(target.Config.ExposedPorts ?? {}) }));
  }
  return env;
}
