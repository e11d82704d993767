// Ladder model and text rendering. Golden files: scripted captures (tcp/conversation.ts written as
// pcap by capture/writer.ts, then explained) in testdata/ladders/*.txt, and every real lab capture
// in fixtures/captures/ (when present) in testdata/ladders/lab/<capture>.txt.
// RSTLAB_UPDATE=1 (re)writes the golden files instead of comparing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { PcapWriter } from '../capture/writer.js';
import { explainCapture } from '../explain/index.js';
import type { ExplainResult } from '../explain/index.js';
import { Conversation } from '../tcp/index.js';
import { ladderFromConnection, ladderFromRun, renderLadderText } from './ladder.js';
import type { LadderNoteEvent, LadderSegmentEvent } from './ladder.js';
import type { TimelineEntry } from './results.js';
import { LAB_FIXTURE } from './testdata/lab-results.js';
import { repoRoot } from '../paths.js';

const root = repoRoot();
const goldenDir = path.join(root, 'src', 'report', 'testdata', 'ladders');
const update = process.env.RSTLAB_UPDATE === '1';

function golden(name: string, got: string): void {
  const file = path.join(goldenDir, name);
  if (update || !existsSync(file)) {
    if (!update) assert.fail(`${file} is missing: run the tests with RSTLAB_UPDATE=1 to create it`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, got);
    return;
  }
  assert.equal(got, readFileSync(file, 'utf8'));
}

function pcapOf(conv: Conversation): Uint8Array {
  const w = new PcapWriter({ linkType: conv.linkType, nanosecond: true });
  const parts = [w.header(), ...conv.frames.map((f) => w.record(f.tsSec, f.tsNsec, f.data))];
  return Buffer.concat(parts);
}

async function explain(conv: Conversation): Promise<ExplainResult> {
  return explainCapture(Readable.from([Buffer.from(pcapOf(conv))]));
}

async function renderCapture(res: ExplainResult, width = 100): Promise<string> {
  return `${res.connections.map((c) => renderLadderText(ladderFromConnection(c, res.summary.firstTime ?? undefined), width)).join('\n\n')}\n`;
}

const lineWidths = (s: string) => s.split('\n').map((l) => [...l].length);

/** Scripted conversations, one per shape of ending the ladders must draw. */
const SCRIPTS: Record<string, () => Conversation> = {
  refused: () => new Conversation({ client: '198.51.100.1:43210', server: '203.0.113.2:442' })
    .syn('c').wait(0.0002).segment('s', 0x14 /* RST|ACK */, 0, { seqNumber: 0, ackNumber: 1001 }),
  'killed-server': () => new Conversation({ client: '198.51.100.1:43211', server: '203.0.113.2:80' })
    .handshake().wait(0.05).fin('s').ack('c').wait(0.2).data('c', 74).statelessRst('s'),
  'abort-unread': () => new Conversation({ client: '198.51.100.1:43212', server: '203.0.113.2:7000' })
    .handshake().data('c', 5000).ack('s').wait(0.01).activeRst('s'),
  'ipv6-middlebox': () => new Conversation({ client: '[2001:db8:1234:5678::1]:50000', server: '[2001:db8:ffff:eeee::2]:443', version: 6, serverTtl: 64 })
    .handshake().data('c', 517).ack('s').data('s', 1400).ack('c').activeRst('s', { ttl: 61 }).data('s', 800),
  'long-transfer': () => {
    const c = new Conversation({ client: '198.51.100.1:43213', server: '203.0.113.2:8080' }).handshake().data('c', 100);
    for (let i = 0; i < 40; i++) c.data('s', 1448).ack('c');
    return c.fin('s').data('c', 10).statelessRst('s');
  },
};

for (const [name, script] of Object.entries(SCRIPTS)) {
  test(`golden ladder (scripted capture): ${name}`, async () => {
    const res = await explain(script());
    const got = await renderCapture(res);
    for (const w of lineWidths(got)) assert.ok(w <= 100, `a line is ${w} columns`);
    golden(`${name}.txt`, got);
  });
}

test('a scripted capture\'s ladder: relative numbers, RST cause, gap for dropped segments', async () => {
  const killed = await explain(SCRIPTS['killed-server']());
  const m = ladderFromConnection(killed.connections[0]);
  const segs = m.events.filter((e): e is LadderSegmentEvent => e.kind === 'segment');
  assert.deepEqual(segs.map((s) => s.flags), ['[S]', '[S.]', '[.]', '[F.]', '[.]', '[P.]', '[R]']);
  assert.deepEqual(segs.map((s) => s.seq), [0, 0, 1, 1, 1, 1, 2], 'seq relative to each side\'s ISN');
  const rst = segs[6];
  assert.equal(rst.from, 1);
  assert.equal(rst.ack, null, 'a RST without ACK shows no ack');
  assert.equal(rst.cause, killed.rsts[0].cause);
  assert.equal(rst.cause, 'reset-after-close');
  const text = renderLadderText(m);
  assert.match(text, /<=+x\|\s+#7 \[R\] seq 2 len 0 {2}RST: reset-after-close/);

  const long = await explain(SCRIPTS['long-transfer']());
  const c = long.connections[0];
  assert.ok(c.segmentsDropped > 0, 'the script is long enough for the tracker to drop segments');
  const lm = ladderFromConnection(c);
  const gap = lm.events.find((e) => e.kind === 'gap');
  assert.ok(gap && gap.kind === 'gap' && gap.segments === c.segmentsDropped);
  assert.match(renderLadderText(lm), new RegExp(`… ${c.segmentsDropped} segments not kept`));
});

test('ladder of a lab run: hosts by role, lab actions and client errors on their lines, time order', () => {
  const run = LAB_FIXTURE.runs.find((r) => r.id === 'kill-proxy-before-request-https--okhttp');
  assert.ok(run);
  const m = ladderFromRun(run);
  assert.deepEqual(m.hosts.map((h) => h.label), ['client', 'proxy', 'server']);
  const ms = m.events.map((e) => (e.kind === 'gap' ? 0 : e.ms));
  assert.deepEqual(ms, [...ms].sort((a, b) => a - b), 'events in time order');
  const notes = m.events.filter((e): e is LadderNoteEvent => e.kind === 'note');
  const kill = notes.find((n) => n.text === 'SIGKILL proxy');
  assert.equal(kill?.host, 1, 'SIGKILL proxy sits on the proxy line');
  assert.equal(kill?.tone, 'action');
  const err = notes.at(-1);
  assert.equal(err?.host, 0);
  assert.equal(err?.tone, 'error');
  assert.match(err?.text ?? '', /^error: SSLHandshakeException: Remote host terminated the handshake/);
  // The kill comes before the proxy's FIN, the error after the RST.
  const idx = (pred: (e: (typeof m.events)[number]) => boolean) => m.events.findIndex(pred);
  assert.ok(idx((e) => e.kind === 'note' && e.text === 'SIGKILL proxy') < idx((e) => e.kind === 'segment' && e.flags === '[F.]'));
  assert.ok(idx((e) => e.kind === 'segment' && e.flags === '[R]') < idx((e) => e.kind === 'note' && e.tone === 'error'));
  const text = renderLadderText(m);
  assert.match(text, /\* +\| +\| +error: SSLHandshakeException/);
  assert.match(text, /\| +\* +\| +\[lab\] SIGKILL proxy/);

  const node = ladderFromRun(LAB_FIXTURE.runs.find((r) => r.id === 'kill-server-before-request-http--node-http')!);
  assert.deepEqual(node.hosts.map((h) => h.label), ['client', 'server'], 'no proxy line when no proxy took part');
  assert.match(renderLadderText(node), /error: ECONNRESET/);
});

test('timeline entries by kind: the release on the client line, an action on its host or on none, events on their process, the result from the outcome', () => {
  const base = LAB_FIXTURE.runs.find((r) => r.id === 'kill-server-before-request-http--node-http')!;
  const run = {
    ...base,
    timeline: [
      { ms: 31, who: 'client', kind: 'event', text: 'connected 198.51.100.1:43210' },
      { ms: 32, who: 'server', kind: 'event', text: 'accepted 198.51.100.1:43210' },
      { ms: 90, who: 'lab', kind: 'action', text: 'router drops the connection' },
      { ms: 95, who: 'lab', kind: 'action', host: 'server', text: 'SIGKILL server' },
      { ms: 96, who: 'lab', kind: 'action', host: 'proxy', text: 'SIGKILL proxy' },
      { ms: 350, who: 'lab', kind: 'release' },
      { ms: 355, who: 'client', kind: 'result' },
    ] satisfies TimelineEntry[],
  };
  const m = ladderFromRun(run);
  assert.deepEqual(m.hosts.map((h) => h.label), ['client', 'proxy', 'server'], 'an action on the proxy brings its line');
  const notes = m.events.filter((e): e is LadderNoteEvent => e.kind === 'note').map((n) => [n.text, n.host, n.tone]);
  assert.deepEqual(notes, [
    ['connected 198.51.100.1:43210', 0, 'event'],
    ['accepted 198.51.100.1:43210', 2, 'event'],
    ['router drops the connection', null, 'action'],
    ['SIGKILL server', 2, 'action'],
    ['SIGKILL proxy', 1, 'action'],
    ['client released (go)', 0, 'action'],
    ['error: ECONNRESET', 0, 'error'],
  ]);
});

test('text ladders fit the width they are given, for every fixture run and width', () => {
  for (const run of LAB_FIXTURE.runs) {
    for (const width of [60, 80, 100, 140]) {
      const text = renderLadderText(ladderFromRun(run), width);
      for (const w of lineWidths(text)) assert.ok(w <= width, `${run.id} at ${width}: a line is ${w} columns`);
    }
  }
});

test('a run without packets says so instead of drawing nothing', () => {
  const run = LAB_FIXTURE.runs.find((r) => r.status === 'skipped')!;
  assert.match(renderLadderText(ladderFromRun(run)), /no packets captured/);
});

// Real lab captures, when the lab has produced them.
const labDir = path.join(root, 'fixtures', 'captures');
const labFiles = existsSync(labDir) ? readdirSync(labDir).filter((f) => /\.pcap(ng)?(\.gz)?$/.test(f)).sort() : [];
for (const f of labFiles) {
  test(`golden ladder (lab capture): ${f}`, async () => {
    const res = await explainCapture(path.join(labDir, f));
    const got = await renderCapture(res);
    for (const w of lineWidths(got)) assert.ok(w <= 100, `a line is ${w} columns`);
    golden(path.join('lab', `${f}.txt`), got);
  });
}
