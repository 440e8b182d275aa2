import { describe, expect, it } from 'vitest';
import { Ipam, formatCidr, intToIp, ipToInt, macFor, parseCidr } from '../../daemon/network/ipam';

describe('ipam', () => {
  it('parses CIDRs with host addresses as --bip gives them', () => {
    const { address, cidr } = parseCidr('172.29.0.1/16');
    expect(intToIp(address)).toBe('172.29.0.1');
    expect(formatCidr(cidr)).toBe('172.29.0.0/16');
    expect(() => parseCidr('300.1.1.1/8')).toThrow('invalid IPv4 address');
    expect(() => parseCidr('10.0.0.0/33')).toThrow('invalid CIDR');
    expect(ipToInt('255.255.255.255')).toBe(0xffffffff);
  });

  it('makes Docker MACs from addresses', () => {
    expect(macFor('172.17.0.3')).toBe('02:42:ac:11:00:03');
    expect(macFor('192.168.0.2')).toBe('02:42:c0:a8:00:02');
  });

  it('hands out addresses in order, skipping the gateway, and never twice', () => {
    const ipam = new Ipam({ subnet: '10.1.2.0/24', gateway: '10.1.2.1', allocated: {}, cursor: 1 });
    expect(ipam.allocate('a')).toBe('10.1.2.2');
    expect(ipam.allocate('b')).toBe('10.1.2.3');
    ipam.release('10.1.2.2');
    // The freed address is not reused at once: the cursor moves on.
    expect(ipam.allocate('c')).toBe('10.1.2.4');
    expect(ipam.state.allocated).toEqual({ '10.1.2.3': 'b', '10.1.2.4': 'c' });
  });

  it('wraps around and reports exhaustion', () => {
    const ipam = new Ipam({ subnet: '10.9.9.0/30', gateway: '10.9.9.1', allocated: {}, cursor: 1 });
    expect(ipam.allocate('a')).toBe('10.9.9.2');
    expect(() => ipam.allocate('b')).toThrow('no available IPv4 addresses');
    ipam.release('10.9.9.2');
    expect(ipam.allocate('c')).toBe('10.9.9.2');
  });

  it('honours a requested address and refuses taken or foreign ones', () => {
    const ipam = new Ipam({ subnet: '10.1.2.0/24', gateway: '10.1.2.1', allocated: {}, cursor: 1 });
    expect(ipam.allocate('a', '10.1.2.50')).toBe('10.1.2.50');
    expect(() => ipam.allocate('b', '10.1.2.50')).toThrow('Address already in use');
    expect(() => ipam.allocate('b', '10.1.2.1')).toThrow('Address already in use');
    expect(() => ipam.allocate('b', '10.1.3.5')).toThrow('is not in 10.1.2.0/24');
  });

  it('frees the addresses of containers that are gone', () => {
    const ipam = new Ipam({ subnet: '10.1.2.0/24', gateway: '10.1.2.1', allocated: { '10.1.2.2': 'dead', '10.1.2.3': 'live' }, cursor: 3 });
    ipam.releaseAllExcept(new Set(['live']));
    expect(ipam.state.allocated).toEqual({ '10.1.2.3': 'live' });
  });
});
