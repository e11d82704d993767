import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrame, MAX_DEPTH } from './decode.js';
import { buildTcpFrame, linkTypeOf } from './build.js';
import type { BuildLink, TcpFrameSpec } from './build.js';
import { LinkType } from './link.js';
import { TcpFlag } from './types.js';
import type { FrameDecode, FrameTcp } from './types.js';
import { verifyTcpChecksum } from './checksum.js';

const V4 = { version: 4 as const, src: '192.0.2.1', dst: '198.51.100.2', ttl: 61, tos: 0x10, ident: 4321 };
const V6 = { version: 6 as const, src: '2001:db8::1', dst: '2001:db8:0:1::2', ttl: 62, tos: 0x28 };
const TCP = {
  srcPort: 40000, dstPort: 443, seqNumber: 0xfffffff0, ackNumber: 17, flags: TcpFlag.RST | TcpFlag.ACK,
  window: 512, options: [{ kind: 'timestamps' as const, tsVal: 5, tsEcr: 6 }], payload: Uint8Array.of(1, 2, 3, 4, 5),
};

function spec(link: BuildLink, version: 4 | 6, extra: Partial<TcpFrameSpec> = {}): TcpFrameSpec {
  return { link, ip: version === 4 ? V4 : V6, tcp: TCP, ...extra };
}

function asTcp(d: FrameDecode, what = ''): FrameTcp {
  assert.equal(d.kind, 'tcp', `${what}: ${JSON.stringify(d)}`);
  return d as FrameTcp;
}

function expectSegment(d: FrameDecode, version: 4 | 6, what: string, anomalies: string[] = []): FrameTcp {
  const f = asTcp(d, what);
  const ip = version === 4 ? V4 : V6;
  assert.equal(f.ip.version, version, what);
  assert.equal(f.ip.src, ip.src, what);
  assert.equal(f.ip.dst, ip.dst, what);
  assert.equal(f.ip.ttl, ip.ttl, what);
  assert.equal(f.ip.tos, ip.tos, what);
  assert.equal(f.ip.ident, version === 4 ? V4.ident : null, what);
  assert.equal(f.tcp.srcPort, TCP.srcPort, what);
  assert.equal(f.tcp.dstPort, TCP.dstPort, what);
  assert.equal(f.tcp.seqNumber, TCP.seqNumber, what);
  assert.equal(f.tcp.ackNumber, TCP.ackNumber, what);
  assert.equal(f.tcp.flags, TCP.flags, what);
  assert.ok(f.tcp.rst && f.tcp.ack && !f.tcp.syn, what);
  assert.equal(f.tcp.window, 512, what);
  assert.equal(f.tcp.headerLength, 32, what);
  assert.deepEqual(f.tcp.options(), [{ kind: 'timestamps', tsVal: 5, tsEcr: 6 }], what);
  assert.deepEqual([...f.tcp.payload], [1, 2, 3, 4, 5], what);
  assert.equal(f.payloadLength, 5, what);
  assert.deepEqual([...f.anomalies], anomalies, what);
  return f;
}

/** An IPv4 header (no options, good checksum) in front of `inner`. */
function ipv4Wrap(proto: number, inner: Uint8Array, flagsOffset = 0): Uint8Array {
  const b = new Uint8Array(20 + inner.length);
  const len = b.length;
  b.set([0x45, 0, len >> 8, len & 0xff, 0, 1, flagsOffset >> 8, flagsOffset & 0xff, 64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
  b.set(inner, 20);
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += (b[i] << 8) | b[i + 1];
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  b[10] = (~s >> 8) & 0xff; b[11] = ~s & 0xff;
  return b;
}
function ipv6Wrap(nh: number, inner: Uint8Array): Uint8Array {
  const b = new Uint8Array(40 + inner.length);
  b.set([0x60, 0, 0, 0, inner.length >> 8, inner.length & 0xff, nh, 64]);
  b[8] = 0xfd; b[23] = 1; b[24] = 0xfd; b[39] = 2;
  b.set(inner, 40);
  return b;
}
const cat = (...parts: ArrayLike<number>[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};
const MACS = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
const ether = (type: number, payload: Uint8Array): Uint8Array => cat(MACS, [type >> 8, type & 0xff], payload);
const raw4 = buildTcpFrame(spec('raw', 4));
const raw6 = buildTcpFrame(spec('raw', 6));

test('every link type the builder writes decodes back (IPv4 and IPv6), checksums right', () => {
  const links: BuildLink[] = ['ethernet', 'vlan', 'qinq', 'pppoe', 'raw', 'null', 'loop', 'sll', 'sll2', 'ppp'];
  for (const link of links) {
    for (const version of [4, 6] as const) {
      const frame = buildTcpFrame(spec(link, version));
      const f = expectSegment(decodeFrame(linkTypeOf(link), frame, frame.length), version, `${link}/v${version}`);
      assert.equal(verifyTcpChecksum(f), true, `${link}/v${version} checksum`);
    }
  }
});

test('raw IP under every raw link type number', () => {
  for (const lt of [LinkType.RAW, LinkType.RAW_DLT12, LinkType.RAW_DLT14]) {
    expectSegment(decodeFrame(lt, raw4, raw4.length), 4, `raw ${lt}`);
    expectSegment(decodeFrame(lt, raw6, raw6.length), 6, `raw ${lt}`);
  }
  expectSegment(decodeFrame(LinkType.IPV4, raw4, raw4.length), 4, 'LINKTYPE_IPV4');
  expectSegment(decodeFrame(LinkType.IPV6, raw6, raw6.length), 6, 'LINKTYPE_IPV6');
  const d = decodeFrame(LinkType.IPV4, raw6, raw6.length);
  assert.equal(d.kind === 'malformed' && d.anomaly, 'ipv4-bad-version');
  const v5 = new Uint8Array(raw4); v5[0] = 0x55;
  const r = decodeFrame(LinkType.RAW, v5, v5.length);
  assert.equal(r.kind === 'malformed' && r.anomaly, 'raw-bad-version');
});

test('BSD NULL/LOOP: AF_INET and every AF_INET6 value, both byte orders', () => {
  for (const lt of [LinkType.NULL, LinkType.LOOP]) {
    for (const [af, version] of [[2, 4], [24, 6], [28, 6], [30, 6]] as const) {
      const ip = version === 4 ? raw4 : raw6;
      const le = cat([af, 0, 0, 0], ip);
      const be = cat([0, 0, 0, af], ip);
      expectSegment(decodeFrame(lt, le, le.length), version, `${lt} le ${af}`);
      expectSegment(decodeFrame(lt, be, be.length), version, `${lt} be ${af}`);
    }
    const other = cat([7, 0, 0, 0], raw4);
    assert.deepEqual(decodeFrame(lt, other, other.length), { kind: 'not-tcp', what: 'af-7' });
    const short = decodeFrame(lt, Uint8Array.of(2, 0), 2);
    assert.equal(short.kind === 'malformed' && short.anomaly, 'null-truncated');
  }
});

test('VLAN stacks: 802.1Q, 802.1ad, 0x9100, three deep, and a cut tag', () => {
  const stacks: number[][] = [[0x8100], [0x88a8, 0x8100], [0x9100, 0x8100], [0x88a8, 0x8100, 0x8100]];
  for (const stack of stacks) {
    for (const version of [4, 6] as const) {
      const ip = version === 4 ? raw4 : raw6;
      const parts: number[] = [];
      for (let i = 1; i < stack.length; i += 1) parts.push(0x20, i, stack[i] >> 8, stack[i] & 0xff);
      const et = version === 4 ? 0x0800 : 0x86dd;
      parts.push(0x00, 0x64, et >> 8, et & 0xff);
      const frame = ether(stack[0], cat(parts, ip));
      expectSegment(decodeFrame(1, frame, frame.length), version, `vlan ${stack.map((s) => s.toString(16))}`);
    }
  }
  const cut = ether(0x8100, Uint8Array.of(0, 0x64));
  const d = decodeFrame(1, cut, cut.length);
  assert.equal(d.kind === 'malformed' && d.anomaly, 'vlan-truncated');
  const deep = ether(0x8100, cat(...Array.from({ length: MAX_DEPTH + 2 }, () => [0, 1, 0x81, 0x00]), raw4));
  const r = decodeFrame(1, deep, deep.length);
  assert.equal(r.kind === 'malformed' && r.anomaly, 'too-many-encapsulations');
});

test('LLC/SNAP, MPLS, PPPoE, PPP, Cisco HDLC, SLL pseudo-protocols', () => {
  const snap = ether(raw4.length + 8, cat([0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00], raw4));
  expectSegment(decodeFrame(1, snap, snap.length), 4, 'snap');
  const stp = ether(38, Uint8Array.of(0x42, 0x42, 0x03, 0, 0, 0));
  assert.deepEqual(decodeFrame(1, stp, stp.length), { kind: 'not-tcp', what: 'llc' });
  const mpls4 = ether(0x8847, cat([0x00, 0x01, 0x20, 0x40, 0x00, 0x00, 0x01, 0x40], raw4)); // label 18, then explicit null (S)
  expectSegment(decodeFrame(1, mpls4, mpls4.length), 4, 'mpls explicit null');
  const mplsGuess = ether(0x8847, cat([0x00, 0x01, 0x21, 0x40], raw6));
  expectSegment(decodeFrame(1, mplsGuess, mplsGuess.length), 6, 'mpls guessed v6');
  const pppoe6 = buildTcpFrame(spec('pppoe', 6));
  expectSegment(decodeFrame(1, pppoe6, pppoe6.length), 6, 'pppoe');
  const pppCompressed = cat([0x21], raw4); // protocol field compressed to one byte, no FF 03
  expectSegment(decodeFrame(LinkType.PPP, pppCompressed, pppCompressed.length), 4, 'ppp compressed');
  const pppHdlc = cat([0xff, 0x03, 0x00, 0x57], raw6);
  expectSegment(decodeFrame(LinkType.PPP_HDLC, pppHdlc, pppHdlc.length), 6, 'ppp hdlc');
  const pppEther = cat([0x11, 0, 0, 1, 0, raw4.length + 2, 0, 0x21], raw4);
  expectSegment(decodeFrame(LinkType.PPP_ETHER, pppEther, pppEther.length), 4, 'ppp ether');
  const lcp = Uint8Array.of(0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4);
  assert.deepEqual(decodeFrame(LinkType.PPP, lcp, lcp.length), { kind: 'not-tcp', what: 'ppp-0xc021' });
  const chdlc = cat([0x0f, 0x00, 0x86, 0xdd], raw6);
  expectSegment(decodeFrame(LinkType.C_HDLC, chdlc, chdlc.length), 6, 'c_hdlc');
  expectSegment(decodeFrame(LinkType.PPP_HDLC, chdlc, chdlc.length), 6, 'c_hdlc on ppp_serial');
  const sllLlc = new Uint8Array(buildTcpFrame(spec('sll', 4)));
  sllLlc[14] = 0; sllLlc[15] = 1;
  assert.deepEqual(decodeFrame(LinkType.LINUX_SLL, sllLlc, sllLlc.length), { kind: 'not-tcp', what: 'sll-protocol-0x0001' });
});

test('tunnels: IP-in-IP, 6in4, 4in6, 6in6, GRE (plain, key+seq+checksum, TEB, PPTP) → innermost, tunnelled', () => {
  const cases: Array<[string, Uint8Array, 4 | 6]> = [
    ['ipip', ipv4Wrap(4, raw4), 4],
    ['6in4', ipv4Wrap(41, raw6), 6],
    ['4in6', ipv6Wrap(4, raw4), 4],
    ['6in6', ipv6Wrap(41, raw6), 6],
    ['ipip in ipip', ipv4Wrap(4, ipv4Wrap(4, raw4)), 4],
    ['gre v4', ipv4Wrap(47, cat([0, 0, 0x08, 0x00], raw4)), 4],
    ['gre ckey seq', ipv4Wrap(47, cat([0xb0, 0, 0x86, 0xdd, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 1], raw6)), 6],
    ['gre in v6', ipv6Wrap(47, cat([0x20, 0, 0x08, 0x00, 0, 0, 0, 7], raw4)), 4],
    ['gre teb', ipv4Wrap(47, cat([0, 0, 0x65, 0x58], ether(0x0800, raw4))), 4],
    ['gre routing', ipv4Wrap(47, cat([0x40, 0, 0x08, 0x00, 0, 0, 0, 0, 0, 0x01, 0, 4, 1, 2, 3, 4, 0, 0, 0, 0], raw4)), 4],
    ['pptp gre', ipv4Wrap(47, cat([0x30, 0x01, 0x88, 0x0b, 0, raw4.length + 4, 0, 9, 0, 0, 0, 1, 0xff, 0x03, 0x00, 0x21], raw4)), 4],
  ];
  for (const [name, packet, version] of cases) {
    const frame = ether(packet[0] >> 4 === 6 ? 0x86dd : 0x0800, packet);
    const f = expectSegment(decodeFrame(1, frame, frame.length), version, name, ['tunnelled']);
    assert.equal(verifyTcpChecksum(f), true, name);
  }
  const greUdp = ipv4Wrap(47, cat([0, 0, 0x08, 0x06], [0, 1]));
  assert.deepEqual(decodeFrame(LinkType.RAW, greUdp, greUdp.length), { kind: 'not-tcp', what: 'arp' });
  const greCut = ipv4Wrap(47, Uint8Array.of(0x30, 0));
  const d = decodeFrame(LinkType.RAW, greCut, greCut.length);
  assert.equal(d.kind === 'malformed' && d.anomaly, 'gre-truncated');
  let nested = raw4;
  for (let i = 0; i <= MAX_DEPTH; i += 1) nested = ipv4Wrap(4, nested);
  const deep = decodeFrame(LinkType.RAW, nested, nested.length);
  assert.equal(deep.kind === 'malformed' && deep.anomaly, 'too-many-encapsulations');
});

test('Teredo (RFC 4380): IPv6 in UDP on any port, after the authentication and origin indicators; anything else is plain UDP', () => {
  const udp = (sport: number, dport: number, payload: Uint8Array) => cat([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, 0, payload.length + 8, 0, 0], payload);
  const origin = [0, 0, 0xf3, 0x4d, 0xb5, 0x45, 0xfe, 0xd9];
  const auth = [0, 1, 2, 1, 0xaa, 0xbb, 0xcc, 1, 2, 3, 4, 5, 6, 7, 8, 0];
  const cases: Array<[string, Uint8Array]> = [
    ['plain, server port', udp(3544, 51000, raw6)],
    ['relay on another port (as in Zeek\'s Teredo trace)', udp(3797, 32900, raw6)],
    ['origin indication', udp(3544, 3797, cat(origin, raw6))],
    ['authentication then origin', udp(3544, 3797, cat(auth, origin, raw6))],
  ];
  for (const [name, dgram] of cases) {
    const frame = ether(0x0800, ipv4Wrap(17, dgram));
    const f = expectSegment(decodeFrame(1, frame, frame.length), 6, name, ['tunnelled']);
    assert.equal(verifyTcpChecksum(f), true, name);
  }
  // An IPv6-looking payload whose length does not end at the datagram's end, and a short one: UDP.
  const longer = ether(0x0800, ipv4Wrap(17, udp(3544, 3797, cat(raw6, [0, 0]))));
  assert.deepEqual(decodeFrame(1, longer, longer.length), { kind: 'not-tcp', what: 'udp' });
  const dns = ether(0x0800, ipv4Wrap(17, udp(53, 3544, Uint8Array.of(0x60, 1, 2, 3))));
  assert.deepEqual(decodeFrame(1, dns, dns.length), { kind: 'not-tcp', what: 'udp' });
});

test('IPv4: options, fragments, AH, bad lengths, TSO length 0', () => {
  // Header with 8 option bytes (NOP ×3, EOL…).
  const opt = new Uint8Array(raw4.length + 8);
  opt.set(raw4.subarray(0, 20));
  opt.set([1, 1, 1, 0, 0, 0, 0, 0], 20);
  opt.set(raw4.subarray(20), 28);
  opt[0] = 0x47;
  opt[3] += 8;
  const fo = asTcp(decodeFrame(LinkType.RAW, opt, opt.length), 'options');
  assert.equal(fo.ip.optionsLength, 8);
  assert.equal(fo.tcp.srcPort, TCP.srcPort);

  const first = new Uint8Array(raw4); first[6] |= 0x20;
  expectSegment(decodeFrame(LinkType.RAW, first, first.length), 4, 'first fragment', ['ip-fragment']);
  const later = new Uint8Array(raw4); later[7] = 3;
  assert.deepEqual(decodeFrame(LinkType.RAW, later, later.length), { kind: 'not-tcp', what: 'ipv4-fragment' });

  const ah = ipv4Wrap(51, cat([6, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], new Array(12).fill(0), raw4.subarray(20)));
  const fa = asTcp(decodeFrame(LinkType.RAW, ah, ah.length), 'ah');
  assert.equal(fa.tcp.dstPort, 443);
  assert.equal(fa.payloadLength, 5);

  const short = new Uint8Array(raw4); short[2] = 0; short[3] = 19;
  const s = decodeFrame(LinkType.RAW, short, short.length);
  assert.equal(s.kind === 'malformed' && s.anomaly, 'ipv4-bad-total-length');
  const tso = new Uint8Array(raw4); tso[2] = 0; tso[3] = 0;
  const t = asTcp(decodeFrame(LinkType.RAW, tso, tso.length), 'tso');
  assert.deepEqual([...t.anomalies], ['ip-length-guessed']);
  assert.equal(t.payloadLength, 5);

  const udp = new Uint8Array(raw4); udp[9] = 17;
  assert.deepEqual(decodeFrame(LinkType.RAW, udp, udp.length), { kind: 'not-tcp', what: 'udp' });
  const arp = ether(0x0806, new Uint8Array(28));
  assert.deepEqual(decodeFrame(1, arp, arp.length), { kind: 'not-tcp', what: 'arp' });
  const lldp = ether(0x88b5, new Uint8Array(28));
  assert.deepEqual(decodeFrame(1, lldp, lldp.length), { kind: 'not-tcp', what: 'ethertype-0x88b5' });
  assert.deepEqual(decodeFrame(147, raw4, raw4.length), { kind: 'unknown-linktype', value: 147 });
});

test('IPv6 extension headers before TCP, fragments, ESP', () => {
  const tcp = raw6.subarray(40);
  const withExt = ipv6Wrap(0, cat([60, 0, 1, 4, 0, 0, 0, 0], [44, 0, 1, 0, 0, 0, 0, 0], [6, 0, 0, 1, 0, 0, 0, 9], tcp));
  // Rewrite the addresses the shared expectations use.
  withExt.set(raw6.subarray(0, 4), 0); withExt.set(raw6.subarray(7, 40), 7);
  const f = asTcp(decodeFrame(LinkType.RAW, withExt, withExt.length), 'ext chain');
  assert.equal(f.ip.optionsLength, 24);
  assert.equal(f.ip.ident, 9);
  assert.deepEqual([...f.anomalies], ['ip-fragment']);
  assert.equal(f.payloadLength, 5);
  assert.equal(verifyTcpChecksum(f), null);
  const later = ipv6Wrap(44, cat([6, 0, 0, 0x10, 0, 0, 0, 9], tcp));
  assert.deepEqual(decodeFrame(LinkType.RAW, later, later.length), { kind: 'not-tcp', what: 'ipv6-fragment' });
  const esp = ipv6Wrap(50, new Uint8Array(24));
  assert.deepEqual(decodeFrame(LinkType.RAW, esp, esp.length), { kind: 'not-tcp', what: 'esp' });
  const icmp6 = ipv6Wrap(58, new Uint8Array(8));
  assert.deepEqual(decodeFrame(LinkType.RAW, icmp6, icmp6.length), { kind: 'not-tcp', what: 'icmpv6' });
  const cutExt = ipv6Wrap(0, Uint8Array.of(6, 2, 0, 0, 0, 0, 0, 0));
  const d = decodeFrame(LinkType.RAW, cutExt, cutExt.length);
  assert.equal(d.kind === 'malformed' && d.anomaly, 'ipv6-bad-extension-length');
});

test('cut at every length: snap length vs. a frame that lies about its length', () => {
  for (const version of [4, 6] as const) {
    const frame = buildTcpFrame(spec('vlan', version));
    const ipStart = 18;
    const tcpStart = ipStart + (version === 4 ? 20 : 40);
    for (let n = 0; n <= frame.length; n += 1) {
      const data = frame.subarray(0, n);
      const snap = decodeFrame(1, data, frame.length);
      const lie = decodeFrame(1, data, n);
      const what = `v${version} n=${n}`;
      if (n < ipStart) {
        assert.equal(snap.kind === 'malformed' && snap.layer, 'link', what);
      } else if (n < tcpStart) {
        assert.equal(snap.kind === 'malformed' && snap.layer, version === 4 ? 'ipv4' : 'ipv6', what);
      } else if (n < tcpStart + 20) {
        assert.equal(snap.kind === 'malformed' && snap.anomaly, 'tcp-truncated', what);
      } else {
        const f = asTcp(snap, what);
        assert.equal(f.tcp.rst, true);
        assert.equal(f.payloadLength, 5, what);
        const want = n === frame.length ? [] : n < tcpStart + 32 ? ['snaplen-cut', 'tcp-header-cut'] : ['snaplen-cut'];
        assert.deepEqual([...f.anomalies], want, what);
        assert.equal(f.tcp.payload.length, Math.max(0, n - tcpStart - 32), what);
      }
      if (n >= tcpStart && n < frame.length) {
        assert.equal(lie.kind === 'malformed' && lie.anomaly, `ipv${version}-length-exceeds-frame`, what);
      }
    }
  }
});

test('TCP oddities: bad data offset, header past the segment, malformed options', () => {
  const bad = new Uint8Array(raw4); bad[32] = 0x40 | (bad[32] & 0x0f);
  const d = decodeFrame(LinkType.RAW, bad, bad.length);
  assert.equal(d.kind === 'malformed' && d.anomaly, 'tcp-bad-offset');
  const big = new Uint8Array(raw4); big[32] = 0xf0;
  const f = asTcp(decodeFrame(LinkType.RAW, big, big.length));
  assert.deepEqual([...f.anomalies], ['tcp-header-exceeds-segment']);
  assert.equal(f.payloadLength, 0);
  const m = buildTcpFrame(spec('raw', 4, { tcp: { ...TCP, options: [], rawOptions: Uint8Array.of(2, 9, 0, 0) } }));
  const fm = asTcp(decodeFrame(LinkType.RAW, m, m.length));
  assert.deepEqual([...fm.anomalies], ['tcp-options-malformed']);
  assert.deepEqual(fm.tcp.options(), [{ kind: 'malformed', type: 2, offset: 20 }]);
});

test('ethernet padding after a short IP packet is not payload', () => {
  const frame = cat(buildTcpFrame(spec('ethernet', 4, { tcp: { ...TCP, options: [], payload: 0 } })), new Array(6).fill(0xee));
  const f = asTcp(decodeFrame(1, frame, frame.length));
  assert.equal(f.payloadLength, 0);
  assert.equal(f.tcp.payload.length, 0);
  assert.deepEqual([...f.anomalies], []);
});
