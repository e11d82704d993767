// Builder tests, with tshark and tcpdump as oracles: frames built for every link type are written
// to pcap files and read back by both tools; every field must agree with the spec and with our
// own decode, and tshark must find the IPv4 header and TCP checksums good.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { buildTcpFrame, linkTypeOf, tcpFrameLength, WireBuildError } from './build.js';
import type { BuildLink, BuildTcpOption, TcpFrameSpec } from './build.js';
import { decodeFrame } from './decode.js';
import { verifyTcpChecksum } from './checksum.js';
import { formatIpv6 } from './addr.js';
import { pcapFile } from './pcap-fixture.js';
import { tcpdumpTcpFlags } from './tcpdump-oracle.js';
import type { FrameTcp } from './types.js';

const LINKS: BuildLink[] = ['ethernet', 'vlan', 'qinq', 'pppoe', 'raw', 'null', 'loop', 'sll', 'sll2', 'ppp'];

const dir = mkdtempSync(join(tmpdir(), 'rstlab-wire-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 << 20, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${String(err)}\n${stderr}`)); else resolve(stdout);
    });
  });
}

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const ipv4Text = fc.tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 }))
  .map((a) => a.join('.'));
// Random groups with many zeros, sometimes shaped as IPv4-mapped or IPv4-compatible addresses.
const ipv6Text = fc.tuple(fc.array(fc.oneof(fc.constant(0), u16), { minLength: 8, maxLength: 8 }), fc.nat(3)).map(([g, shape]) => {
  if (shape === 1) g.fill(0, 0, 5).fill(0xffff, 5, 6);
  if (shape === 2) g.fill(0, 0, 6);
  const b = new Uint8Array(16);
  g.forEach((x, i) => { b[2 * i] = x >> 8; b[2 * i + 1] = x & 0xff; });
  return formatIpv6(b, 0);
});
const option: fc.Arbitrary<BuildTcpOption> = fc.oneof(
  u16.map((value) => ({ kind: 'mss' as const, value })),
  fc.integer({ min: 0, max: 14 }).map((shift) => ({ kind: 'window-scale' as const, shift })),
  fc.constant({ kind: 'sack-permitted' as const }),
  fc.tuple(u32, u32).map(([tsVal, tsEcr]) => ({ kind: 'timestamps' as const, tsVal, tsEcr })),
  fc.array(fc.tuple(u32, u32), { minLength: 1, maxLength: 1 }).map((blocks) => ({ kind: 'sack' as const, blocks })),
  fc.constant({ kind: 'nop' as const }),
);
function specArb(link: BuildLink): fc.Arbitrary<TcpFrameSpec> {
  return fc.record({
    version: fc.constantFrom(4 as const, 6 as const),
    v4: fc.tuple(ipv4Text, ipv4Text),
    v6: fc.tuple(ipv6Text, ipv6Text),
    ttl: fc.integer({ min: 1, max: 255 }),
    tos: fc.nat(255),
    ident: u16,
    df: fc.boolean(),
    srcPort: fc.integer({ min: 1, max: 0xffff }),
    dstPort: fc.integer({ min: 1, max: 0xffff }),
    seq: u32,
    ack: u32,
    flags: fc.integer({ min: 0, max: 0x1ff }),
    window: u16,
    options: fc.array(option, { maxLength: 3 }),
    payload: fc.oneof(fc.nat(200), fc.uint8Array({ maxLength: 64 })),
  }).map((r): TcpFrameSpec => ({
    link,
    ip: r.version === 4
      ? { version: 4, src: r.v4[0], dst: r.v4[1], ttl: r.ttl, tos: r.tos, ident: r.ident, dontFragment: r.df }
      : { version: 6, src: r.v6[0], dst: r.v6[1], ttl: r.ttl, tos: r.tos },
    tcp: {
      srcPort: r.srcPort, dstPort: r.dstPort, seqNumber: r.seq, ackNumber: r.ack, flags: r.flags,
      window: r.window, options: r.options, payload: r.payload,
    },
  }));
}

const FIELDS = [
  'frame.number', 'ip.src', 'ip.dst', 'ip.ttl', 'ip.dsfield', 'ip.id', 'ip.flags.df', 'ip.checksum.status',
  'ipv6.src', 'ipv6.dst', 'ipv6.hlim', 'ipv6.tclass', 'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw',
  'tcp.flags', 'tcp.window_size_value', 'tcp.hdr_len', 'tcp.len', 'tcp.checksum.status', 'tcp.options.mss_val',
  'tcp.options.wscale.shift', 'tcp.options.timestamp.tsval', 'tcp.options.timestamp.tsecr',
] as const;

test('built frames on every link type read back identically by rstlab, tshark and tcpdump', async () => {
  const perLink = 25;
  await Promise.all(LINKS.map(async (link, li) => {
    const specs = fc.sample(specArb(link), { numRuns: perLink, seed: 4242 + li });
    const frames = specs.map((s) => buildTcpFrame(s));
    const file = join(dir, `${link}.pcap`);
    writeFileSync(file, pcapFile(linkTypeOf(link), frames.map((data) => ({ data }))));
    const [tsharkOut, tcpdumpOut] = await Promise.all([
      run('tshark', ['-r', file, '-n', '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE',
        '-o', 'tcp.relative_sequence_numbers:FALSE', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f',
        ...FIELDS.flatMap((f) => ['-e', f])]),
      run('tcpdump', ['-#', '-nr', file]),
    ]);
    const rows = tsharkOut.trim().split('\n').map((l) => l.split('\t'));
    assert.equal(rows.length, specs.length, link);
    const tdFlags = tcpdumpTcpFlags(tcpdumpOut);
    rows.forEach((row, i) => {
      const f = Object.fromEntries(FIELDS.map((name, k) => [name, row[k] ?? '']));
      const s = specs[i];
      const what = `${link} frame ${i + 1}: ${JSON.stringify(s)}`;
      const d = decodeFrame(linkTypeOf(link), frames[i], frames[i].length);
      assert.equal(d.kind, 'tcp', what);
      const t = d as FrameTcp;
      assert.equal(verifyTcpChecksum(t), true, what);
      assert.equal(f['tcp.checksum.status'], '1', what);
      if (s.ip.version === 4) {
        assert.equal(f['ip.checksum.status'], '1', what);
        assert.equal(f['ip.src'], t.ip.src, what);
        assert.equal(f['ip.dst'], t.ip.dst, what);
        assert.equal(t.ip.src, s.ip.src, what);
        assert.equal(Number(f['ip.ttl']), t.ip.ttl, what);
        assert.equal(Number(f['ip.dsfield']), t.ip.tos, what);
        assert.equal(Number(f['ip.id']), t.ip.ident, what);
        assert.equal(f['ip.flags.df'] === '1' || f['ip.flags.df'] === 'True', t.ip.dontFragment, what);
      } else {
        assert.equal(f['ipv6.src'], t.ip.src, what);
        assert.equal(f['ipv6.dst'], t.ip.dst, what);
        assert.equal(t.ip.src, s.ip.src, what);
        assert.equal(Number(f['ipv6.hlim']), t.ip.ttl, what);
        assert.equal(Number(f['ipv6.tclass']), t.ip.tos, what);
      }
      assert.equal(Number(f['tcp.srcport']), t.tcp.srcPort, what);
      assert.equal(Number(f['tcp.dstport']), t.tcp.dstPort, what);
      assert.equal(Number(f['tcp.seq_raw']), t.tcp.seqNumber, what);
      assert.equal(Number(f['tcp.ack_raw']), t.tcp.ackNumber, what);
      assert.equal(Number(f['tcp.flags']), t.tcp.flags, what);
      assert.equal(t.tcp.flags, s.tcp.flags, what);
      assert.equal(Number(f['tcp.window_size_value']), t.tcp.window, what);
      assert.equal(Number(f['tcp.hdr_len']), t.tcp.headerLength, what);
      assert.equal(Number(f['tcp.len']), t.payloadLength, what);
      const opts = t.tcp.options();
      const mss = opts.find((o) => o.kind === 'mss');
      assert.equal(f['tcp.options.mss_val'], mss ? String(mss.value) : '', what);
      const ws = opts.find((o) => o.kind === 'window-scale');
      assert.equal(f['tcp.options.wscale.shift'], ws ? String(ws.shift) : '', what);
      const ts = opts.find((o) => o.kind === 'timestamps');
      assert.equal(f['tcp.options.timestamp.tsval'], ts ? String(ts.tsVal) : '', what);
      assert.equal(f['tcp.options.timestamp.tsecr'], ts ? String(ts.tsEcr) : '', what);
      // tcpdump: the R letter exactly when RST is set.
      const letters = tdFlags.get(i + 1);
      assert.ok(letters !== undefined, `tcpdump printed no TCP line for ${what}`);
      assert.equal(letters[letters.length - 1].includes('R'), t.tcp.rst, what);
    });
  }));
});

test('options round-trip through the builder, including unknown and MD5', () => {
  const options: BuildTcpOption[] = [
    { kind: 'md5' }, { kind: 'unknown', type: 34, data: Uint8Array.of(1, 2) }, { kind: 'sack', blocks: [[5, 9]] },
  ];
  const frame = buildTcpFrame({
    link: 'raw', ip: { version: 4, src: '10.0.0.1', dst: '10.0.0.2' },
    tcp: { srcPort: 1, dstPort: 2, seqNumber: 3, ackNumber: 0, flags: 2, options },
  });
  const d = decodeFrame(101, frame, frame.length) as FrameTcp;
  assert.deepEqual(d.tcp.options(), [
    { kind: 'md5' }, { kind: 'unknown', type: 34, length: 4 }, { kind: 'sack', blocks: [[5, 9]] },
  ]);
  assert.equal(d.tcp.headerLength, 20 + 32);
});

test('a reused output buffer gives the same bytes as a fresh one; misuse throws WireBuildError', () => {
  const out = new Uint8Array(2048).fill(0xee);
  const spec: TcpFrameSpec = {
    link: 'ethernet', ip: { version: 6, src: '::1', dst: '::1' },
    tcp: { srcPort: 1, dstPort: 2, seqNumber: 3, ackNumber: 4, flags: 0x14, payload: 100 },
  };
  const a = buildTcpFrame(spec, out);
  assert.equal(a.buffer, out.buffer);
  assert.equal(a.length, tcpFrameLength(spec));
  assert.deepEqual(a, buildTcpFrame(spec));
  assert.throws(() => buildTcpFrame(spec, new Uint8Array(10)), WireBuildError);
  assert.throws(() => buildTcpFrame({ ...spec, ip: { version: 6, src: '1.2.3.4', dst: '::1' } }), WireBuildError);
  const tooMany: BuildTcpOption[] = Array.from({ length: 5 }, () => ({ kind: 'timestamps', tsVal: 0, tsEcr: 0 }));
  assert.throws(() => buildTcpFrame({ ...spec, tcp: { ...spec.tcp, options: tooMany } }), WireBuildError);
});
