// The variables a legacy link (--link name[:alias] on the default bridge) puts in the linking
// container's env, as dockerd 20.10-27 makes them (moby's daemon/links ToEnv): for the alias
// upper-cased with '-' as '_', the lowest exposed port as ALIAS_PORT, the range variables of
// every run of three or more consecutive port numbers, four variables per port, ALIAS_NAME, and
// the linked container's env as ALIAS_ENV_<KEY> (but HOME and PATH).

export interface Link {
  /** The link's full name: /<linking container>/<alias>. */
  name: string;
  /** The linked container's address on the default bridge. */
  ip: string;
  /** The linked container's Config.Env. */
  env: string[];
  /** The linked container's Config.ExposedPorts keys ("80/tcp", "53/udp"). */
  exposedPorts: string[];
}

interface Port {
  port: string;
  proto: string;
  num: number;
}

/** As Docker's nat.Port: "80" is tcp; a number that does not parse counts as 0. */
function parsePort(key: string): Port {
  const slash = key.indexOf('/');
  const port = slash < 0 ? key : key.slice(0, slash);
  const proto = slash < 0 || slash === key.length - 1 ? 'tcp' : key.slice(slash + 1);
  const num = /^\d+$/.test(port) && Number(port) <= 65535 ? Number(port) : 0;
  return { port, proto, num };
}

/** By number, tcp first on a tie (dockerd leaves other ties in map order; here by name). */
function byNumberTcpFirst(a: Port, b: Port): number {
  if (a.num !== b.num) return a.num - b.num;
  const at = a.proto.toLowerCase() === 'tcp';
  const bt = b.proto.toLowerCase() === 'tcp';
  if (at !== bt) return at ? -1 : 1;
  return a.proto < b.proto ? -1 : a.proto > b.proto ? 1 : 0;
}

/**
 * The index of the last port of the run starting at `i`. As dockerd's, it looks at numbers only
 * and lets a repeated number (80/tcp then 80/udp) extend the run by one.
 */
function runEnd(ports: Port[], i: number): number {
  let value = ports[i].num;
  for (let k = i + 1; k < ports.length; k++) {
    if (ports[k].num > value + 1) return k - 1;
    value++;
  }
  return ports.length - 1;
}

export function linkEnv(link: Link): string[] {
  const alias = link.name.slice(link.name.lastIndexOf('/') + 1).toUpperCase().replace(/-/g, '_');
  const ports = link.exposedPorts.map(parsePort).sort(byNumberTcpFirst);
  const url = (p: Port): string => `${p.proto}://${link.ip}:${p.port}`;
  const prefix = (p: Port, proto = p.proto): string => `${alias}_PORT_${p.port}_${proto.toUpperCase()}`;
  const env: string[] = [];
  if (ports.length) env.push(`${alias}_PORT=${url(ports[0])}`);
  for (let i = 0; i < ports.length; ) {
    const j = runEnd(ports, i);
    // A run of two is no range to dockerd: it wants j past i + 1.
    if (j <= i + 1) {
      i++;
      continue;
    }
    const [p, q] = [ports[i], ports[j]];
    env.push(`${prefix(p)}_START=${url(p)}`, `${prefix(p)}_ADDR=${link.ip}`, `${prefix(p)}_PROTO=${p.proto}`, `${prefix(p)}_PORT_START=${p.port}`);
    // The end's variables are named after the first port's number and the last port's protocol.
    env.push(`${prefix(p, q.proto)}_END=${url(q)}`, `${prefix(p, q.proto)}_PORT_END=${q.port}`);
    i = j + 1;
  }
  for (const p of ports) env.push(`${prefix(p)}=${url(p)}`, `${prefix(p)}_ADDR=${link.ip}`, `${prefix(p)}_PORT=${p.port}`, `${prefix(p)}_PROTO=${p.proto}`);
  env.push(`${alias}_NAME=${link.name}`);
  for (const e of link.env) {
    const eq = e.indexOf('=');
    if (eq < 0) continue;
    const key = e.slice(0, eq);
    if (key === 'HOME' || key === 'PATH') continue;
    env.push(`${alias}_ENV_${key}=${e.slice(eq + 1)}`);
  }
  return env;
}
