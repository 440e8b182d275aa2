import { describe, expect, it } from 'vitest';
import { buildReply, hostUpstreams, parseQuery } from '../../daemon/network/dns';
import { cidrContains, cidrsOverlap, Ipam } from '../../daemon/network/ipam';
import { parseHostPort, splitPortKey } from '../../daemon/network/ports';

/** A query as a stub resolver sends it: header, one question. */
function query(id: number, name: string, type: number): Buffer {
  const header = Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, type, 0, 1])]);
}

describe('embedded DNS wire format', () => {
  it('parses a question and answers it with A records behind a name pointer', () => {
    const q = parseQuery(query(0xbeef, 'Web.MyNet', 1))!;
    expect(q).toMatchObject({ id: 0xbeef, name: 'web.mynet', type: 1 });
    const reply = buildReply(q, [Buffer.from([10, 0, 0, 2])]);
    expect(reply.readUInt16BE(0)).toBe(0xbeef);
    // QR, RD copied, AA and RA set, NOERROR; one question, one answer.
    expect(reply.readUInt16BE(2)).toBe(0x8580);
    expect(reply.readUInt16BE(6)).toBe(1);
    const answer = reply.subarray(12 + q.section.length);
    expect([...answer.subarray(0, 4)]).toEqual([0xc0, 0x0c, 0, 1]);
    expect([...answer.subarray(-4)]).toEqual([10, 0, 0, 2]);
    expect(buildReply(q, [], 2).readUInt16BE(2) & 0xf).toBe(2);
  });

  it('refuses truncated or empty messages', () => {
    expect(parseQuery(Buffer.alloc(5))).toBeUndefined();
    expect(parseQuery(query(1, 'a.b', 1).subarray(0, 16))).toBeUndefined();
  });

  it('takes the host nameservers a container could use, not loopback ones', () => {
    expect(hostUpstreams('nameserver 127.0.0.53\nnameserver 10.0.0.2\n# nameserver 1.1.1.1\nnameserver ::1\n')).toEqual(['10.0.0.2']);
  });
});

describe('subnets and ranges', () => {
  it('detects overlap and containment', () => {
    expect(cidrsOverlap('10.1.0.0/16', '10.1.5.0/24')).toBe(true);
    expect(cidrsOverlap('10.1.0.0/24', '10.1.1.0/24')).toBe(false);
    expect(cidrContains('10.1.0.0/24', '10.1.0.255')).toBe(true);
    expect(cidrContains('10.1.0.0/24', '10.1.1.0')).toBe(false);
  });

  it('hands out dynamic addresses from the ip-range only, requested ones from the whole subnet', () => {
    const ipam = new Ipam({ subnet: '10.1.0.0/24', gateway: '10.1.0.1', allocated: {}, cursor: 1, range: '10.1.0.128/30' });
    expect([ipam.allocate('a'), ipam.allocate('b'), ipam.allocate('c'), ipam.allocate('d')]).toEqual(['10.1.0.128', '10.1.0.129', '10.1.0.130', '10.1.0.131']);
    expect(() => ipam.allocate('e')).toThrow('no available IPv4 addresses');
    expect(ipam.allocate('f', '10.1.0.7')).toBe('10.1.0.7');
    ipam.release('10.1.0.129');
    expect(ipam.allocate('g')).toBe('10.1.0.129');
  });
});

describe('port specifications', () => {
  it('parses container ports and host port ranges as dockerd checks them', () => {
    expect(splitPortKey('80/udp')).toEqual([80, 'udp']);
    expect(splitPortKey('443')).toEqual([443, 'tcp']);
    expect(() => splitPortKey('99999/tcp')).toThrow('invalid port specification: "99999"');
    expect(parseHostPort('')).toBeNull();
    expect(parseHostPort('8000-8010')).toEqual([8000, 8010]);
    expect(() => parseHostPort('99999')).toThrow('invalid port specification: "99999"');
    expect(() => parseHostPort('9-2')).toThrow('invalid port specification');
  });
});
