// Stack-specific rules and the order of evidence (issue 18), each on the smallest capture that
// shows it: frames built with tcp/conversation.ts (wire/build.ts, correct checksums) and explained
// as a capture is. Sender profiles (profile.ts) are checked in the same captures.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conversation } from '../tcp/index.js';
import type { BuildTcpOption } from '../wire/build.js';
import { TcpFlag } from '../wire/types.js';
import path from 'node:path';
import { sharedCorpus } from '../paths.js';
import { skipOutsideCi } from '../testkit.js';
import { Explainer, explainCapture } from './engine.js';
import type { ConnectionReport, ExplainerOptions } from './engine.js';
import { hopDistance } from './profile.js';

const C = '192.168.1.105:50041';
const S = '192.168.1.108:389';

// SYN layouts as p0f.fp lists them (profile.ts).
const WINDOWS: BuildTcpOption[] = [{ kind: 'mss', value: 1460 }, { kind: 'nop' }, { kind: 'window-scale', shift: 8 }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'sack-permitted' }];
const LINUX: BuildTcpOption[] = [{ kind: 'mss', value: 1460 }, { kind: 'sack-permitted' }, { kind: 'timestamps', tsVal: 1, tsEcr: 0 }, { kind: 'nop' }, { kind: 'window-scale', shift: 7 }];
const MACOS: BuildTcpOption[] = [{ kind: 'mss', value: 1460 }, { kind: 'nop' }, { kind: 'window-scale', shift: 6 }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsVal: 1, tsEcr: 0 }, { kind: 'sack-permitted' }, { kind: 'eol' }, { kind: 'eol' }];
const DEVICE: BuildTcpOption[] = [{ kind: 'mss', value: 536 }];
const OPENBSD: BuildTcpOption[] = [{ kind: 'mss', value: 1460 }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'sack-permitted' }, { kind: 'nop' }, { kind: 'window-scale', shift: 0 }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsVal: 1, tsEcr: 0 }];

function explain(...convs: Conversation[]): ConnectionReport[] {
  return explainWith({}, ...convs);
}

function explainWith(opts: ExplainerOptions, ...convs: Conversation[]): ConnectionReport[] {
  const out: ConnectionReport[] = [];
  const ex = new Explainer({ onConnection: (c) => out.push(c) }, opts);
  // All conversations' frames in time order, as one capture.
  const frames = convs.flatMap((conv) => conv.frames.map((f) => ({ f, linkType: conv.linkType })))
    .sort((a, b) => a.f.tsSec - b.f.tsSec || a.f.tsNsec - b.f.tsNsec);
  frames.forEach(({ f, linkType }, i) => ex.packet({ frame: i + 1, tsSec: f.tsSec, tsNsec: f.tsNsec, linkType, interfaceId: 0, data: f.data, origLen: f.data.length }));
  ex.end();
  return out.sort((a, b) => a.firstFrame - b.firstFrame);
}

const rstsOf = (cs: ConnectionReport[]) => cs.flatMap((c) => c.rsts);
const zeekCorpus = sharedCorpus('zeek-traces');

/** Handshake with the given SYN layouts and TTLs, a request and a response. */
function live(client: BuildTcpOption[], clientTtl: number, server: BuildTcpOption[] = client, serverTtl = clientTtl): Conversation {
  const conv = new Conversation({ client: C, server: S, clientTtl, serverTtl });
  conv.syn('c', { options: client, window: 8192 }).synAck('s', { options: server, window: 8192 }).ack('c').data('c', 81).data('s', 283).ack('c');
  return conv;
}

test('profile: Windows, Linux, macOS and a network device from their SYNs and TTLs', () => {
  const cases: Array<[BuildTcpOption[], number, string, string]> = [
    [WINDOWS, 128, 'windows', 'mss,nop,ws,nop,nop,sok'],
    [LINUX, 64, 'linux', 'mss,sok,ts,nop,ws'],
    [MACOS, 64, 'macos/bsd', 'mss,nop,ws,nop,nop,ts,sok,eol'],
    [DEVICE, 255, 'network-device', 'mss'],
    // OpenBSD's layout starts with Linux's without timestamps: the longer one names it.
    [OPENBSD, 64, 'macos/bsd', 'mss,nop,nop,sok,nop,ws,nop,nop,ts'],
  ];
  for (const [opts, ttl, family, layout] of cases) {
    const conv = live(opts, ttl);
    conv.activeRst('c');
    const [r] = rstsOf(explain(conv));
    assert.equal(r!.senderProfile.family, family, layout);
    assert.equal(r!.senderProfile.synOptions, layout);
    assert.equal(r!.senderProfile.initialTtl, hopDistance(ttl).initial);
    assert.equal(r!.senderProfile.ipId, 'incrementing');
    assert.ok(r!.evidence.some((e) => e.startsWith(`sender profile of ${C}: likely ${family}`)), r!.evidence.join('\n'));
    if (opts === OPENBSD) assert.ok(r!.senderProfile.basis.some((b) => b.includes('OpenBSD')), r!.senderProfile.basis.join('; '));
  }
  // A layout alone never names a family: Linux's SYN-ACK to an XP SYN is laid out like XP's SYN.
  const conv = live([{ kind: 'mss', value: 1460 }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'sack-permitted' }], 50);
  conv.activeRst('c');
  assert.equal(rstsOf(explain(conv))[0]!.senderProfile.family, 'unknown');
});

test('windows-bare-rst-abort: a Windows stack aborting a live connection with a bare RST at SND.NXT is abort, not no-connection', () => {
  const conv = live(WINDOWS, 128);
  // Bare RST, seq = SND.NXT, IP ID the next of its counter (Conversation counts it up).
  conv.segment('c', TcpFlag.RST, 0, { seqNumber: conv.sndNxt('c'), ackNumber: 0, window: 0 });
  const [r] = rstsOf(explain(conv));
  assert.equal(r!.cause, 'abort', r!.evidence.join('\n'));
  assert.ok(r!.evidence.some((e) => /bare RST/.test(e)));
  assert.equal(r!.senderProfile.family, 'windows');

  // The same RST from a Linux profile stays a reply from no socket (Linux's live sockets set ACK).
  const linux = live(LINUX, 64);
  linux.segment('c', TcpFlag.RST, 0, { seqNumber: linux.sndNxt('c'), ackNumber: 0, window: 0 });
  assert.equal(rstsOf(explain(linux))[0]!.cause, 'no-connection');

  // And from Windows with an ID that does not continue its counter (a restarted host).
  const restarted = live(WINDOWS, 128);
  restarted.segment('c', TcpFlag.RST, 0, { seqNumber: restarted.sndNxt('c'), ackNumber: 0, window: 0, ident: 4242 });
  assert.equal(rstsOf(explain(restarted))[0]!.cause, 'no-connection');
});

test('device-fin-then-data: a TTL-255 stack that sent FIN and then got data resets after close, whatever its IP IDs do', () => {
  // Data after the FIN, answered <SEQ=SEG.ACK><CTL=RST> with the window left open: once with the
  // IP ID its counter's next (a weak signal pointing at a live socket), once with another ID.
  const convs = [undefined, 77].map((ident, i) => {
    const conv = new Conversation({ client: `192.168.1.105:${50041 + i}`, server: S, serverTtl: 255 });
    conv.syn('c', { options: DEVICE }).synAck('s', { options: DEVICE }).ack('c').data('c', 20).data('s', 100).fin('s').ack('c');
    conv.data('c', 30).segment('s', TcpFlag.RST, 0, { seqNumber: conv.sndNxt('s'), ackNumber: 0, window: 4128, ...(ident === undefined ? {} : { ident }) });
    return conv;
  });
  const rsts = rstsOf(explain(...convs));
  assert.equal(rsts.length, 2);
  for (const r of rsts) {
    assert.equal(r.cause, 'reset-after-close', r.evidence.join('\n'));
    assert.equal(r.senderProfile.family, 'network-device');
  }
});

test('after its own reset-after-close RST the sender has no connection: data or a FIN that follows meets none', () => {
  // BSD tcp_input "rcvafterclose" drops the TCB (tcp_close) before dropwithreset; Linux tcp_reset →
  // tcp_done. So the RSTs for what keeps arriving are no-connection (RFC 9293 §3.10.7.1), the
  // OpenBSD, macOS and TTL-255 captures in fixtures/non-linux show it.
  const conv = new Conversation({ client: C, server: S });
  conv.syn('c', { options: MACOS, window: 65535 }).synAck('s', { options: LINUX }).ack('c').data('c', 24).fin('c').ack('s');
  conv.data('s', 24).segment('c', TcpFlag.RST, 0, { seqNumber: conv.sndNxt('c'), ackNumber: 0, window: 0 });
  conv.data('s', 100).segment('c', TcpFlag.RST, 0, { seqNumber: conv.sndNxt('c'), ackNumber: 0, window: 0 });
  conv.fin('s').segment('c', TcpFlag.RST, 0, { seqNumber: conv.sndNxt('c'), ackNumber: 0, window: 0 });
  const rsts = rstsOf(explain(conv));
  assert.deepEqual(rsts.map((r) => r.cause), ['reset-after-close', 'no-connection', 'no-connection'], rsts.map((r) => r.summary).join('\n'));
  assert.ok(rsts[1]!.evidence.some((e) => e.includes('had already reset this connection')));
});

test('order of evidence: an IP ID that happens to be the previous +1 never overrides the sequence numbers', () => {
  const conv = new Conversation({ client: C, server: S });
  conv.handshake().data('c', 100, { ident: 31000 }).ack('s');
  // Random IDs elsewhere; this bare RST's ID is by chance the client's last + 1, window nonzero.
  conv.segment('s', TcpFlag.RST, 0, { seqNumber: conv.sndNxt('s'), ackNumber: 0, window: 512, ident: 9003 });
  const [r] = rstsOf(explain(conv));
  assert.equal(r!.form, 'stateless');
  assert.equal(r!.cause, 'no-connection', r!.evidence.join('\n'));
});

test('macos-data-after-close: the RST answers data that crossed its FIN, judged against that segment, not a later one', () => {
  const conv = new Conversation({ client: C, server: S });
  conv.syn('c', { options: MACOS, window: 65535 }).synAck('s', { options: LINUX }).ack('c').data('c', 40);
  const finSeq = conv.sndNxt('c');
  conv.fin('c');
  // The server's response crossed the FIN (it acks up to the FIN, not the FIN), then it acks the FIN.
  conv.data('s', 1448, { ackNumber: finSeq }).data('s', 1448);
  // macOS/BSD tcp_dropwithreset for the first: <SEQ=SEG.ACK><CTL=RST>, seq = the FIN's own seq.
  conv.segment('c', TcpFlag.RST, 0, { seqNumber: finSeq, ackNumber: 0, window: 0 });
  const [r] = rstsOf(explain(conv));
  assert.equal(r!.cause, 'reset-after-close', r!.evidence.join('\n'));
  assert.equal(r!.senderProfile.family, 'macos/bsd');
});

test('nat-shared-counter: RSTs "from" two hosts on one IP ID counter and TTL are a middlebox\'s', () => {
  const mk = (server: string, ident: number, sec: number) => {
    const conv = new Conversation({ client: '192.168.2.16:1577', server, serverTtl: 255, start: 1_700_000_000 + sec });
    return conv.segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 1, ackNumber: 2, ident });
  };
  const rsts = rstsOf(explain(mk('75.126.203.78:80', 37152, 0), mk('75.126.130.163:80', 37153, 0.002), mk('75.126.203.78:80', 37157, 2)));
  assert.equal(rsts.length, 3);
  for (const r of rsts) {
    assert.equal(r.cause, 'middlebox', r.evidence.join('\n'));
    assert.ok(r.evidence.some((e) => /counter shared with/.test(e)));
  }
  // Unrelated IDs: no shared counter, no middlebox.
  const apart = rstsOf(explain(mk('75.126.203.78:80', 1200, 0), mk('75.126.130.163:80', 40000, 0.002)));
  for (const r of apart) assert.notEqual(r.cause, 'middlebox');
});

test('nat-shared-counter: a box resetting for many hosts names the first 8 of them and counts the rest', () => {
  const mk = (server: string, ident: number, sec: number) => {
    const conv = new Conversation({ client: '192.168.2.16:1577', server, serverTtl: 255, start: 1_700_000_000 + sec });
    return conv.segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 1, ackNumber: 2, ident });
  };
  // 20 hosts, one RST each, IDs one apart: every RST shares the counter with all the others.
  const rsts = rstsOf(explain(...Array.from({ length: 20 }, (_, i) => mk(`203.0.113.${i + 1}:80`, 5000 + i, i * 0.001))));
  assert.equal(rsts.length, 20);
  const r = rsts[10]!;
  assert.equal(r.cause, 'middlebox');
  const line = r.evidence.find((e) => /counter shared with/.test(e))!;
  assert.equal(line.match(/frame \d+ "from"/g)!.length, 8, line);
  assert.match(line, / and 11 more RSTs, all at TTL 255/);
  assert.match(r.summary, /"from" (203\.0\.113\.\d+, ){7}203\.0\.113\.\d+ and 11 more \(a NAT/);
});

test('windows-syn-bad-ack-retry: Windows resetting a SYN-ACK that acks another SYN, then retrying its SYN, is connecting, not a lost state', () => {
  const conv = new Conversation({ client: '10.0.0.5:50000', server: '10.0.0.9:80', clientTtl: 128, clientIsn: 1000, serverIsn: 777000 });
  conv.syn('c', { options: WINDOWS, window: 64240 });
  // A SYN-ACK for some other SYN (ack 55555), answered <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.3) …
  conv.segment('s', TcpFlag.SYN | TcpFlag.ACK, 0, { ackNumber: 55555, options: [{ kind: 'mss', value: 1460 }] });
  conv.segment('c', TcpFlag.RST, 0, { seqNumber: 55555, ackNumber: 0, window: 0 });
  // … then Windows' SYN retransmission (same ISN) connects.
  conv.wait(1).syn('c', { options: WINDOWS, window: 64240, seqNumber: 1000, noAdvance: true });
  conv.segment('s', TcpFlag.SYN | TcpFlag.ACK, 0, { seqNumber: 777000, ackNumber: 1001, options: [{ kind: 'mss', value: 1460 }] });
  conv.ack('c', { ackNumber: 777001 });
  const cs = explain(conv);
  const rsts = rstsOf(cs);
  assert.equal(rsts.length, 1);
  const r = rsts[0]!;
  assert.equal(r.cause, 'no-connection');
  assert.match(r.summary, /is connecting \(SYN sent\)/);
  assert.ok(!r.evidence.some((e) => /state was lost/.test(e)), r.evidence.join('\n'));
  assert.equal(r.senderProfile.family, 'windows');
  assert.equal(cs.at(-1)!.connState, 'S1', 'the retried SYN connects');
});

test('bsd-fin-with-unread-data: macOS closing after the peer\'s data sends FIN, and resets only the data that follows; the evidence says why Linux would have reset at once (RFC 2525 §2.17)', () => {
  // The Linux server sends a response; the client closes without reading all of it (FIN, its ACK
  // covering what arrived), and the next segment of the response is reset.
  const closeEarly = (client: BuildTcpOption[]) => {
    const conv = new Conversation({ client: C, server: S });
    conv.syn('c', { options: client, window: 65535 }).synAck('s', { options: LINUX }).ack('c').data('c', 40).data('s', 1448);
    conv.fin('c').data('s', 1448);
    conv.segment('c', TcpFlag.RST, 0, { seqNumber: conv.sndNxt('c'), ackNumber: 0, window: 0 });
    return rstsOf(explain(conv))[0]!;
  };
  const r = closeEarly(MACOS);
  assert.equal(r.cause, 'reset-after-close', r.evidence.join('\n'));
  assert.ok(r.evidence.some((e) => /RFC 2525 §2\.17/.test(e)), r.evidence.join('\n'));
  assert.match(r.app.receiver, /^EOF first \(the FIN\)/);
  // The same close from a Linux client: no such line (Linux would have reset, not sent FIN).
  const l = closeEarly(LINUX);
  assert.equal(l.cause, 'reset-after-close');
  assert.ok(!l.evidence.some((e) => /RFC 2525/.test(e)));
});

test('global-ip-id-counter: a Windows server whose IDs run on across its connections is profiled so, and a RST it sends with no packet of its own in its connection is placed on that counter', () => {
  // Four requests to one Windows server within a second; its IDs come from one counter (RFC 7739 §5).
  let id = 21000;
  const next = () => (id += 3);
  const convs: Conversation[] = [];
  for (let i = 0; i < 4; i += 1) {
    const conv = new Conversation({ client: `192.168.1.105:${50100 + i}`, server: S, serverTtl: 128, start: 1_700_000_000 + i * 0.2 });
    conv.syn('c', { options: LINUX, ident: 7000 + i * 4099 }).synAck('s', { options: WINDOWS, ident: next() }).ack('c').data('c', 81).data('s', 283, { ident: next() }).ack('c')
      .fin('c').fin('s', { ident: next() }).ack('c');
    convs.push(conv);
  }
  // Then data on a connection the capture never saw open, and the server's reset: no packet of its own there.
  const stray = new Conversation({ client: '192.168.1.105:50200', server: S, serverTtl: 128, start: 1_700_000_001 });
  stray.data('c', 40, { ackNumber: 88000 });
  stray.segment('s', TcpFlag.RST, 0, { seqNumber: 88000, ackNumber: 0, window: 0, ident: id + 5 });
  const reports = explain(...convs, stray);
  const normal = reports.filter((c) => c.rsts.length === 0);
  // Told once three pairs of its connections agree (reports stream: the earlier ones were written before).
  assert.deepEqual(normal.map((c) => c.profiles.resp.ipId), ['incrementing', 'incrementing', 'incrementing', 'global']);
  assert.match(normal[3]!.profiles.resp.basis.join('; '), /one counter across its connections \(Windows' global counter, RFC 7739 §5\)/);
  const [r] = rstsOf(reports);
  assert.equal(r!.cause, 'no-connection', r!.evidence.join('\n'));
  assert.ok(r!.evidence.some((e) => /^its IPv4 ID \d+ continues the one counter 192\.168\.1\.108 uses across its connections/.test(e)), r!.evidence.join('\n'));
  // The same when the connections that ended normally are only counted (rstlab explain without --all).
  const [t] = rstsOf(explainWith({ normal: false }, ...convs, stray));
  assert.deepEqual(t!.evidence, r!.evidence);
  // Random first IDs (Linux: a random start per socket): no global counter, no such line.
  const linux: Conversation[] = [];
  for (let i = 0; i < 4; i += 1) {
    const conv = new Conversation({ client: `192.168.1.105:${50300 + i}`, server: S, start: 1_700_000_010 + i * 0.2 });
    const base = [3000, 41000, 17000, 59000][i]!;
    conv.syn('c', { options: LINUX }).synAck('s', { options: LINUX, ident: base }).ack('c').data('c', 81).data('s', 283, { ident: base + 1 }).ack('c');
    linux.push(conv);
  }
  assert.ok(explain(...linux).every((c) => c.profiles.resp.ipId !== 'global'));
});

test('windows-refused-retry: Winsock retries a connect refused by a RST (Zeek\'s pop3 trace: three SYNs with one ISN, 0.55 s apart, each refused), and connect() fails only at the last', { skip: skipOutsideCi(zeekCorpus ? false : 'the Zeek trace corpus is not there (../shared/corpus/zeek-traces)') }, async () => {
  const res = await explainCapture(path.join(zeekCorpus!, 'traces', 'pop3__pop3.pcap'));
  const refused = res.connections.filter((c) => c.connState === 'REJ');
  assert.equal(refused.length, 6);
  const rsts = refused.map((c) => c.rsts[0]!);
  assert.deepEqual(rsts.map((r) => r.cause), Array(6).fill('refused'));
  assert.deepEqual(rsts.map((r) => (/attempt (\d)/.exec(r.evidence.find((e) => e.startsWith('the SYN repeats')) ?? '') ?? [])[1] ?? '1'), ['1', '2', '3', '1', '2', '3']);
  assert.ok(rsts.every((r) => r.evidence.some((e) => /is a Windows stack: Winsock sends the SYN again .* \(Microsoft KB 175523/.test(e))));
  assert.match(rsts[0]!.app.receiver, /^connect\(\) does not fail at this RST \(attempt 1 of Windows' default 3\)/);
  assert.match(rsts[2]!.app.receiver, /^connect\(\) fails at this RST, attempt 3 .*WSAECONNREFUSED \(10061\)/);
  // A Linux client refused once: no retry, ECONNREFUSED at once.
  const lin = new Conversation({ client: C, server: S });
  lin.syn('c', { options: LINUX }).segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: lin.sndNxt('c') });
  const [l] = rstsOf(explain(lin));
  assert.match(l!.app.receiver, /^connect\(\) fails: ECONNREFUSED/);
});
