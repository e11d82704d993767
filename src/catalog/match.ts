// Matching an error text a person pasted against the catalog. Contract: pure, no I/O.
// - `normalizeMessage(text)`: what varies between runs (addresses, ports, numbers, hex,
//   Connection{…} contents) replaced, so that the same error from two runs has one pattern.
// - `matchError(catalog, text)`: fuzzy matching of the text (class names, errno names, messages
//   with host names, ports and numbers varying) against every entry, best first.
// - `rankCauses(matches)`: the matches turned into wire causes, most likely first, each with its
//   meaning and advice (advice.ts).
// - `answerWhy(catalog, text)`: the whole answer — the pasted text's family and condition
//   (shapes.ts), not-a-TCP-event texts said plainly, message matches of the same condition plus the
//   catalog's other observations of that condition (another software's, said so), ranked causes.
// The answers fit the input of report/why-text.ts, which renders them.

import { ADVICE, wireCauseInfo } from './advice.js';
import { errnoNames } from './errno.js';
import { canonicalFamily, CONDITION_FALLBACKS, CONDITION_TITLES, conditionOf, detectFamily, notTcpEvent, stripFraming, WORDING_SYNONYMS } from './shapes.js';
import type { Condition } from './shapes.js';
import type { Catalog, CatalogEntry, CauseMatch, Match, WhyAnswer, WireCause } from './types.js';

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
// Matching

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
  for (const e of errnoNames(t)) codes.add(e.name); // names and numbers of every platform (errno.ts)
  // HAProxy's termination state, in its log line (` SD-- `) or a JSON log (`"termination_state":"SD"`),
  // and as a hop report's code: its first two letters (who ended the session, in which phase).
  for (const m of t.matchAll(/(?:^|\s)([CSPLRIDKUcs][RQCHDLT])[-NIDVCU][-NIPRDU](?=\s|$)|termination_state"?\s*[:=]\s*"?([CSPLRIDKUcs][RQCHDLT])\b/gm)) codes.add(`TS:${m[1] ?? m[2]}`);
  for (const c of extraCodes) { const m = /^([CSPLRIDKUcs][RQCHDLT])(?:[-NIDVCU][-NIPRDU])?$/.exec(c); if (m) codes.add(`TS:${m[1]}`); }
  for (const s of WORDING_SYNONYMS) if (s.pattern.test(t)) codes.add(s.code);
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
 * PLATFORM_SYNONYMS) are tried too, at 90 % of their score.
 */
export function matchError(catalog: Catalog, text: string, opts: { min?: number } = {}): Match[] {
  const min = opts.min ?? MATCH_MIN_SCORE;
  const { items, weight } = index(catalog);
  const stripped = stripFraming(text);
  const queries: Array<{ text: string; factor: number; note?: string }> = [{ text: stripped, factor: 1 }];
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

/**
 * Group matches by what the wire showed in their runs, most likely first: each run of a matching
 * entry within `band` (default 0.8) of the best score votes for its wire cause with its score.
 * Each cause comes with its title, meaning and advice (advice.ts).
 */
export function rankCauses(matches: Match[], band = 0.8): CauseMatch[] {
  if (!matches.length) return [];
  const top = matches[0].score;
  const buckets = new Map<WireCause, CauseMatch>();
  for (const m of matches) {
    if (m.score < top * band) continue;
    for (const o of m.entry.occurrences) {
      let b = buckets.get(o.wire.cause);
      if (!b) { b = { cause: o.wire.cause, ...wireCauseInfo(o.wire.cause), score: 0, share: 0, hits: [], scenarios: [], advice: ADVICE[o.wire.cause] }; buckets.set(o.wire.cause, b); }
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

// ---------------------------------------------------------------------------------------------
// The whole answer

/** The entry's own words, outermost first, as conditionOf reads them. */
export function entryText(e: CatalogEntry): string {
  return [`${e.error}: ${stripFraming(e.message)}`, ...e.causes.map((c) => `${c.error}: ${c.message}`), e.code ?? ''].join('\n');
}

/** The condition of each entry (its own wording and errno), computed once per catalog. */
const entryConditions = new WeakMap<Catalog, Map<CatalogEntry, Condition | null>>();
export function entryCondition(catalog: Catalog, e: CatalogEntry): Condition | null {
  let m = entryConditions.get(catalog);
  if (!m) { m = new Map(); entryConditions.set(catalog, m); }
  if (!m.has(e)) m.set(e, conditionOf(entryText(e))?.condition ?? null);
  return m.get(e) ?? null;
}

/** Score of a catalog observation that shares only the condition (no message in common). */
export const CONDITION_SCORE = 0.55;

/**
 * The answer of `rstlab why` for one pasted text: its family and condition; when it is no TCP event,
 * that and nothing else; otherwise the catalog's matches — message matches whose condition agrees
 * with the text's, plus every observation of that condition (the first of CONDITION_FALLBACKS that
 * the catalog has), the pasted software's own first — and the causes they rank.
 */
export function answerWhy(catalog: Catalog, text: string): WhyAnswer {
  const stripped = stripFraming(text);
  const family = detectFamily(text);
  const notTcp = notTcpEvent(text);
  const hit = conditionOf(stripped) ?? conditionOf(text);
  const synonyms = WORDING_SYNONYMS.filter((s) => s.pattern.test(text)).map((s) => `${s.note} (${s.source})`);
  const condition = hit ? { condition: hit.condition, title: CONDITION_TITLES[hit.condition], because: hit.because } : null;
  const base = { query: text, stripped, family, condition, notTcp, synonyms };
  if (notTcp) return { ...base, matches: [], causes: [], matchFamily: null, sameFamily: false };

  const own = (e: CatalogEntry) => family !== null && canonicalFamily(e.family) === family.family;
  const best = new Map<CatalogEntry, Match>();
  // An entry matched both by its message and by the condition keeps the better score and both reasons.
  const offer = (m: Match) => {
    const p = best.get(m.entry);
    best.set(m.entry, p ? { entry: m.entry, score: Math.max(p.score, m.score), reasons: [...new Set([...p.reasons, ...m.reasons])] } : m);
  };
  const allowed = hit ? CONDITION_FALLBACKS[hit.condition] : null;
  for (const m of matchError(catalog, text)) {
    const c = entryCondition(catalog, m.entry);
    if (allowed && (!c || !allowed.includes(c))) continue; // the text says otherwise
    offer({ ...m, score: Math.min(1, Math.round((m.score + (own(m.entry) ? 0.05 : 0)) * 1000) / 1000) });
  }
  if (hit && allowed) {
    const group = allowed.find((c) => catalog.entries.some((e) => entryCondition(catalog, e) === c));
    if (group) {
      const factor = 0.9 ** allowed.indexOf(group);
      for (const e of catalog.entries) {
        if (entryCondition(catalog, e) !== group) continue;
        const score = Math.round((CONDITION_SCORE * factor + (own(e) ? 0.1 : 0)) * 1000) / 1000;
        const reasons = [`condition: ${CONDITION_TITLES[group]}${group === hit.condition ? '' : ` (nearest to ${CONDITION_TITLES[hit.condition]})`}, from the text's ${hit.because}`];
        if (!own(e) && synonyms.length) reasons.push(`synonym: ${synonyms[0]}`);
        offer({ entry: e, score, reasons });
      }
    }
  }
  const matches = [...best.values()].sort((a, b) => b.score - a.score || Number(own(b.entry)) - Number(own(a.entry)) || (a.entry.id < b.entry.id ? -1 : 1));
  const causes = rankCauses(matches);
  const matchFamily = matches[0]?.entry.family ?? null;
  return { ...base, matches, causes, matchFamily, sameFamily: matchFamily !== null && family !== null && canonicalFamily(matchFamily) === family.family };
}
