// Networking end to end through the real docker CLI: user networks with DNS, isolation, connect
// and disconnect, links, host/none/container modes, published ports. Traffic stays on loopback
// and on the bridges and namespaces this test makes; the daemon's only DNS upstream is a tiny
// server the test runs on 127.x, so no query ever leaves the machine.
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import { randomInt } from 'crypto';
import { createSocket } from 'dgram';
import { readFileSync, writeFileSync } from 'fs';
import { request } from 'http';
import { connect } from 'net';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxLayerEntries, makeBusyboxArchive, makeLayerTar } from '../helpers/busybox-image';
import { hasDocker, leftovers, ROOT, startDaemon, type TestDaemon } from '../helpers/daemon';

const IMG = 'berthtest/busybox:net';
const WEB = 'berthtest/web:expose';

function httpGet(port: number, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Retries while a server in a just-started container comes up. */
async function eventually<T>(fn: () => Promise<T>, tries = 30): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= tries) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe.skipIf(!hasDocker)('networking through the docker CLI', () => {
  let d: TestDaemon;
  let upstream: ChildProcess;
  const upstreamIp = `127.53.${randomInt(0, 255)}.${randomInt(2, 254)}`;
  const upstreamQueries: string[] = [];
  const third = randomInt(0, 200);
  const subnet = (i: number): string => `10.214.${third + i}.0/24`;
  // (third + 9 at most: prefixes 0-9 belong to this test)
  const prefix = (i: number): string => `10.214.${third + i}`;

  const ok = (args: string[]): string => {
    const r = d.docker(args);
    if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  };
  const inspect = (ref: string, format: string): string => ok(['inspect', '-f', format, ref]).trim();
  const links = (): string[] =>
    spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((l) => l.split(':')[1]?.trim().split('@')[0])
      .filter(Boolean);
  /** This test's interfaces only (other tests run beside it): its bridges and the veths on them. */
  const mine = (): string[] => {
    const all = JSON.parse(spawnSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8' }).stdout) as Array<{ ifname: string; master?: string; addr_info?: Array<{ local: string }> }>;
    const ours = (a: string): boolean => a.startsWith(`${d.subnetPrefix}.`) || Array.from({ length: 10 }, (_, i) => `${prefix(i)}.`).some((p) => a.startsWith(p));
    const bridges = new Set(all.filter((l) => l.addr_info?.some((a) => ours(a.local))).map((l) => l.ifname));
    return all.filter((l) => bridges.has(l.ifname) || (l.master && bridges.has(l.master))).map((l) => l.ifname).sort();
  };

  beforeAll(async () => {
    // The daemon's only upstream: answers upstream.berth.test itself and forwards nothing. A child
    // process, as the docker CLI runs synchronously here and would block an in-process server.
    const dnsModule = join(ROOT, 'dist/daemon/network/dns.js');
    const script = `const {parseQuery,buildReply}=require(${JSON.stringify(dnsModule)});const s=require('dgram').createSocket('udp4');
s.on('message',(m,r)=>{const q=parseQuery(m);if(!q)return;console.log(q.name);const hit=q.name==='upstream.berth.test';
s.send(buildReply(q,hit&&q.type===1?[Buffer.from([10,99,99,99])]:[],hit?0:3),r.port,r.address)});
s.bind(53,${JSON.stringify(upstreamIp)},()=>console.log('ready'));`;
    upstream = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => {
      upstream.stdout!.on('data', (b: Buffer) => {
        for (const line of b.toString().split('\n').filter(Boolean)) {
          if (line === 'ready') resolve();
          else upstreamQueries.push(line);
        }
      });
    });
    d = await startDaemon(undefined, { config: { dns: [upstreamIp] } });
    const tar = join(d.dataRoot, '..', 'busybox.tar');
    await makeBusyboxArchive(tar, { repoTag: IMG });
    expect(d.docker(['load', '-i', tar]).status).toBe(0);
    const rootfs = join(d.dataRoot, '..', 'rootfs.tar');
    writeFileSync(rootfs, await makeLayerTar(busyboxLayerEntries()));
    const imp = d.docker(['import', '--change', 'EXPOSE 80', '--change', 'CMD ["httpd", "-f", "-p", "80", "-h", "/etc"]', rootfs, WEB]);
    expect(imp.status).toBe(0);
  });

  afterAll(async () => {
    upstream?.kill();
    if (!d) return;
    const ids = d.docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (ids.length) d.docker(['rm', '-f', ...ids]);
    await d.stop();
    expect(leftovers(d)).toEqual([]);
  });

  it('lists the built-in networks and creates, inspects, filters and removes user networks', () => {
    const ls = ok(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']).split('\n').filter(Boolean).sort();
    expect(ls).toEqual(['bridge bridge local', 'host host local', 'none null local']);
    const id = ok(['network', 'create', '--subnet', subnet(0), '--ip-range', `${prefix(0)}.128/25`, '--label', 'team=a', 'apinet']).trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    const n = JSON.parse(ok(['network', 'inspect', 'apinet']))[0];
    expect(n).toMatchObject({
      Name: 'apinet',
      Id: id,
      Scope: 'local',
      Driver: 'bridge',
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: subnet(0), IPRange: `${prefix(0)}.128/25`, Gateway: `${prefix(0)}.1` }] },
      Internal: false,
      Attachable: false,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: {},
      Options: {},
      Labels: { team: 'a' },
    });
    expect(links()).toContain(`br-${id.slice(0, 12)}`);
    expect(ok(['network', 'ls', '-q', '--filter', 'label=team=a'])).toBe(`${id.slice(0, 12)}\n`);
    expect(ok(['network', 'ls', '--format', '{{.Name}}', '--filter', 'type=custom'])).toBe('apinet\n');
    expect(ok(['network', 'ls', '--format', '{{.Name}}', '--filter', 'dangling=true'])).toBe('apinet\n');
    expect(ok(['network', 'ls', '--format', '{{.Name}}', '--filter', 'driver=null'])).toBe('none\n');
    // Addresses come from the ip-range, in order.
    ok(['run', '-d', '--name', 'inrange', '--network', 'apinet', IMG, 'sleep', '60']);
    expect(inspect('inrange', '{{.NetworkSettings.Networks.apinet.IPAddress}}')).toBe(`${prefix(0)}.128`);
    const dup = d.docker(['network', 'create', 'apinet']);
    expect(dup.stderr).toContain('network with name apinet already exists');
    const inUse = d.docker(['network', 'rm', 'apinet']);
    expect(inUse.status).not.toBe(0);
    expect(inUse.stderr).toContain(`error while removing network: network apinet id ${id} has active endpoints`);
    ok(['rm', '-f', 'inrange']);
    expect(ok(['network', 'rm', 'apinet'])).toBe('apinet\n');
    expect(links()).not.toContain(`br-${id.slice(0, 12)}`);
    expect(d.docker(['network', 'inspect', 'apinet']).stderr).toContain('network apinet not found');
  });

  it('refuses bad input with Docker status codes and messages, leaving nothing made', async () => {
    const before = mine();
    const create = (body: unknown) => d.api<{ message: string }>('POST', '/v1.43/networks/create', body);
    let r = await create({ Name: 'bad1', IPAM: { Config: [{ Subnet: 'notacidr' }] } });
    expect([r.status, r.body.message]).toEqual([400, 'invalid CIDR address: notacidr']);
    r = await create({ Name: 'bad2', IPAM: { Config: [{ Subnet: subnet(1), Gateway: '10.1.1.1' }] } });
    expect([r.status, r.body.message]).toEqual([403, 'no matching subnet for gateway 10.1.1.1']);
    r = await create({ Name: 'bad3', Driver: 'overlay' });
    expect([r.status, r.body.message]).toEqual([404, 'plugin "overlay" not found']);
    r = await create({ Name: 'host' });
    expect(r.status).toBe(403);
    ok(['network', 'create', '--subnet', subnet(1), 'taken']);
    r = await create({ Name: 'bad4', IPAM: { Config: [{ Subnet: `${prefix(1)}.128/25` }] } });
    expect([r.status, r.body.message]).toEqual([403, 'Pool overlaps with other one on this address space']);
    // The default bridge's subnet is taken as well.
    r = await create({ Name: 'bad5', IPAM: { Config: [{ Subnet: `${d.subnetPrefix}.0/24` }] } });
    expect(r.status).toBe(403);
    const outside = d.docker(['run', '--rm', '--network', 'taken', '--ip', '10.1.2.3', IMG, 'true']);
    expect(outside.stderr).toContain("Invalid address 10.1.2.3: It does not belong to any of this network's subnets");
    ok(['run', '-d', '--name', 'holder', '--network', 'taken', '--ip', `${prefix(1)}.50`, IMG, 'sleep', '60']);
    const veths = mine();
    const again = d.docker(['run', '--rm', '--network', 'taken', '--ip', `${prefix(1)}.50`, IMG, 'true']);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain('Address already in use');
    expect(mine()).toEqual(veths);
    // As dockerd: checked at start (a 404 at create would send the CLI pulling the image); --rm removes it.
    const missing = d.docker(['run', '--rm', '--network', 'nosuchnet', IMG, 'true']);
    expect(missing.stderr).toContain('Error response from daemon: network nosuchnet not found');
    expect(missing.stderr).not.toContain('Unable to find image');
    expect(d.docker(['network', 'connect', 'nosuchnet', 'holder']).stderr).toContain('network nosuchnet not found');
    expect(d.docker(['run', '--rm', '-p', '99999:80', IMG, 'true']).stderr).toContain('invalid hostPort: 99999');
    const api = await d.api<{ message: string }>('POST', '/v1.43/containers/create', { Image: IMG, Cmd: ['true'], HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '99999' }] } } });
    expect([api.status, api.body.message]).toEqual([400, 'invalid port specification: "99999"']);
    const onDefault = d.docker(['run', '--rm', '--ip', `${d.subnetPrefix}.77`, IMG, 'true']);
    expect(onDefault.stderr).toContain('user specified IP address is supported on user defined networks only');
    ok(['rm', '-f', 'holder']);
    ok(['network', 'rm', 'taken']);
    expect(mine()).toEqual(before);
    expect(ok(['ps', '-aq'])).toBe('');
  });

  it('reaches containers on the default bridge by address, not by name', () => {
    ok(['run', '-d', '--name', 'plain1', IMG, 'sleep', '120']);
    const ip = inspect('plain1', '{{.NetworkSettings.IPAddress}}');
    expect(ip.startsWith(`${d.subnetPrefix}.`)).toBe(true);
    expect(inspect('plain1', '{{.NetworkSettings.Networks.bridge.IPAddress}}')).toBe(ip);
    const byIp = d.docker(['run', '--rm', IMG, 'ping', '-c', '1', '-W', '2', ip]);
    expect(byIp.stdout).toContain('1 packets received');
    const byName = d.docker(['run', '--rm', IMG, 'ping', '-c', '1', '-W', '2', 'plain1']);
    expect(byName.status).not.toBe(0);
    expect(byName.stderr).toContain("bad address 'plain1'");
    ok(['rm', '-f', 'plain1']);
  });

  it('resolves names, aliases, short IDs and reverse names on a user network, and forwards the rest upstream', async () => {
    ok(['network', 'create', '--subnet', subnet(2), 'appnet']);
    const id = ok(['run', '-d', '--name', 'db', '--network', 'appnet', '--network-alias', 'database', IMG, 'sleep', '120']).trim();
    const dbIp = inspect('db', '{{.NetworkSettings.Networks.appnet.IPAddress}}');
    expect(dbIp).toBe(`${prefix(2)}.2`);
    const net = JSON.parse(ok(['inspect', 'db']))[0].NetworkSettings;
    // As dockerd answers API 1.43: the short ID (also the hostname) after the asked-for aliases; `run` sends no IPAMConfig nor DriverOpts.
    expect(net.Networks.appnet).toMatchObject({ IPAMConfig: null, Links: null, Aliases: ['database', id.slice(0, 12)], DriverOpts: null, Gateway: `${prefix(2)}.1`, IPPrefixLen: 24, MacAddress: `02:42:0a:d6:${(third + 2).toString(16).padStart(2, '0')}:02`, DNSNames: ['db', 'database', id.slice(0, 12)] });
    expect(net.Networks.appnet.EndpointID).toMatch(/^[0-9a-f]{64}$/);
    expect(net.SandboxKey).toBe(join(d.execRoot, 'netns', id.slice(0, 12)));
    expect(net.IPAddress).toBe('');
    const script = [
      'cat /etc/resolv.conf',
      'ping -c 1 -W 2 db',
      'ping -c 1 -W 2 database',
      `ping -c 1 -W 2 ${id.slice(0, 12)}`,
      'nslookup db.appnet',
      `nslookup ${dbIp}`,
      'nslookup upstream.berth.test',
    ].join(' && ');
    const r = d.docker(['run', '--rm', '--network', 'appnet', IMG, 'sh', '-c', script]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`nameserver ${prefix(2)}.1\n`);
    expect(r.stdout.match(/1 packets received/g)).toHaveLength(3);
    expect(r.stdout).toContain(`Name:\tdb.appnet\nAddress: ${dbIp}`);
    expect(r.stdout).toContain('name = db.appnet');
    expect(r.stdout).toContain('Name:\tupstream.berth.test\nAddress: 10.99.99.99');
    await eventually(async () => expect(upstreamQueries).toContain('upstream.berth.test'));
    // Over TCP as well (from the host, which sees the network's own names).
    const q = Buffer.concat([Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2]), Buffer.from('db'), Buffer.from([0, 0, 1, 0, 1])]);
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const sock = connect(53, `${prefix(2)}.1`, () => sock.write(Buffer.concat([Buffer.from([0, q.length]), q])));
      let got = Buffer.alloc(0);
      sock.on('data', (b: Buffer) => {
        got = Buffer.concat([got, b]);
        if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
          sock.end();
          resolve(got.subarray(2));
        }
      });
      sock.on('error', reject);
      sock.setTimeout(3000, () => reject(new Error('no answer over TCP')));
    });
    expect(reply.readUInt16BE(0)).toBe(0x1234);
    expect(reply.readUInt16BE(6)).toBe(1);
    expect([...reply.subarray(-4)].join('.')).toBe(dbIp);
    // Names of the network are answered here, never sent upstream.
    expect(upstreamQueries.filter((q) => q.startsWith('db'))).toEqual([]);
  });

  it('keeps networks apart, and internal networks without a way out', () => {
    ok(['network', 'create', '--subnet', subnet(3), 'isolated']);
    ok(['network', 'create', '--internal', '--subnet', subnet(4), 'inner']);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe('1');
    const dbIp = inspect('db', '{{.NetworkSettings.Networks.appnet.IPAddress}}');
    // Routed between the bridges, but dropped by the daemon's isolation rules.
    const cross = d.docker(['run', '--rm', '--network', 'isolated', IMG, 'ping', '-c', '1', '-W', '1', dbIp]);
    expect(cross.stdout).toContain('0 packets received');
    const same = d.docker(['run', '--rm', '--network', 'appnet', IMG, 'ping', '-c', '1', '-W', '1', dbIp]);
    expect(same.stdout).toContain('1 packets received');
    const inner = d.docker(['run', '--rm', '--network', 'inner', IMG, 'sh', '-c', `ip route; ping -c 1 -W 1 ${dbIp} >/dev/null 2>&1 && echo reached || echo unreachable`]);
    expect(inner.stdout).not.toContain('default');
    expect(inner.stdout).toContain(`${prefix(4)}.0/24 dev eth0`);
    expect(inner.stdout).toContain('unreachable');
    const rules = spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout;
    const masq = rules.split('\n').filter((l) => l.includes(`BERTH-${d.bridge}`) && l.includes('MASQUERADE'));
    expect(masq.some((l) => l.includes(subnet(3)))).toBe(true);
    expect(masq.some((l) => l.includes(subnet(4)))).toBe(false);
    const innerBridge = `br-${ok(['network', 'inspect', '-f', '{{.Id}}', 'inner']).slice(0, 12)}`;
    expect(rules).toContain(`-A BERTH-${d.bridge} -i ${innerBridge} ! -o ${innerBridge} -j DROP`);
    ok(['network', 'rm', 'isolated', 'inner']);
  });

  it('resolves a custom hostname on a user network and shows it in Aliases and DNSNames, as dockerd', () => {
    ok(['network', 'create', '--subnet', subnet(8), 'hostnet']);
    const id = ok(['run', '-d', '--name', 'named', '--hostname', 'myhost', '--network', 'hostnet', IMG, 'sleep', '120']).trim();
    const ep = JSON.parse(inspect('named', '{{json .NetworkSettings.Networks.hostnet}}'));
    expect([ep.Aliases, ep.DNSNames]).toEqual([
      [id.slice(0, 12), 'myhost'],
      ['named', id.slice(0, 12), 'myhost'],
    ]);
    expect(ok(['run', '--rm', '--network', 'hostnet', IMG, 'ping', '-c', '1', '-W', '2', 'myhost'])).toContain('1 packets received');
    ok(['rm', '-f', 'named']);
    ok(['network', 'rm', 'hostnet']);
  });

  it('connects a running container to a second network and disconnects it again', () => {
    ok(['network', 'create', '--subnet', subnet(5), 'second']);
    ok(['run', '-d', '--name', 'peer', '--network', 'second', IMG, 'sleep', '120']);
    const before = d.docker(['exec', 'db', 'ping', '-c', '1', '-W', '1', 'peer']);
    expect(before.status).not.toBe(0);
    ok(['network', 'connect', '--alias', 'dbalias', 'second', 'db']);
    expect(ok(['exec', 'db', 'ip', '-o', 'addr', 'show', 'eth1'])).toContain(`${prefix(5)}.`);
    expect(ok(['exec', 'db', 'ping', '-c', '1', '-W', '2', 'peer'])).toContain('1 packets received');
    expect(ok(['exec', 'peer', 'ping', '-c', '1', '-W', '2', 'dbalias'])).toContain('1 packets received');
    const nets = JSON.parse(inspect('db', '{{json .NetworkSettings.Networks}}'));
    expect(Object.keys(nets).sort()).toEqual(['appnet', 'second']);
    // What the docker CLI's connect sends, kept as dockerd keeps it: an empty IPAMConfig and DriverOpts, the aliases given.
    const dbId = inspect('db', '{{.Id}}').slice(0, 12);
    expect(nets.second).toMatchObject({ IPAMConfig: {}, Links: null, Aliases: ['dbalias', dbId], DriverOpts: {} });
    const shown = JSON.parse(ok(['network', 'inspect', 'second']))[0].Containers;
    expect(Object.values(shown).map((c) => (c as { Name: string }).Name).sort()).toEqual(['db', 'peer']);
    // A container of the default bridge, which has no name resolution, gets it by connecting.
    ok(['run', '-d', '--name', 'onbridge', IMG, 'sleep', '120']);
    expect(d.docker(['exec', 'onbridge', 'ping', '-c', '1', '-W', '1', 'peer']).stderr).toContain("bad address 'peer'");
    ok(['network', 'connect', '--ip', `${prefix(5)}.77`, 'second', 'onbridge']);
    expect(ok(['exec', 'onbridge', 'ping', '-c', '1', '-W', '2', 'peer'])).toContain('1 packets received');
    const onbridge = JSON.parse(inspect('onbridge', '{{json .NetworkSettings.Networks}}'));
    const obId = inspect('onbridge', '{{.Id}}').slice(0, 12);
    // The default bridge gets no aliases; the user network the short ID alone (no --alias), the address asked for.
    expect(onbridge.bridge).toMatchObject({ IPAMConfig: null, Aliases: null, DriverOpts: null });
    expect(onbridge.second).toMatchObject({ IPAMConfig: { IPv4Address: `${prefix(5)}.77` }, Aliases: [obId], DriverOpts: {}, IPAddress: `${prefix(5)}.77` });
    ok(['network', 'disconnect', 'second', 'onbridge']);
    expect(ok(['exec', 'onbridge', 'cat', '/etc/resolv.conf'])).not.toContain(`nameserver ${prefix(5)}.1`);
    ok(['rm', '-f', 'onbridge']);
    ok(['network', 'disconnect', 'second', 'db']);
    expect(d.docker(['exec', 'db', 'ip', 'addr', 'show', 'eth1']).status).not.toBe(0);
    expect(d.docker(['exec', 'db', 'ping', '-c', '1', '-W', '1', 'peer']).status).not.toBe(0);
    // A stopped container is connected at its next start.
    ok(['create', '--name', 'later', '--network', 'appnet', IMG, 'sleep', '120']);
    ok(['network', 'connect', 'second', 'later']);
    ok(['start', 'later']);
    expect(ok(['exec', 'later', 'ping', '-c', '1', '-W', '2', 'peer'])).toContain('1 packets received');
    ok(['rm', '-f', 'later', 'peer']);
    ok(['network', 'rm', 'second']);
  });

  it('writes --link, --add-host, --dns and --dns-search into the linking container only', () => {
    ok(['run', '-d', '--name', 'linked', IMG, 'sleep', '120']);
    const ip = inspect('linked', '{{.NetworkSettings.IPAddress}}');
    const id = inspect('linked', '{{.Id}}');
    ok(['run', '-d', '--name', 'linker', '--link', 'linked:ali', '--add-host', 'static.example:10.9.8.7', '--dns', '10.9.9.9', '--dns-search', 'corp.test', IMG, 'sleep', '120']);
    const hosts = ok(['exec', 'linker', 'cat', '/etc/hosts']);
    expect(hosts).toContain(`${ip}\tali ${id.slice(0, 12)} linked\n`);
    expect(hosts).toContain('10.9.8.7\tstatic.example\n');
    expect(ok(['exec', 'linker', 'cat', '/etc/resolv.conf'])).toBe('search corp.test\nnameserver 10.9.9.9\n');
    expect(ok(['exec', 'linker', 'ping', '-c', '1', '-W', '2', 'ali'])).toContain('1 packets received');
    expect(d.docker(['exec', 'linked', 'ping', '-c', '1', '-W', '1', 'linker']).status).not.toBe(0);
    expect(ok(['exec', 'linked', 'cat', '/etc/hosts'])).not.toContain('linker');
    ok(['rm', '-f', 'linker', 'linked']);
  });

  it('gives host, none and container:X networking', () => {
    const host = ok(['run', '--rm', '--network', 'host', IMG, 'ip', '-o', 'link']);
    expect(host).toContain(`${d.bridge}:`);
    const none = ok(['run', '--rm', '--network', 'none', IMG, 'ip', '-o', 'link']);
    expect(none.trim().split('\n').map((l) => l.split(':')[1].trim())).toEqual(['lo']);
    const dbAddr = inspect('db', '{{.NetworkSettings.Networks.appnet.IPAddress}}');
    const shared = ok(['run', '--rm', '--name', 'sidecar', '--network', 'container:db', IMG, 'sh', '-c', 'ip -o addr show eth0; hostname']);
    expect(shared).toContain(`inet ${dbAddr}/24`);
    expect(shared.trim().split('\n').pop()).toBe(inspect('db', '{{.Config.Hostname}}'));
    ok(['create', '--name', 'joiner', '--network', 'container:db', IMG, 'sleep', '30']);
    expect(inspect('joiner', '{{json .NetworkSettings.Networks}}')).toBe('{}');
    ok(['rm', 'joiner']);
    ok(['create', '--name', 'stopped', IMG, 'true']);
    const dead = d.docker(['run', '--rm', '--network', 'container:stopped', IMG, 'true']);
    expect(dead.stderr).toContain('cannot join network of a non running container');
    ok(['rm', 'stopped']);
  });

  it("gives the bridges it creates dockerd's 02:42 MAC addresses", () => {
    ok(['network', 'create', '--subnet', subnet(9), 'macnet']);
    const userBridge = `br-${inspect('macnet', '{{.Id}}').slice(0, 12)}`;
    for (const name of [d.bridge, userBridge]) {
      const [link] = JSON.parse(spawnSync('ip', ['-j', 'link', 'show', name], { encoding: 'utf8' }).stdout) as Array<{ address: string }>;
      expect(link.address).toMatch(/^02:42(:[0-9a-f]{2}){4}$/);
    }
    ok(['network', 'rm', 'macnet']);
  });

  it('lists running host and none containers in those networks, with endpoint IDs and no addresses', () => {
    ok(['run', '-d', '--name', 'onhost', '--stop-timeout', '0', '--network', 'host', IMG, 'sleep', '300']);
    ok(['run', '-d', '--name', 'onnone', '--stop-timeout', '0', '--network', 'none', IMG, 'sleep', '300']);
    for (const [net, name] of [['host', 'onhost'], ['none', 'onnone']]) {
      const id = inspect(name, '{{.Id}}');
      const members = JSON.parse(ok(['network', 'inspect', '-f', '{{json .Containers}}', net])) as Record<string, Record<string, string>>;
      const endpointId = inspect(name, `{{.NetworkSettings.Networks.${net}.EndpointID}}`);
      expect(endpointId).toMatch(/^[0-9a-f]{64}$/);
      expect(members[id]).toEqual({ Name: name, EndpointID: endpointId, MacAddress: '', IPv4Address: '', IPv6Address: '' });
    }
    ok(['stop', 'onhost', 'onnone']);
    expect(ok(['network', 'inspect', '-f', '{{json .Containers}}', 'host', 'none'])).toBe('{}\n{}\n');
    expect(inspect('onhost', '{{.NetworkSettings.Networks.host.EndpointID}}')).toBe('');
    ok(['rm', 'onhost', 'onnone']);
  });

  it('publishes ports through the userland proxy: -p, -P with EXPOSE, UDP, and refuses a taken port', async () => {
    const port = randomInt(20000, 30000);
    ok(['run', '-d', '--name', 'httpd', '-p', `127.0.0.1:${port}:80`, IMG, 'httpd', '-f', '-p', '80', '-h', '/etc']);
    const res = await eventually(() => httpGet(port, '/hostname'));
    expect(res.status).toBe(200);
    expect(res.body).toBe(`${inspect('httpd', '{{.Config.Hostname}}')}\n`);
    expect(ok(['port', 'httpd'])).toBe(`80/tcp -> 127.0.0.1:${port}\n`);
    expect(ok(['ps', '--filter', 'name=httpd', '--format', '{{.Ports}}'])).toBe(`127.0.0.1:${port}->80/tcp\n`);
    expect(JSON.parse(inspect('httpd', '{{json .NetworkSettings.Ports}}'))).toEqual({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] });

    const veths = mine();
    const taken = d.docker(['run', '-d', '--name', 'httpd2', '-p', `127.0.0.1:${port}:80`, IMG, 'httpd', '-f', '-p', '80']);
    expect(taken.status).not.toBe(0);
    expect(taken.stderr).toContain(`Bind for 127.0.0.1:${port} failed: port is already allocated`);
    expect(inspect('httpd2', '{{.State.Status}}')).toBe('created');
    expect(mine()).toEqual(veths);
    ok(['rm', 'httpd2']);

    ok(['run', '-d', '--name', 'exposed', '-P', WEB]);
    const mapping = ok(['port', 'exposed', '80/tcp']).trim();
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const published = Number(/^0\.0\.0\.0:(\d+)$/.exec(mapping)?.[1]);
    expect(published).toBeGreaterThanOrEqual(lo);
    expect(published).toBeLessThanOrEqual(hi);
    expect((await eventually(() => httpGet(published, '/hostname'))).status).toBe(200);

    // UDP: an echo server inside the container's namespace, reached through the proxy on loopback.
    const udpPort = randomInt(30001, 32000);
    ok(['run', '-d', '--name', 'udp', '-p', `127.0.0.1:${udpPort}:7777/udp`, IMG, 'sleep', '120']);
    const key = inspect('udp', '{{.NetworkSettings.SandboxKey}}');
    const echo: ChildProcess = spawn('nsenter', [`--net=${key}`, process.execPath, '-e', "const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(Buffer.concat([Buffer.from('echo:'),m]),r.port,r.address));s.bind(7777,()=>console.log('ready'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => echo.stdout!.once('data', () => resolve()));
      const reply = await new Promise<string>((resolve, reject) => {
        const s = createSocket('udp4');
        const t = setTimeout(() => reject(new Error('no UDP reply through the proxy')), 3000);
        s.on('message', (m) => {
          clearTimeout(t);
          s.close();
          resolve(m.toString());
        });
        s.send('ping', udpPort, '127.0.0.1');
      });
      expect(reply).toBe('echo:ping');
    } finally {
      echo.kill();
    }
    expect(ok(['port', 'udp'])).toBe(`7777/udp -> 127.0.0.1:${udpPort}\n`);

    const hostNet = d.docker(['run', '--rm', '--network', 'host', '-p', '8080:80', IMG, 'true']);
    expect(hostNet.status).toBe(0);
    expect(hostNet.stderr).toContain('WARNING: Published ports are discarded when using host network mode');

    ok(['rm', '-f', 'httpd', 'exposed', 'udp']);
    await expect(httpGet(port)).rejects.toThrow();
  });

  it('sends published traffic from the bridges through DNAT, not only the proxy', async () => {
    ok(['run', '-d', '--name', 'dnat', '-p', '80', IMG, 'httpd', '-f', '-p', '80', '-h', '/etc']);
    const hostPort = /:(\d+)$/.exec(ok(['port', 'dnat', '80']).trim())![1];
    await eventually(() => httpGet(Number(hostPort)));
    // A client on another network asks the host at its gateway: PREROUTING rewrites it to the
    // container (as in Docker, clients on the container's own bridge are left to the proxy).
    const get = d.docker(['run', '--rm', '--network', 'appnet', IMG, 'sh', '-c', `printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${prefix(2)}.1 ${hostPort}`]);
    expect(get.stdout).toMatch(/^HTTP\/1\.[01] 200 OK\r\n/);
    expect(get.stdout.endsWith(`\r\n\r\n${inspect('dnat', '{{.Config.Hostname}}')}\n`)).toBe(true);
    const nat = spawnSync('iptables', ['-w', '-t', 'nat', '-L', `BERTH-${d.bridge}-DNAT`, '-n', '-v', '-x'], { encoding: 'utf8' }).stdout;
    const rule = nat.split('\n').find((l) => l.includes(`dpt:${hostPort}`) && l.includes('DNAT'));
    expect(rule).toBeDefined();
    expect(Number(rule!.trim().split(/\s+/)[0])).toBeGreaterThan(0);
    ok(['rm', '-f', 'dnat']);
    expect(spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).stdout).not.toContain(`--dport ${hostPort} `);
  });

  it('sets the MAC address asked for, and reports network events', async () => {
    const created = await d.api<{ Id: string }>('POST', '/v1.43/containers/create?name=macd', { Image: IMG, Cmd: ['sleep', '30'], MacAddress: '02:42:aa:bb:cc:dd' });
    expect(created.status).toBe(201);
    ok(['start', 'macd']);
    expect(ok(['exec', 'macd', 'cat', '/sys/class/net/eth0/address'])).toBe('02:42:aa:bb:cc:dd\n');
    expect(inspect('macd', '{{.NetworkSettings.MacAddress}}')).toBe('02:42:aa:bb:cc:dd');
    ok(['rm', '-f', 'macd']);
    const now = Math.ceil(Date.now() / 1000) + 1;
    const ev = d.docker(['events', '--since', '0', '--until', String(now), '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
    const lines = ev.stdout.split('\n');
    for (const want of ['create appnet', 'connect appnet', 'disconnect appnet', 'destroy isolated', 'connect bridge']) expect(lines).toContain(want);
  });

  it('reports host and none containers joining and leaving those networks, with their drivers as the type', () => {
    const since = (Date.now() / 1000).toFixed(3);
    ok(['run', '--rm', '--network', 'none', IMG, 'true']);
    ok(['run', '--rm', '--network', 'host', IMG, 'true']);
    const until = (Date.now() / 1000 + 1).toFixed(3);
    const ev = d.docker(['events', '--since', since, '--until', until, '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.type}} {{.Actor.ID}}']);
    const ids = Object.fromEntries(['none', 'host'].map((n) => [n, inspect(n, '{{.Id}}')]));
    expect(ev.stdout).toBe(`connect none null ${ids.none}\ndisconnect none null ${ids.none}\nconnect host host ${ids.host}\ndisconnect host host ${ids.host}\n`);
  });

  it('prints with the berth client what the docker CLI prints', () => {
    ok(['run', '-d', '--name', 'ported', '-p', '127.0.0.1::80', '-p', '127.0.0.1::53/udp', IMG, 'sleep', '60']);
    for (const args of [['network', 'ls'], ['network', 'ls', '-q', '--filter', 'type=custom'], ['port', 'ported'], ['port', 'ported', '53/udp'], ['network', 'inspect', 'appnet'], ['ps', '--filter', 'name=ported', '--format', '{{.Names}} {{.Ports}}']]) {
      const theirs = d.docker(args);
      const mine = d.berth(args);
      expect(mine.stdout).toBe(theirs.stdout);
      expect(mine.status).toBe(theirs.status);
    }
    expect(d.berth(['port', 'ported', '81']).stderr).toBe(d.docker(['port', 'ported', '81']).stderr);
    const made = d.berth(['network', 'create', '--subnet', subnet(6), '--gateway', `${prefix(6)}.254`, 'viaberth']);
    expect(made.stderr).toBe('');
    const id = made.stdout.trim();
    expect(inspect('viaberth', '{{range .IPAM.Config}}{{.Gateway}}{{end}}')).toBe(`${prefix(6)}.254`);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(d.berth(['network', 'create', '--subnet', subnet(7), '--gateway', '10.0.0.1', 'badgw']).stderr).toContain('no matching subnet for gateway 10.0.0.1');
    d.berth(['network', 'connect', '--alias', 'pp', 'viaberth', 'ported']);
    // The docker CLI's body, so the same endpoint as docker's connect makes.
    expect(JSON.parse(inspect('ported', '{{json .NetworkSettings.Networks.viaberth}}'))).toMatchObject({ IPAMConfig: {}, Links: null, DriverOpts: {} });
    expect(inspect('ported', '{{json .NetworkSettings.Networks.viaberth.Aliases}}')).toBe(`["pp","${inspect('ported', '{{.Id}}').slice(0, 12)}"]`);
    expect(d.berth(['network', 'disconnect', 'viaberth', 'ported']).status).toBe(0);
    ok(['rm', '-f', 'ported']);
    ok(['network', 'create', '--subnet', subnet(7), '--label', 'gone=yes', 'prunable']);
    expect(d.berth(['network', 'prune', '-f', '--filter', 'label=gone=yes']).stdout).toBe('Deleted Networks:\nprunable\n\n');
    expect(d.berth(['network', 'rm', 'viaberth']).stdout).toBe('viaberth\n');
    expect(d.berth(['network', 'rm', 'viaberth']).stderr).toBe(d.docker(['network', 'rm', 'viaberth']).stderr);
  });

  it('gives 20 containers started in parallel 20 distinct addresses', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `par${i}`);
    const runs = await Promise.all(
      names.map(
        (n) =>
          new Promise<number | null>((resolve) => {
            const p = spawn('/usr/local/bin/docker', ['run', '-d', '--name', n, '--network', 'appnet', IMG, 'sleep', '60'], { env: { ...process.env, DOCKER_HOST: d.host } });
            p.on('close', resolve);
          }),
      ),
    );
    expect(runs).toEqual(names.map(() => 0));
    const ips = names.map((n) => inspect(n, '{{.NetworkSettings.Networks.appnet.IPAddress}}'));
    expect(new Set(ips).size).toBe(20);
    for (const ip of ips) expect(ip.startsWith(`${prefix(2)}.`)).toBe(true);
    ok(['rm', '-f', ...names]);
  });
  it('comes back after a crash: networks kept, bridges and rules made again once, old endpoints freed', async () => {
    const id = ok(['network', 'create', '--subnet', subnet(8), 'keep']).trim();
    ok(['run', '-d', '--name', 'survivor', '--network', 'keep', '-p', '127.0.0.1::80', IMG, 'httpd', '-f', '-p', '80', '-h', '/etc']);
    d.proc.kill('SIGKILL');
    await new Promise((r) => d.proc.once('close', r));
    d = await startDaemon(d.dirs, { config: { dns: [upstreamIp] } });
    expect(ok(['network', 'ls', '-q', '--no-trunc', '--filter', 'name=keep'])).toBe(`${id}\n`);
    const bridge = `br-${id.slice(0, 12)}`;
    // The dead container's namespace is gone, and with it its veth: only the bridges remain.
    await eventually(async () => expect(mine().filter((l) => l.startsWith('veth'))).toEqual([]));
    expect(mine()).toContain(bridge);
    const rules = spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout.split('\n');
    expect(rules.filter((l) => l === `-A FORWARD -j BERTH-${d.bridge}`)).toHaveLength(1);
    expect(rules.filter((l) => l.startsWith(`-A BERTH-${d.bridge}-DNAT`))).toEqual([]);
    expect(rules.filter((l) => l.includes(`-i ${bridge} -o ${bridge} -j ACCEPT`))).toHaveLength(1);
    ok(['start', 'survivor']);
    const port = Number(/:(\d+)$/.exec(ok(['port', 'survivor', '80']).trim())![1]);
    expect((await eventually(() => httpGet(port, '/hostname'))).status).toBe(200);
    expect(ok(['run', '--rm', '--network', 'keep', IMG, 'ping', '-c', '1', '-W', '2', 'survivor'])).toContain('1 packets received');
    ok(['rm', '-f', 'survivor']);
    ok(['network', 'rm', 'keep']);
  }, 60_000);
});
