// Zeek as the oracle of conn_state and history: every trace of Zeek's own test suite in
// ../shared/corpus/zeek-traces (57 pairs, see its README.md and manifest.json) is explained, every
// TCP row of the output Zeek saved for it is matched to one of rstlab's connections, and the two
// are compared field by field (conn_state where the baseline has it, history always).
// - Matching, as the corpus' README says: the same (orig, resp) endpoints, or the reversed pair
//   (Zeek flips a connection it saw mid-stream, history `^`); among several, the closest start time
//   (when the baseline kept it) and packet counts; a baseline without endpoints (`printline:N`,
//   a `cut` without them) concerns a one-connection trace.
// - Zeek's command line is followed: a test run without -C verifies checksums (explain's
//   `verifyChecksums`), and one whose `zeek -b` script loads no analyzer has no likely server ports.
// - Every difference that remains is a line of zeek-baselines.expected.txt, each with the reason
//   it is not fixed (`why:`), and the file's first lines hold the agreement figures. A Zeek row
//   without an rstlab connection is such a difference (`unmatched`). The test fails when a
//   difference is not in the file (or one there no longer happens), when one has no reason, or
//   when the figures (rows matched, conn_state and history equal) drop below the saved ones.
//   RSTLAB_UPDATE=1 rewrites the file (as golden.test.ts does its own), keeping the reasons of the
//   differences that remain; a new difference gets `why: UNEXPLAINED`, which fails until written.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoFile, sharedCorpus } from '../paths.js';
import { readZeekLog, skipOutsideCi } from '../testkit.js';
import { parseEndpoint, parseIpv4, parseIpv6 } from '../wire/addr.js';
import { explainCapture } from './engine.js';
import type { ConnectionReport } from './engine.js';

interface Pair { trace: string; baseline: string; baseline_kind: string; note: string; zeek_command: string[] }
/** One TCP row of a Zeek baseline: what it says of a connection. */
interface ZeekRow {
  /** [orig_h, orig_p, resp_h, resp_p], or null when the baseline does not say. */
  id: [string, number, string, number] | null;
  ts: number | null;
  connState: string | null;
  history: string | null;
  origPkts: number | null;
  respPkts: number | null;
}

const corpus = sharedCorpus('zeek-traces');
const expectedFile = repoFile('src/explain/zeek-baselines.expected.txt');
const update = process.env.RSTLAB_UPDATE === '1';
const UNEXPLAINED = 'UNEXPLAINED';

/** An address in one canonical text (Zeek and rstlab may compress IPv6 differently). */
function canonAddr(a: string): string {
  return a.includes(':') ? Array.from(parseIpv6(a)).map((b) => b.toString(16).padStart(2, '0')).join('') : Array.from(parseIpv4(a)).join('.');
}

const num = (s: string | undefined): number | null => (s === undefined || s === '-' || !/^\d+(\.\d+)?$/.test(s) ? null : Number(s));

/** The baseline's lines after btest's header line. */
function bodyLines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('### BTest'));
}

function rowOf(r: Record<string, string>): ZeekRow {
  const has = r['id.orig_h'] !== undefined;
  return {
    id: has ? [r['id.orig_h'], Number(r['id.orig_p']), r['id.resp_h'], Number(r['id.resp_p'])] : null,
    ts: num(r.ts),
    connState: r.conn_state ?? null,
    history: r.history === undefined ? null : r.history === '-' ? '' : r.history,
    origPkts: num(r.orig_pkts),
    respPkts: num(r.resp_pkts),
  };
}

/** The TCP rows of a baseline, by its kind. */
function zeekRows(text: string, kind: string): ZeekRow[] {
  if (kind === 'conn') return readZeekLog(text).rows.filter((r) => r.proto === 'tcp').map(rowOf);
  if (kind === 'cut') {
    const [head, ...rows] = bodyLines(text);
    const fields = head.split('\t');
    return rows.map((l) => rowOf(Object.fromEntries(l.split('\t').map((v, i) => [fields[i], v]))))
      .filter((_, i) => { const p = rows[i].split('\t')[fields.indexOf('proto')]; return p === undefined || p === 'tcp'; });
  }
  const line = /^printline:(\d+)$/.exec(kind);
  if (line) {
    const [history, state] = bodyLines(text)[Number(line[1]) - 1].split(', ');
    return [{ id: null, ts: null, connState: state, history, origPkts: null, respPkts: null }];
  }
  const tag = /^print-remove:(.+)$/.exec(kind);
  if (tag) {
    return bodyLines(text).filter((l) => l.includes(`${tag[1]},`) && (l.startsWith(tag[1]) || l.split(', ')[1] === tag[1])).map((l) => {
      const rec = /\[orig_h=([^,]+), orig_p=(\d+)\/tcp, resp_h=([^,]+), resp_p=(\d+)\/tcp(?:[^\][]|\[[^\]]*\])*\], ([^,]*)/.exec(l);
      assert.ok(rec, `a conn_id record and a history in ${JSON.stringify(l)}`);
      return { id: [rec[1], Number(rec[2]), rec[3], Number(rec[4])], ts: null, connState: null, history: rec[5], origPkts: null, respPkts: null };
    });
  }
  throw new Error(`unknown baseline kind ${kind}`);
}

/**
 * Traces whose test ran `zeek -b` with a script that loads no protocol analyzer, so that Zeek had
 * no likely server ports (register_for_ports is what fills them) and kept a first SYN-ACK's sender
 * as the originator: core/checksums_ignore_nets.test loads only base/protocols/conn, and
 * core/connection_flipped.zeek loads nothing (zeek/zeek, testing/btest). The other `-b` tests load
 * the analyzers of their protocols, whose ports rstlab's default set includes.
 */
const NO_LIKELY_SERVER_PORTS = new Set(['chksums__localhost-bad-chksum.pcap', 'tcp__handshake-reorder.pcap']);

interface Match { zeek: ZeekRow; ours: ConnectionReport | null; flipped: boolean }

/** Every Zeek row with the rstlab connection it describes (null: none is left). */
function matchRows(rows: readonly ZeekRow[], conns: readonly ConnectionReport[]): Match[] {
  const used = new Set<ConnectionReport>();
  const eps = new Map(conns.map((c) => {
    const o = parseEndpoint(c.orig);
    const r = parseEndpoint(c.resp);
    return [c, `${canonAddr(o.addr)} ${o.port} ${canonAddr(r.addr)} ${r.port}`] as const;
  }));
  return rows.map((z) => {
    if (z.id === null) {
      // A one-connection trace: its connection with the most packets.
      const c = [...conns].filter((x) => !used.has(x)).sort((a, b) => (b.origPackets + b.respPackets) - (a.origPackets + a.respPackets))[0] ?? null;
      if (c) used.add(c);
      return { zeek: z, ours: c, flipped: false };
    }
    const [oh, op, rh, rp] = z.id;
    const fwd = `${canonAddr(oh)} ${op} ${canonAddr(rh)} ${rp}`;
    const rev = `${canonAddr(rh)} ${rp} ${canonAddr(oh)} ${op}`;
    let best: ConnectionReport | null = null;
    let bestCost = Infinity;
    let bestFlip = false;
    for (const c of conns) {
      if (used.has(c)) continue;
      const k = eps.get(c);
      const flip = k !== fwd;
      if (!flip || k === rev) {
        const [po, pr] = flip ? [c.respPackets, c.origPackets] : [c.origPackets, c.respPackets];
        const cost = (z.ts !== null ? Math.abs(z.ts - c.start) * 1000 : 0)
          + (z.origPkts !== null ? Math.abs(z.origPkts - po) : 0) + (z.respPkts !== null ? Math.abs(z.respPkts - pr) : 0)
          + (flip ? 0.5 : 0);
        if (cost < bestCost) { best = c; bestCost = cost; bestFlip = flip; }
      }
    }
    if (best) used.add(best);
    return { zeek: z, ours: best, flipped: bestFlip };
  });
}

interface Figures { rows: number; matched: number; states: number; statesEqual: number; histories: number; historiesEqual: number }

/** One difference, as a line of the expected file (stable across runs: no uid, no times). */
function diffLine(trace: string, i: number, m: Match, field: string, zeek: string, ours: string): string {
  const id = m.zeek.id ? `${m.zeek.id[0]}:${m.zeek.id[1]} > ${m.zeek.id[2]}:${m.zeek.id[3]}` : 'the connection';
  return `${trace} row ${i + 1} (${id}) ${field}: zeek ${zeek || '(empty)'}, rstlab ${ours || '(empty)'}`;
}

async function compareAll(): Promise<{ figures: Figures; diffs: string[] }> {
  assert.ok(corpus);
  const manifest = JSON.parse(readFileSync(path.join(corpus, 'manifest.json'), 'utf8')) as { pairs: Pair[] };
  const figures: Figures = { rows: 0, matched: 0, states: 0, statesEqual: 0, histories: 0, historiesEqual: 0 };
  const diffs: string[] = [];
  for (const p of manifest.pairs) {
    const trace = path.basename(p.trace);
    const rows = zeekRows(readFileSync(path.join(corpus, p.baseline), 'utf8'), p.baseline_kind);
    // Zeek run without -C verifies checksums and ignores what fails them; rstlab then does too.
    const verifyChecksums = !p.zeek_command.some((c) => /\s-[A-Za-z]*C/.test(c));
    const bare = NO_LIKELY_SERVER_PORTS.has(trace);
    const res = await explainCapture(path.join(corpus, p.trace), { verifyChecksums, ...(bare ? { likelyServerPorts: new Set<number>() } : {}) });
    const matches = matchRows(rows, res.connections);
    matches.forEach((m, i) => {
      figures.rows++;
      if (m.ours === null) { diffs.push(diffLine(trace, i, m, 'unmatched', m.zeek.history ?? '', 'no connection')); return; }
      figures.matched++;
      if (m.zeek.connState !== null) {
        figures.states++;
        if (m.zeek.connState === m.ours.connState) figures.statesEqual++;
        else diffs.push(diffLine(trace, i, m, 'conn_state', m.zeek.connState, m.ours.connState));
      }
      if (m.zeek.history !== null) {
        figures.histories++;
        if (m.zeek.history === m.ours.history) figures.historiesEqual++;
        else diffs.push(diffLine(trace, i, m, 'history', m.zeek.history, m.ours.history));
      }
    });
  }
  return { figures, diffs };
}

const pct = (a: number, b: number): string => (b === 0 ? '100.0' : ((100 * a) / b).toFixed(1));
function figureLines(f: Figures): string[] {
  return [
    `rows ${f.rows}, matched ${f.matched}`,
    `conn_state ${f.statesEqual} of ${f.states} (${pct(f.statesEqual, f.states)}%)`,
    `history ${f.historiesEqual} of ${f.histories} (${pct(f.historiesEqual, f.histories)}%)`,
  ];
}

interface Expected { figures: Figures | null; reasons: Map<string, string> }

function readExpected(text: string): Expected {
  const reasons = new Map<string, string>();
  let figures: Figures | null = null;
  const lines = text.split('\n');
  const m1 = /^rows (\d+), matched (\d+)$/.exec(lines.find((l) => l.startsWith('rows ')) ?? '');
  const m2 = /^conn_state (\d+) of (\d+)/.exec(lines.find((l) => l.startsWith('conn_state ')) ?? '');
  const m3 = /^history (\d+) of (\d+)/.exec(lines.find((l) => l.startsWith('history ')) ?? '');
  if (m1 && m2 && m3) {
    figures = { rows: +m1[1], matched: +m1[2], statesEqual: +m2[1], states: +m2[2], historiesEqual: +m3[1], histories: +m3[2] };
  }
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('- ')) continue;
    const why = /^ {2}why: (.*)$/.exec(lines[i + 1] ?? '');
    reasons.set(lines[i].slice(2), why ? why[1] : UNEXPLAINED);
  }
  return { figures, reasons };
}

const HEADER = [
  '# rstlab against Zeek\'s own test baselines (../shared/corpus/zeek-traces): src/explain/zeek-baselines.test.ts.',
  '# The figures, then every difference that remains, each with why it remains. RSTLAB_UPDATE=1',
  '# rewrites this file, keeping each remaining difference\'s reason; a new one reads UNEXPLAINED.',
];

function renderExpected(figures: Figures, diffs: readonly string[], reasons: ReadonlyMap<string, string>): string {
  const body = diffs.flatMap((d) => [`- ${d}`, `  why: ${reasons.get(d) ?? UNEXPLAINED}`]);
  return [...HEADER, '', ...figureLines(figures), '', ...body, ''].join('\n');
}

test('Zeek\'s baselines: every TCP row matched, its conn_state and history equal, but for the differences explained in zeek-baselines.expected.txt',
  { skip: skipOutsideCi(corpus ? false : 'the Zeek trace corpus is not there (../shared/corpus/zeek-traces)') }, async (t) => {
    const { figures, diffs } = await compareAll();
    for (const l of figureLines(figures)) t.diagnostic(l);
    const expected = existsSync(expectedFile) ? readExpected(readFileSync(expectedFile, 'utf8')) : { figures: null, reasons: new Map<string, string>() };
    if (update) {
      writeFileSync(expectedFile, renderExpected(figures, diffs, expected.reasons));
      return;
    }
    assert.ok(expected.figures, `${expectedFile} holds the figures: run with RSTLAB_UPDATE=1`);
    const saved = expected.figures;
    assert.ok(figures.matched >= saved.matched, `matched rows ${figures.matched} < ${saved.matched}`);
    assert.ok(figures.statesEqual >= saved.statesEqual, `conn_state agrees on ${figures.statesEqual} < ${saved.statesEqual}`);
    assert.ok(figures.historiesEqual >= saved.historiesEqual, `history agrees on ${figures.historiesEqual} < ${saved.historiesEqual}`);
    const unknown = diffs.filter((d) => !expected.reasons.has(d));
    assert.deepEqual(unknown, [], 'differences not in zeek-baselines.expected.txt (RSTLAB_UPDATE=1, then write their reasons)');
    const gone = [...expected.reasons.keys()].filter((d) => !diffs.includes(d));
    assert.deepEqual(gone, [], 'differences in zeek-baselines.expected.txt that no longer happen (RSTLAB_UPDATE=1)');
    const unexplained = diffs.filter((d) => expected.reasons.get(d) === UNEXPLAINED || expected.reasons.get(d) === '');
    assert.deepEqual(unexplained, [], 'differences without a reason in zeek-baselines.expected.txt');
  });
