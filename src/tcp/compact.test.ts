// Packing ended connections (compact-slab.ts) must not change a report: every capture in fixtures/
// (and in the shared tcpdump and Zeek corpora beside the repository, when they are there) through the tracker with no segment list, connections held as objects ('never'), packed once they
// ended (the default) and packed after each of their segments ('always', so that every segment
// but a connection's first finds it packed), must give the same connections, field for field.
// Also: EndpointTrack.pack()/unpack() carry every field of an endpoint (but spillRow), a value
// the int32 fields cannot hold leaves the connection unpacked, a slot's encoding gives back every
// int32 and every double bit for bit, slots that move to a larger size class do not leave the
// smaller one's chunks held, a track the pool drops gives its place in the times column back, and
// a connection unpacked by a late segment is packed again by a sweep, not after each segment.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { readCapture } from '../capture/index.js';
import { repoFile, sharedCorpus } from '../paths.js';
import { decodeFrame, decodeFrameAt, DecodeScratch } from '../wire/decode.js';
import { CompactSlab, decodeSlot, encodeSlot, MAX_SLOT_BYTES, SLOT_F64, SLOT_I32 } from './compact-slab.js';
import { EndpointTrack, PACK_F64, PACK_I32 } from './endpoint-track.js';
import { ENDPOINT_ROWS, newStore } from './segment-store.js';
import { ConnectionTracker } from './tracker.js';
import { Conversation } from './conversation.js';
import type { ConversationFrame } from './conversation.js';
import type { Connection, TrackerOptions } from './types.js';

function captures(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...captures(p));
    else if (/\.(pcap|pcapng|pcap\.gz)$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

async function track(file: string, compact: TrackerOptions['compact']): Promise<{ conns: Connection[]; packed: number }> {
  const conns: Connection[] = [];
  const tracker = new ConnectionTracker({ maxSegments: 0, compact, onConnection: (c) => conns.push(c) });
  const scratch = new DecodeScratch();
  let packed = 0;
  await readCapture(file, {
    packet: (rec) => {
      const d = rec.bytes !== undefined
        ? decodeFrameAt(rec.linkType, rec.bytes, rec.dataOffset as number, rec.dataLength as number, rec.origLen, scratch)
        : decodeFrameAt(rec.linkType, rec.data, 0, rec.data.length, rec.origLen, scratch);
      if (d.kind !== 'tcp') return;
      tracker.push(rec.frame, rec, d);
      packed = Math.max(packed, tracker.packed);
    },
    anomaly: () => {},
  }).catch(() => undefined); // (a damaged fixture ends where the reader stops; the same for all three)
  tracker.flush();
  return { conns, packed };
}

const files = captures(repoFile('fixtures'));

/** Connections, and the most packed at once summed over files, for each way of holding them. */
async function same(list: string[]): Promise<{ conns: number; packedEnded: number; packedAlways: number }> {
  let conns = 0;
  let packedEnded = 0;
  let packedAlways = 0;
  for (const f of list) {
    const plain = await track(f, 'never');
    const ended = await track(f, 'ended');
    const always = await track(f, 'always');
    assert.equal(plain.packed, 0);
    assert.deepStrictEqual(ended.conns, plain.conns, `${f}: packed once ended`);
    assert.deepStrictEqual(always.conns, plain.conns, `${f}: packed after every segment`);
    conns += plain.conns.length;
    packedEnded += ended.packed;
    packedAlways += always.packed;
  }
  return { conns, packedEnded, packedAlways };
}

test('packed connections: every fixture gives the same connections packed or not', async () => {
  assert.ok(files.length >= 60, `fixtures found: ${files.length}`);
  const { conns, packedEnded, packedAlways } = await same(files);
  // (The test means something only if connections were packed, and RSTs among them.)
  assert.ok(conns > 100, `connections: ${conns}`);
  assert.ok(packedEnded > 20, `packed once ended, at most at once, summed over files: ${packedEnded}`);
  assert.ok(packedAlways > packedEnded, `packed always: ${packedAlways}`);
});

for (const name of ['tcpdump-tests', 'zeek-traces'] as const) {
  const dir = sharedCorpus(name);
  test(`packed connections: the shared ${name} corpus, packed or not`, { skip: dir === null ? `../shared/corpus/${name} not found` : false, timeout: 300_000 }, async () => {
    const { conns, packedEnded } = await same(captures(dir as string));
    assert.ok(conns > 100 && packedEnded > 10, `connections ${conns}, packed ${packedEnded}`);
  });
}

test('EndpointTrack.pack/unpack: every field but spillRow comes back', () => {
  const e = new EndpointTrack();
  e.reset(0xc0000201, null, 443);
  // A distinct value in every numeric field, true in every boolean, a state in every state field.
  let n = 1;
  for (const k of Object.keys(e) as (keyof EndpointTrack)[]) {
    const v = e[k] as unknown;
    if (k === 'spillRow' || k === 'addrS' || k === 'ttlMore' || k === 'tosMore') continue;
    if (typeof v === 'number') (e as unknown as Record<string, number>)[k] = k === 'lastTime' ? 1733280000.123456 : n++;
    else if (typeof v === 'boolean') (e as unknown as Record<string, boolean>)[k] = true;
    else if (typeof v === 'string') (e as unknown as Record<string, string>)[k] = 'ESTABLISHED';
    else assert.fail(`field ${k} of a kind pack() does not know: ${typeof v}`);
  }
  // (Fields that share a word hold small values; an address and a sequence number the top bit set.)
  Object.assign(e, { windowShift: 14, lastRow: 3, ttl0: 64, ttl: 255, tos0: 0, tos: -1, synTtl: 128, addrN: 0xc0000201 });
  e.state = 'SYN_SENT';
  e.zPrev = 'RESET';
  e.isn = 0xffffffff;
  e.bytes = 2 ** 40;
  const f = new Float64Array(PACK_F64);
  const i = new Int32Array(PACK_I32);
  assert.equal(e.pack(f, 0, i, 0), true);
  const back = new EndpointTrack();
  back.spillRow = e.spillRow;
  back.unpack(f, 0, i, 0);
  assert.deepStrictEqual({ ...back }, { ...e });
  // A count past int32 does not fit: the endpoint is not packed.
  e.packets = 2 ** 31;
  assert.equal(e.pack(f, 0, i, 0), false);
  e.packets = 7;
  e.ttl = 256;
  assert.equal(e.pack(f, 0, i, 0), false);
  e.ttl = 64;
  e.addrS = '2001:db8::1';
  assert.equal(e.pack(f, 0, i, 0), false);
});

test('compact slab: a slot\'s encoding gives back every int32 and every double, bit for bit', () => {
  // A small deterministic generator (xorshift32), so that a failure can be run again.
  let x = 0x9e3779b9;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const ints = [0, 0, 0, -1, 1, 63, 64, -64, -65, 8191, 8192, -8193, 0x7fffffff, -0x80000000, 65535, 123456789];
  const doubles = [-1, -1, 0, -0, 1, 0xffffffff, 2 ** 32, 2 ** 40, 2 ** 53, -2, -(2 ** 31), 0.5, 1733280000.123456, NaN, Infinity, -Infinity, Number.MIN_VALUE];
  const f = new Float64Array(SLOT_F64);
  const i = new Int32Array(SLOT_I32);
  const out = new Uint8Array(MAX_SLOT_BYTES + 16);
  const view = new DataView(out.buffer);
  const f2 = new Float64Array(SLOT_F64);
  const i2 = new Int32Array(SLOT_I32);
  for (let round = 0; round < 2000; round++) {
    // Mostly zeros in runs of every length (a refused probe's slot), or every field random.
    const dense = round % 4 === 0;
    for (let k = 0; k < SLOT_I32; k++) i[k] = dense ? next() | 0 : next() % 3 === 0 ? ints[next() % ints.length]! : 0;
    for (let k = 0; k < SLOT_F64; k++) f[k] = dense && k % 2 === 0 ? new Float64Array(new Uint32Array([next(), next()]).buffer)[0]! : doubles[next() % doubles.length]!;
    const at = 4 * (round % 4); // (a slot starts wherever its class puts it)
    const n = encodeSlot(f, i, out.subarray(at), new DataView(out.buffer, at));
    assert.ok(n <= MAX_SLOT_BYTES, `round ${round}: ${n} bytes`);
    f2.fill(7);
    i2.fill(7);
    assert.equal(decodeSlot(out, view, at, f2, i2), n, `round ${round}: the bytes read`);
    assert.deepStrictEqual(Array.from(i2), Array.from(i), `round ${round}: int32`);
    for (let k = 0; k < SLOT_F64; k++) assert.ok(Object.is(f2[k], f[k]) || (Number.isNaN(f[k]) && Number.isNaN(f2[k])), `round ${round}: double ${k}: ${f[k]} came back as ${f2[k]}`);
  }
  // The case it is made for: most fields 0 or -1, a few sequence numbers and times.
  i.fill(0);
  f.fill(-1);
  i[0] = 51234;
  i[1] = -1;
  i[21] = -1640503418;
  f[0] = 2654463878;
  f[5] = 1700000000.000499;
  assert.ok(encodeSlot(f, i, out, view) < 40);
});

test('compact slab: slots that move to a larger class leave the smaller one\'s chunks behind, not held (regression)', () => {
  // A long capture's encodings drift to the next size class (its counts and frame numbers grow a
  // byte longer); with the slots of a class reused last freed first and its chunks never freed,
  // the class they left held the chunks of its largest size for good (the 256 MiB scan: 42 → 81 MB).
  const slab = new CompactSlab();
  const orig = new EndpointTrack();
  const resp = new EndpointTrack();
  orig.reset(0xc0000201, null, 40000);
  resp.reset(0xc0000202, null, 443);
  const st = newStore(ENDPOINT_ROWS);
  const back = [new EndpointTrack(), new EndpointTrack()] as const;
  const N = 20000;
  const first: number[] = [];
  for (let k = 0; k < N; k++) first.push(slab.pack(orig, resp, st, -1, 1));
  assert.ok(first.every((h) => h >= 0));
  const one = slab.heldBytes;
  const small = slab.bytes / N;
  // The same connections with counts four bytes longer each (a class or two up), packed as the
  // first ones leave, oldest first (their linger over).
  for (const e of [orig, resp]) Object.assign(e, { packets: 2 ** 29, retransmissions: 2 ** 29, keepalives: 2 ** 29, zeroWindows: 2 ** 29 });
  const second: number[] = [];
  for (let k = 0; k < N; k++) {
    slab.unpack(first[k]!, back[0], back[1], st, 1);
    second.push(slab.pack(orig, resp, st, -1, 1));
  }
  assert.ok(slab.bytes / N >= small + 16, `a larger class: ${small} → ${slab.bytes / N} bytes a slot`);
  assert.equal(slab.used, N);
  // What the slots of the larger class take (all the same size here), and a little more: the
  // smaller class's chunks are not held beside them.
  const need = N * Math.ceil(slab.bytes / N / 16) * 16;
  assert.ok(slab.heldBytes < need + one / 4, `held ${slab.heldBytes} bytes after the move: its slots need ${need}, the chunks before it ${one}`);
  // And the last ones back as they were.
  slab.unpack(second[N - 1]!, back[0], back[1], st, 1);
  assert.equal(back[0].packets, 2 ** 29);
  assert.equal(back[1].port, 443);
});

test('tracker: a track the pool has no room for gives its place in the times column back (regression)', () => {
  // 40,000 connections open at once and all finalized together: the pool keeps about half of
  // their tracks, the rest go to the collector; the next 40,000 take the pooled tracks and make
  // new ones, which must reuse the places the others left (they leaked 24 B each before).
  const tracker = new ConnectionTracker({ maxSegments: 0, onConnection: () => {} });
  const times = (tracker as unknown as { times: { n: number } }).times;
  const round = (r: number): void => {
    const frames: ConversationFrame[] = [];
    let linkType = 0;
    for (let k = 0; k < 40000; k++) {
      const conv = new Conversation({ client: `10.${r}.${k >> 8}.${k & 255}:40000`, server: '192.0.2.80:443', start: 1_700_000_000 + r * 100 + k / 1e5, clientIsn: 1000, serverIsn: 9000 });
      conv.syn('c');
      frames.push(...conv.frames);
      linkType = conv.linkType;
    }
    frames.forEach((f, k) => {
      const d = decodeFrame(linkType, f.data, f.data.length);
      if (d.kind === 'tcp') tracker.push(k + 1, f, d);
    });
    assert.equal(tracker.alive, 40000);
    tracker.flush();
    assert.equal(tracker.alive, 0);
  };
  round(1);
  const first = times.n;
  round(2);
  assert.equal(times.n, first, 'no new places in the times column for the second 40,000');
});

test('packed connections: a server that keeps sending after a reset unpacks it, and a sweep packs it again once quiet (not each segment)', () => {
  const conv = new Conversation({ client: '10.0.0.1:40000', server: '192.0.2.80:443', start: 1_700_000_000, clientIsn: 1000, serverIsn: 9000 });
  // The client resets; the server keeps sending, 2 s apart (within Zeek's 5 s after the reset; a
  // sweep, once a second, comes in between).
  conv.handshake().data('c', 100).data('s', 1000).activeRst('c');
  const late = new Set<ConversationFrame>();
  for (let k = 0; k < 2; k++) {
    conv.wait(2).data('s', 500);
    late.add(conv.frames.at(-1)!);
  }
  // Another connection, never ended (never packed), whose packets move the sweeps on in between.
  const other = new Conversation({ client: '10.0.0.2:40001', server: '192.0.2.81:443', start: 1_700_000_000.0001, clientIsn: 5, serverIsn: 7 });
  other.handshake();
  for (let k = 0; k < 20; k++) other.wait(0.5).data('c', 10);
  const at = (f: ConversationFrame): number => f.tsSec + f.tsNsec / 1e9;
  const frames = [...conv.frames, ...other.frames].sort((a, b) => at(a) - at(b));
  const run = (compact: TrackerOptions['compact']): { conns: Connection[]; before: number[]; after: number[] } => {
    const conns: Connection[] = [];
    const tracker = new ConnectionTracker({ maxSegments: 0, compact, onConnection: (c) => conns.push(c) });
    const before: number[] = [];
    const after: number[] = [];
    frames.forEach((f, k) => {
      const d = decodeFrame(conv.linkType, f.data, f.data.length);
      assert.equal(d.kind, 'tcp');
      if (d.kind !== 'tcp') return;
      if (late.has(f)) before.push(tracker.packed);
      tracker.push(k + 1, f, d);
      if (late.has(f)) after.push(tracker.packed);
    });
    tracker.flush();
    return { conns, before, after };
  };
  const plain = run('never');
  const packed = run('ended');
  assert.deepStrictEqual(packed.conns, plain.conns);
  assert.equal(plain.conns.length, 2);
  assert.deepEqual(plain.before, [0, 0]);
  assert.deepEqual(packed.before, [1, 1], 'packed (at the RST, then by a sweep) when each late segment comes');
  assert.deepEqual(packed.after, [0, 0], 'not packed again at once after a late segment');
});
