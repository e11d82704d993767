// The error catalog: what each client library reported in the lab, in which scenarios, and what
// the wire showed (who sent RST/FIN, when). Contract:
// - `buildCatalog(results)` is pure and deterministic: lab results in (results.json, schema
//   rstlab-lab/1), catalog out; the same input gives byte-identical JSON. It is never written by
//   hand: scripts/build-catalog.ts regenerates data/error-catalog.json (docs/catalog.md).
// - `matchError(catalog, text)` is pure fuzzy matching of an error text a person pasted (class
//   names, errno names, messages with host names, ports and numbers varying) against the catalog,
//   best first; `rankCauses(matches)` turns the matches into wire causes, most likely first.
// - The input types mirror src/report/results.ts structurally (explain sits below report, so it
//   does not import it); a LabResults object is accepted as is.

import type { Cause } from './causes.js';
import type { WireCause } from './advice.js';
import type { AppOutcome } from './outcome.js';

// ---------------------------------------------------------------------------------------------
// Input: the parts of results.json the catalog reads (see src/report/results.ts)

type Role = 'client' | 'server' | 'proxy';

export type CatalogOutcome = AppOutcome;

export interface CatalogLadderSegment {
  frame: number; ms: number; from: Role | 'unknown'; to: Role | 'unknown'; flags: string; seq: number; ack: number; len: number; cause?: Cause;
}

export interface CatalogTimelineEntry { ms: number; who: 'lab' | 'client' | 'server' | 'proxy'; what: string }

export interface CatalogRunInput {
  id: string;
  scenario: string;
  client: string;
  status: 'ok' | 'mismatch' | 'skipped' | 'failed';
  outcome: CatalogOutcome | null;
  capture: string | null;
  rsts: Array<{ frame: number; cause: Cause; role: Role | 'unknown' }>;
  fins: Array<{ frame: number; role: Role | 'unknown' }>;
  ladder: CatalogLadderSegment[];
  timeline: CatalogTimelineEntry[];
}

export interface CatalogResultsInput {
  schema: string;
  startedAt: string;
  host: { kernel: string; mode: string };
  scenarios: Array<{ id: string; title: string; claims: string[] }>;
  runs: CatalogRunInput[];
}

// ---------------------------------------------------------------------------------------------
// The catalog

export interface WireEvent { role: Role | 'unknown'; frame: number; ms: number; cause?: Cause; beforeError: boolean | null }

/** What the wire showed in one run, reduced to who closed and who reset, when. */
export interface WireSignature {
  /** What ended the connection for the client: the first RST it received (one it must not ignore), else its own RST, else a FIN from the peer, else `silent`. */
  cause: WireCause;
  rsts: WireEvent[];
  fins: WireEvent[];
  /** The sequence in words: `SIGKILL server → server FIN → client data → server RST (reset-after-close) → client error`. */
  summary: string;
}

export interface CatalogOccurrence {
  scenario: string;
  /** The scenario's title. */
  title: string;
  claims: string[];
  run: string;
  status: 'ok' | 'mismatch';
  /** Index into `Catalog.sources`. */
  source: number;
  capture: string | null;
  wire: WireSignature;
  /** The run's ladder and timeline, so that `rstlab why` can draw it. */
  ladder: CatalogLadderSegment[];
  timeline: CatalogTimelineEntry[];
}

export interface CatalogEntry {
  /** Stable key: client, error name, code and the message's normalised form, then its cause chain's. */
  id: string;
  client: string;
  error: string;
  code?: string;
  /** One message as the library printed it (from the first run that reported it). */
  message: string;
  /** The message normalised: addresses, numbers, hex and Connection{…} contents replaced. */
  pattern: string;
  /** That run's cause chain, outermost first. */
  causes: Array<{ error: string; code?: string; message: string; relation?: string }>;
  /** The outcome as reported by the first run (for drawing the client's event on a ladder). */
  outcome: CatalogOutcome;
  occurrences: CatalogOccurrence[];
}

export interface Catalog {
  schema: 'rstlab-catalog/1';
  /** The lab runs it was built from. */
  sources: Array<{ startedAt: string; kernel: string; mode: string; runs: number }>;
  entries: CatalogEntry[];
}

// ---------------------------------------------------------------------------------------------
// Normalisation

/**
 * An error message with what varies between runs replaced: `Connection{…}` contents, URLs, IPv4/IPv6
 * addresses with or without port (and Java's leading `/`), `host:port`, hex (`0x1f`, long hex
 * strings), numbers. Whitespace collapsed. Case kept.
 */
export function normalizeMessage(text: string): string {
  return text
    .replace(/Connection\{[^}]*\}/g, 'Connection{…}')
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s,;)}\]]+/gi, '<url>')
    .replace(/\/?\[[0-9a-fA-F:.]+\](?::\d+)?/g, '<addr>')
    .replace(/\/?\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b/g, '<addr>')
    .replace(/\/?(?<![\w.:])(?=[0-9a-fA-F:]*::|(?:[0-9a-fA-F]{1,4}:){3})[0-9a-fA-F:]{3,39}(?![\w:])/g, '<addr>')
    .replace(/\b(?:localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+):\d+\b/g, '<addr>')
    .replace(/[A-Za-z0-9.-]+<addr>/g, '<addr>') // Java's `host/1.2.3.4:80`
    .replace(/\b0x[0-9a-fA-F]+\b/g, '<hex>')
    .replace(/\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b/g, '<hex>')
    .replace(/\b\d+(?:\.\d+)?\b/g, '<n>')
    .replace(/\/\.\.\.|\.\.\.|…(?!})/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

// ---------------------------------------------------------------------------------------------
// Building

const RST_FLAG = /R/;

function signatureOf(run: CatalogRunInput): WireSignature {
  const errorAt = run.outcome?.kind === 'error' ? run.timeline.find((t) => t.who === 'client' && t.what.startsWith('result'))?.ms ?? null : null;
  const msOf = (frame: number) => run.ladder.find((s) => s.frame === frame)?.ms ?? 0;
  const ev = (role: Role | 'unknown', frame: number, cause?: Cause): WireEvent => {
    const ms = msOf(frame);
    return { role, frame, ms, ...(cause ? { cause } : {}), beforeError: errorAt === null ? null : ms <= errorAt };
  };
  const rsts = run.rsts.map((r) => ev(r.role, r.frame, r.cause)).sort((a, b) => a.frame - b.frame);
  const fins = run.fins.map((f) => ev(f.role, f.frame)).sort((a, b) => a.frame - b.frame);
  const fromPeer = rsts.filter((r) => r.role !== 'client');
  const firstRst = fromPeer.find((r) => r.cause !== 'out-of-window') ?? rsts.find((r) => r.role === 'client' && r.cause !== 'out-of-window') ?? fromPeer[0] ?? rsts[0];
  let cause: WireCause;
  if (firstRst?.cause) cause = firstRst.cause;
  else if (fins.some((f) => f.role !== 'client')) cause = 'peer-closed';
  else cause = 'silent';

  // The sequence in words: lab actions, FINs, RSTs with the segment each answers, the client's result.
  const steps: Array<{ ms: number; order: number; text: string }> = [];
  run.timeline.forEach((t, i) => {
    if (t.who === 'lab' && t.what !== 'client: go') steps.push({ ms: t.ms, order: 1e6 + i, text: t.what });
    if (t.who === 'client' && t.what.startsWith('result')) {
      steps.push({ ms: t.ms, order: 1e6 + i, text: run.outcome?.kind === 'ok' ? 'client ok' : run.outcome?.kind === 'error' ? 'client error' : 'client gave up' });
    }
  });
  run.ladder.forEach((s, i) => {
    const next = run.ladder[i + 1];
    if (RST_FLAG.test(s.flags)) steps.push({ ms: s.ms, order: i, text: `${s.from} RST (${s.cause ?? '?'})` });
    else if (s.flags.includes('F')) steps.push({ ms: s.ms, order: i, text: `${s.from} FIN` });
    else if (next && RST_FLAG.test(next.flags) && next.from === s.to) {
      steps.push({ ms: s.ms, order: i, text: `${s.from} ${s.flags.includes('S') ? 'SYN' : s.len > 0 ? 'data' : 'ACK'}` });
    }
  });
  steps.sort((a, b) => a.ms - b.ms || a.order - b.order);
  const words: string[] = [];
  let repeat = 1;
  for (const [i, s] of steps.entries()) {
    if (i > 0 && steps[i - 1].text === s.text) { repeat++; continue; }
    if (repeat > 1) { words[words.length - 1] += ` ×${repeat}`; repeat = 1; }
    words.push(s.text);
  }
  if (repeat > 1) words[words.length - 1] += ` ×${repeat}`;
  return { cause, rsts, fins, summary: words.join(' → ') || 'nothing notable on the wire' };
}

/** Client, error, code and normalised message — plus the normalised cause chain, so that a wrapper
 *  such as fetch's `TypeError: fetch failed` is one entry per underlying error. */
const entryKey = (client: string, o: CatalogOutcome) => [
  `${client}|${o.error ?? ''}|${o.code ?? ''}|${normalizeMessage(o.message ?? '')}`,
  ...o.causes.map((c) => `${c.error}|${c.code ?? ''}|${normalizeMessage(c.message)}`),
].join(' <- ');

/** Outcomes the lab itself wrote, not the client library: `SIGKILL` (the lab killed the client). */
const LAB_OUTCOMES = new Set(['SIGKILL']);

/** Build the catalog from one or more lab results (in order; each result is a source). */
export function buildCatalog(results: CatalogResultsInput[]): Catalog {
  const entries = new Map<string, CatalogEntry>();
  const sources: Catalog['sources'] = [];
  results.forEach((res, source) => {
    const errorRuns = res.runs.filter((r) => (r.status === 'ok' || r.status === 'mismatch') && r.outcome?.kind === 'error' && !LAB_OUTCOMES.has(r.outcome.error ?? ''));
    sources.push({ startedAt: res.startedAt, kernel: res.host.kernel, mode: res.host.mode, runs: errorRuns.length });
    for (const run of errorRuns) {
      const o = run.outcome as CatalogOutcome;
      const key = entryKey(run.client, o);
      let entry = entries.get(key);
      if (!entry) {
        entry = {
          id: key,
          client: run.client,
          error: o.error ?? 'error',
          ...(o.code ? { code: o.code } : {}),
          message: o.message ?? '',
          pattern: normalizeMessage(o.message ?? ''),
          causes: o.causes.map((c) => ({ error: c.error, ...(c.code ? { code: c.code } : {}), message: c.message, ...(c.relation ? { relation: c.relation } : {}) })),
          outcome: o,
          occurrences: [],
        };
        entries.set(key, entry);
      }
      const info = res.scenarios.find((s) => s.id === run.scenario);
      entry.occurrences.push({
        scenario: run.scenario,
        title: info?.title ?? run.scenario,
        claims: info?.claims ?? [],
        run: run.id,
        status: run.status as 'ok' | 'mismatch',
        source,
        capture: run.capture,
        wire: signatureOf(run),
        ladder: run.ladder,
        timeline: run.timeline,
      });
    }
  });
  const list = [...entries.values()].sort((a, b) => (a.client < b.client ? -1 : a.client > b.client ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { schema: 'rstlab-catalog/1', sources, entries: list };
}

// ---------------------------------------------------------------------------------------------
// Matching

/** Linux errno numbers as Python and C print them (`[Errno 104]`), for the codes resets produce. */
const ERRNO: Record<string, string> = {
  32: 'EPIPE', 101: 'ENETUNREACH', 103: 'ECONNABORTED', 104: 'ECONNRESET', 110: 'ETIMEDOUT', 111: 'ECONNREFUSED', 113: 'EHOSTUNREACH',
};

/**
 * The same failure worded differently by another platform's stack: the lab runs OkHttp on the JDK,
 * the seed ran it on Android, whose TLS provider (Conscrypt) words its errors differently. A text
 * matching `pattern` is also tried as each of `alternatives`. This is matching knowledge, not
 * catalog content: which scenarios produced a message still comes only from lab runs.
 */
export const PLATFORM_SYNONYMS: Array<{ pattern: string; alternatives: string[]; note: string }> = [
  {
    pattern: 'connection closed by peer',
    alternatives: ['javax.net.ssl.SSLHandshakeException: Remote host terminated the handshake', 'javax.net.ssl.SSLException: Connection reset', 'java.io.EOFException: SSL peer shut down incorrectly'],
    note: 'Android (Conscrypt) "Connection closed by peer" is the JDK\'s "Remote host terminated the handshake" / "SSL peer shut down incorrectly"',
  },
  {
    pattern: 'ssl=0x[0-9a-f]+: I/O error during system call, Connection reset by peer',
    alternatives: ['javax.net.ssl.SSLException: Connection reset', 'java.net.SocketException: Connection reset'],
    note: 'Android (Conscrypt) "I/O error during system call, Connection reset by peer" is the JDK\'s "Connection reset"',
  },
];

const STOP = new Set(['a', 'an', 'the', 'of', 'on', 'to', 'by', 'at', 'in', 'for', 'is', 'was', 'and', 'or', 'with', 'from', 'caused', 'error', 'exception', 'n', 'addr', 'hex', 'url']);

interface Features {
  /** Fully qualified class names, lowercase. */
  classes: Set<string>;
  /** Simple class names, lowercase (`socketexception`). */
  simple: Set<string>;
  /** Error codes, upper case: errno names, UND_ERR_*, ERR_*, `curl:56`. */
  codes: Set<string>;
  tokens: Set<string>;
}

function stripStack(text: string): string {
  return text.split(/\r?\n/).filter((l) => !/^\s+at\s/.test(l) && !/^\s*\.\.\. \d+ more/.test(l)).join('\n');
}

function features(text: string, extraCodes: string[] = []): Features {
  const t = stripStack(text);
  const classes = new Set<string>();
  const simple = new Set<string>();
  for (const m of t.matchAll(/\b((?:[a-z_$][\w$]*\.)+[A-Z][\w$]*)\b/g)) {
    classes.add(m[1].toLowerCase());
    simple.add(m[1].slice(m[1].lastIndexOf('.') + 1).toLowerCase());
  }
  for (const m of t.matchAll(/\b([A-Z][A-Za-z0-9]*(?:Exception|Error))\b/g)) if (m[1] !== 'Error') simple.add(m[1].toLowerCase());
  const codes = new Set<string>(extraCodes.filter(Boolean).map((c) => c.toUpperCase()));
  for (const m of t.matchAll(/\b(E[A-Z][A-Z0-9]{2,}|UND_ERR_[A-Z_]+|ERR_[A-Z0-9_]+)\b/g)) codes.add(m[1]);
  for (const m of t.matchAll(/\[Errno (\d+)\]|errno[ =:]+(\d+)/gi)) { const name = ERRNO[m[1] ?? m[2]]; if (name) codes.add(name); }
  for (const m of t.matchAll(/curl: \((\d+)\)/g)) codes.add(`CURL:${m[1]}`);
  const tokens = new Set<string>();
  for (const w of normalizeMessage(t).toLowerCase().split(/[^a-z0-9_]+/)) {
    if (w.length >= 2 && !STOP.has(w) && !/^\d+$/.test(w)) tokens.add(w);
  }
  return { classes, simple, codes, tokens };
}

interface Indexed { entry: CatalogEntry; all: Features; texts: Set<string>[]; classList: string[]; codeList: string[] }

function index(catalog: Catalog): { items: Indexed[]; weight: (t: string) => number } {
  const items = catalog.entries.map((entry): Indexed => {
    const chain = [{ error: entry.error, code: entry.code, message: entry.message }, ...entry.causes];
    const texts = chain.map((c) => features(`${c.message} ${c.code ?? ''}`).tokens);
    const codeList = chain.map((c) => (entry.error === 'curl' && c === chain[0] && c.code ? `CURL:${c.code}` : c.code ?? '')).filter(Boolean);
    const all = features(chain.map((c) => `${c.error}: ${c.message}`).join('\n'), codeList);
    const classList = chain.map((c) => c.error.toLowerCase());
    return { entry, all, texts, classList, codeList: [...all.codes] };
  });
  const df = new Map<string, number>();
  for (const it of items) for (const t of new Set(it.texts.flatMap((s) => [...s]))) df.set(t, (df.get(t) ?? 0) + 1);
  const n = Math.max(1, items.length);
  const weight = (t: string) => Math.log(1 + n / (1 + (df.get(t) ?? 0)));
  return { items, weight };
}

function textScore(q: Set<string>, e: Set<string>, w: (t: string) => number): number {
  if (!q.size || !e.size) return 0;
  let both = 0;
  let qw = 0;
  let ew = 0;
  for (const t of q) { qw += w(t); if (e.has(t)) both += w(t); }
  for (const t of e) ew += w(t);
  if (both === 0) return 0;
  const precision = both / qw;
  const recall = both / ew;
  return (2 * precision * recall) / (precision + recall);
}

export interface Match {
  entry: CatalogEntry;
  /** 0..1 */
  score: number;
  /** What matched: `class java.io.IOException`, `code ECONNRESET`, `message`, `synonym: …`. */
  reasons: string[];
}

export const MATCH_MIN_SCORE = 0.4;

function scoreOne(q: Features, qNorm: string, it: Indexed, w: (t: string) => number): { score: number; reasons: string[] } {
  const reasons: string[] = [];
  // Message: best weighted F1 over the entry's messages (top and causes); containment of the
  // normalised message either way counts as an exact match.
  let text = 0;
  it.texts.forEach((e) => { text = Math.max(text, textScore(q.tokens, e, w)); });
  const chainMsgs = [it.entry.message, ...it.entry.causes.map((c) => c.message)].map((m) => normalizeMessage(m).toLowerCase()).filter((m) => m.length >= 8);
  const qn = qNorm.toLowerCase();
  // The whole message inside the query: as good as exact. The query inside a message: by how much of it.
  if (chainMsgs.some((m) => qn.includes(m))) text = Math.max(text, 0.97);
  else if (qn.length >= 8) for (const m of chainMsgs) if (m.includes(qn)) text = Math.max(text, 0.5 + 0.47 * (qn.length / m.length));
  if (text > 0) reasons.push(`message ${Math.round(text * 100)}%`);

  let total = text;
  let weights = 1;
  if (q.classes.size || q.simple.size) {
    let cls = 0;
    it.classList.forEach((c, i) => {
      const simpleName = c.slice(c.lastIndexOf('.') + 1);
      if (q.classes.has(c)) cls = Math.max(cls, i === 0 ? 1 : 0.9);
      else if (q.simple.has(simpleName)) cls = Math.max(cls, i === 0 ? 0.85 : 0.75);
    });
    if (cls > 0) reasons.push(`class ${it.classList.find((c) => q.classes.has(c) || q.simple.has(c.slice(c.lastIndexOf('.') + 1)))}`);
    total += 0.6 * cls;
    weights += 0.6;
  }
  if (q.codes.size) {
    const hit = it.codeList.find((c) => q.codes.has(c));
    if (hit) reasons.push(`code ${hit}`);
    total += 0.8 * (hit ? 1 : 0);
    weights += 0.8;
  }
  return { score: total / weights, reasons };
}

/**
 * Entries of the catalog that match an error text, best first (score ≥ `min`, default
 * MATCH_MIN_SCORE). Known platform variants of a message (Android's Conscrypt vs the JDK, see
 * synonyms.ts) are tried too, at 90 % of their score.
 */
export function matchError(catalog: Catalog, text: string, opts: { min?: number } = {}): Match[] {
  const min = opts.min ?? MATCH_MIN_SCORE;
  const { items, weight } = index(catalog);
  const queries: Array<{ text: string; factor: number; note?: string }> = [{ text, factor: 1 }];
  for (const s of PLATFORM_SYNONYMS) {
    if (new RegExp(s.pattern, 'i').test(text)) for (const alt of s.alternatives) queries.push({ text: alt, factor: 0.9, note: `synonym: ${s.note}` });
  }
  const best = new Map<CatalogEntry, Match>();
  for (const q of queries) {
    const f = features(q.text);
    const qNorm = normalizeMessage(stripStack(q.text));
    for (const it of items) {
      const { score, reasons } = scoreOne(f, qNorm, it, weight);
      const s = score * q.factor;
      const prev = best.get(it.entry);
      if (!prev || s > prev.score) best.set(it.entry, { entry: it.entry, score: Math.round(s * 1000) / 1000, reasons: q.note ? [...reasons, q.note] : reasons });
    }
  }
  return [...best.values()].filter((m) => m.score >= min).sort((a, b) => b.score - a.score || (a.entry.id < b.entry.id ? -1 : 1));
}

export interface CauseHit { entry: CatalogEntry; occurrence: CatalogOccurrence; score: number }

export interface CauseMatch {
  cause: WireCause;
  /** Sum of the matching runs' scores. */
  score: number;
  /** This cause's part of all matching runs' scores, 0..1. */
  share: number;
  /** Matching runs, best first (ok runs before mismatched ones). */
  hits: CauseHit[];
  /** Scenario ids, in order of first hit. */
  scenarios: string[];
}

/**
 * Group matches by what the wire showed in their runs, most likely first: each run of a matching
 * entry within `band` (default 0.8) of the best score votes for its wire cause with its score.
 */
export function rankCauses(matches: Match[], band = 0.8): CauseMatch[] {
  if (!matches.length) return [];
  const top = matches[0].score;
  const buckets = new Map<WireCause, CauseMatch>();
  for (const m of matches) {
    if (m.score < top * band) continue;
    for (const o of m.entry.occurrences) {
      let b = buckets.get(o.wire.cause);
      if (!b) { b = { cause: o.wire.cause, score: 0, share: 0, hits: [], scenarios: [] }; buckets.set(o.wire.cause, b); }
      b.score += m.score;
      b.hits.push({ entry: m.entry, occurrence: o, score: m.score });
    }
  }
  const list = [...buckets.values()];
  const total = list.reduce((s, b) => s + b.score, 0) || 1;
  for (const b of list) {
    b.share = Math.round((b.score / total) * 1000) / 1000;
    b.score = Math.round(b.score * 1000) / 1000;
    b.hits.sort((x, y) => y.score - x.score || (x.occurrence.status === y.occurrence.status ? 0 : x.occurrence.status === 'ok' ? -1 : 1));
    b.scenarios = [...new Set(b.hits.map((h) => h.occurrence.scenario))];
  }
  return list.sort((a, b) => b.score - a.score || (a.cause < b.cause ? -1 : 1));
}
