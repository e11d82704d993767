// The answer of `rstlab why` as terminal text and as its JSON record. Contract: pure — matches and
// ranked causes in, string or plain object out; nothing here reads files, the clock or the
// terminal. The input types are this module's own and name only what it shows; the error
// catalog's matches (src/catalog/types.ts, a layer above) fit them as they are.

import { ladderFromRun, renderLadderText } from './ladder.js';
import type { LadderSegment, OutcomeRecord, TimelineEntry } from './results.js';
import type { Painter } from './text.js';
import { plain } from './text.js';

/** An error of the catalog that matched the text, with its score 0..1 and what matched. */
export interface WhyMatch {
  /** `family`: the software that printed it (`node`, `okhttp`, `nginx`…), `hop`: set when a proxy's or server's own report. */
  entry: { id: string; client: string; family?: string; version?: string | null; hop?: string; error: string; code?: string; message: string; pattern: string };
  score: number;
  /** What matched; a reason starting with `synonym: ` marks a platform variant and says which. */
  reasons: string[];
}

/** One lab run of a matching error: the error's client and first outcome, and the run itself. */
export interface WhyHit {
  entry: { client: string; family?: string; hop?: string; outcome: OutcomeRecord };
  occurrence: { run: string; scenario: string; capture: string | null; wire: { summary: string }; ladder: LadderSegment[]; timeline: TimelineEntry[] };
  score: number;
}

/** A wire cause of the matching runs, most likely first, with its meaning and advice. */
export interface WhyCause {
  cause: string;
  title: string;
  meaning: string;
  /** Its part of the matching runs' scores, 0..1, and their sum. */
  share: number;
  score: number;
  scenarios: string[];
  /** The runs that voted for it, best first. */
  hits: WhyHit[];
  /** `retry` is `safe`, `idempotent-only`, `no` or `not-needed`. */
  advice: { retry: string; retryWhy: string; change: string[] };
}

/** What the answer knows of the pasted text itself (the catalog's WhyAnswer fits it as it is). */
export interface WhyContext {
  family: { family: string; shape: string } | null;
  condition: { condition: string; title: string; because: string } | null;
  notTcp: { what: string; instead: string } | null;
  synonyms: string[];
  matchFamily: string | null;
  sameFamily: boolean;
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** Family names as a person writes them. */
const FAMILY_NAMES: Record<string, string> = {
  node: 'Node', okhttp: 'OkHttp', python: 'Python (http.client)', curl: 'curl', 'go-net-http': 'Go (net/http)', nginx: 'nginx', haproxy: 'HAProxy',
  envoy: 'Envoy', chromium: 'Chromium', firefox: 'Firefox', 'python-requests': 'Python requests', 'python-httpx': 'Python httpx', aiohttp: 'aiohttp',
  java: 'Java (JDK)', dotnet: '.NET', undici: 'Node (undici)', postgresql: 'PostgreSQL', psql: 'libpq (psql)', redis: 'Redis', mysql: 'MySQL', grpc: 'gRPC', mitmproxy: 'mitmproxy',
};
export const familyName = (f: string) => FAMILY_NAMES[f] ?? f;

/** The lines about the pasted text and where the match came from (text answer). */
function contextLines(ctx: WhyContext, matches: WhyMatch[], width: number, p: Painter): string[] {
  const out: string[] = [];
  const fam = ctx.family ? `${familyName(ctx.family.family)} (${ctx.family.shape})` : 'software not recognised';
  const cond = ctx.condition ? ` — ${ctx.condition.title}, from its ${ctx.condition.because}` : '';
  out.push(wrap(`${p.bold('Pasted text')}: ${fam}${cond}`, width, '  '));
  if (!matches.length) return out;
  const top = matches[0];
  const from = ctx.matchFamily ? familyName(ctx.matchFamily) : '?';
  if (ctx.family && !ctx.sameFamily) {
    const what = `${top.entry.error}${top.entry.code && top.entry.error !== 'curl' ? ` [${top.entry.code}]` : ''}: ${top.entry.pattern}`;
    const via = ctx.condition ? ` (same condition: ${ctx.condition.title})` : '';
    out.push(wrap(`${p.bold('Matched')}: ${from} — no lab run of ${familyName(ctx.family.family)} matches yet; the closest observation is ${from}'s ${JSON.stringify(what)}${via}`, width, '  '));
  } else {
    out.push(wrap(`${p.bold('Matched')}: ${from}${ctx.sameFamily ? ' (the same software)' : ''}`, width, '  '));
  }
  for (const s of ctx.synonyms) out.push(p.dim(wrap(`  synonym (documented, not observed): ${s}`, width, '    ')));
  return out;
}

/** The answer when the text is no TCP event: what it is instead and where to look. */
export function renderWhyNotTcp(text: string, ctx: WhyContext, p: Painter = plain, width = 100): string {
  const out = [`${p.bold('rstlab why')} ${JSON.stringify(text.length > 200 ? `${text.slice(0, 199)}…` : text)}`, ''];
  out.push(...contextLines(ctx, [], width, p));
  out.push('');
  out.push(p.bold('Not a TCP event.'));
  if (ctx.notTcp) {
    out.push(wrap(`  What it is: ${ctx.notTcp.what}.`, width, '    '));
    out.push(wrap(`  Look at instead: ${ctx.notTcp.instead}.`, width, '    '));
  }
  out.push(p.dim('  No lab run applies: the catalog holds what TCP connections did.'));
  return out.join('\n');
}

/** Word-wrap `text` to `width` columns; continuation lines get `indent`. */
export function wrap(text: string, width: number, indent: string): string {
  const lead = /^\s*/.exec(text)![0]; // the first line keeps its own indentation
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && [...line].length + 1 + [...w].length > width) { lines.push(line); line = indent + w; }
    else line = line ? `${line} ${w}` : lead + w;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

/** Who reported an entry: the lab's client, or a hop's software and role. */
function whoOf(m: WhyMatch): string {
  const e = m.entry;
  return e.hop ? `${e.family ?? e.error} (${e.hop})` : e.client;
}

/** One matching entry; `whoWidth`: the column its reporter is padded to. A message that is only
 *  its code (a browser's `net::ERR_…`) is not written twice. */
function entryLine(m: WhyMatch, whoWidth: number): string {
  const e = m.entry;
  const code = e.code && e.error !== 'curl' ? ` [${e.code}]` : e.code ? ` (${e.code})` : '';
  return `${whoOf(m).padEnd(whoWidth)} ${e.error}${code}${e.code && e.pattern === e.code ? '' : `: ${e.pattern}`}`;
}

/**
 * The text answer: the matching errors, then each cause with where it was seen, the wire, the
 * advice and (unless `ladders: false`) the best run's ladder. Prose is wrapped at `width` columns
 * (default 100); a ladder is drawn `width` wide and indented by 3.
 */
export function renderWhyText(text: string, matches: WhyMatch[], causes: WhyCause[], p: Painter = plain, opts: { ladders?: boolean; width?: number; context?: WhyContext } = {}): string {
  const width = opts.width ?? 100;
  const out: string[] = [];
  out.push(`${p.bold('rstlab why')} ${JSON.stringify(text.length > 200 ? `${text.slice(0, 199)}…` : text)}`);
  out.push('');
  if (opts.context) { out.push(...contextLines(opts.context, matches, width, p)); out.push(''); }
  out.push(p.bold('Matching errors in the lab catalog'));
  const shown = matches.slice(0, 8);
  const whoWidth = Math.max(11, ...shown.map((m) => whoOf(m).length));
  for (const m of shown) out.push(`  ${pct(m.score).padStart(4)}  ${entryLine(m, whoWidth)}${m.reasons.some((r) => r.startsWith('synonym')) ? p.dim('  (platform variant)') : ''}`);
  if (matches.length > 8) out.push(p.dim(`        … ${matches.length - 8} more`));
  const synonym = matches.flatMap((m) => m.reasons).find((r) => r.startsWith('synonym: '));
  if (synonym && !opts.context) out.push(p.dim(`  note: ${synonym.slice('synonym: '.length)}`));
  causes.forEach((c, i) => {
    const advice = c.advice;
    out.push('');
    out.push(`${p.bold(`${i + 1}. ${c.cause}`)} — ${c.title}  ${p.dim(`(${pct(c.share)} of the matching lab runs)`)}`);
    out.push(wrap(`   ${c.meaning}`, width, '   '));
    const byScenario = new Map<string, Set<string>>();
    for (const h of c.hits) {
      const set = byScenario.get(h.occurrence.scenario) ?? new Set<string>();
      set.add(h.entry.hop ? `${h.entry.family ?? 'hop'} at the ${h.entry.hop}` : h.entry.client);
      byScenario.set(h.occurrence.scenario, set);
    }
    out.push(wrap(`   ${p.bold('Seen in')}: ${[...byScenario].map(([s, clients]) => `${s} (${[...clients].join(', ')})`).join('; ')}`, width, '     '));
    const best = c.hits[0];
    out.push(wrap(`   ${p.bold('On the wire')}: ${best.occurrence.wire.summary}`, width, '     '));
    const retryColour = advice.retry === 'safe' || advice.retry === 'not-needed' ? p.green : advice.retry === 'no' ? p.red : p.yellow;
    out.push(wrap(`   ${p.bold('Retry')}: ${retryColour(advice.retry)} — ${advice.retryWhy}`, width, '     '));
    out.push(`   ${p.bold('What to change')}:`);
    for (const a of advice.change) out.push(wrap(`     - ${a}`, width, '       '));
    if (opts.ladders !== false && best.occurrence.ladder.length) {
      const model = ladderFromRun({
        id: best.occurrence.run, scenario: best.occurrence.scenario, client: best.entry.client,
        ladder: best.occurrence.ladder, timeline: best.occurrence.timeline, outcome: best.entry.outcome,
      });
      out.push('');
      out.push(renderLadderText(model, width, p).split('\n').map((l) => `   ${l}`.trimEnd()).join('\n'));
    }
  });
  return out.join('\n');
}

/** The JSON answer (`rstlab why --json`): what the pasted text is, the matches and the causes with their runs and advice. */
export function whyRecord(text: string, matches: WhyMatch[], causes: WhyCause[], ctx?: WhyContext): Record<string, unknown> {
  return {
    query: text,
    ...(ctx ? { family: ctx.family, condition: ctx.condition, notTcp: ctx.notTcp, synonyms: ctx.synonyms, matchFamily: ctx.matchFamily, sameFamily: ctx.sameFamily } : {}),
    matches: matches.map((m) => ({ id: m.entry.id, client: m.entry.client, family: m.entry.family, version: m.entry.version, hop: m.entry.hop, error: m.entry.error, code: m.entry.code, message: m.entry.message, score: m.score, reasons: m.reasons })),
    causes: causes.map((c) => ({
      cause: c.cause, title: c.title, meaning: c.meaning, share: c.share, score: c.score, scenarios: c.scenarios,
      runs: c.hits.map((h) => ({ run: h.occurrence.run, scenario: h.occurrence.scenario, client: h.entry.client, capture: h.occurrence.capture, wire: h.occurrence.wire.summary, score: h.score })),
      advice: c.advice,
    })),
  };
}

/** What to try when nothing matched: the `near` matches (closest first), or how to word the text. */
export function whySuggestion(near: WhyMatch[]): string {
  return near.length
    ? `closest: ${near.map((m) => `"${m.entry.error}: ${m.entry.pattern}" (${m.entry.client})`).join(', ')}`
    : 'give the exception class (java.net.SocketException), the errno name (ECONNRESET) or the message without your own host names';
}

/** The text answer when nothing matched: how big the catalog is, and the suggestion. */
export function renderWhyNothing(text: string, catalog: { entries: readonly unknown[]; sources: ReadonlyArray<{ runs: number }> }, suggestion: string): string {
  return `rstlab why: nothing in the catalog (${catalog.entries.length} errors from ${catalog.sources.reduce((s, x) => s + x.runs, 0)} lab runs) matches ${JSON.stringify(text)}\n`
    + `  ${suggestion}\n`;
}
