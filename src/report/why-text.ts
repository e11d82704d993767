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
  entry: { id: string; client: string; error: string; code?: string; message: string; pattern: string };
  score: number;
  /** What matched; a reason starting with `synonym: ` marks a platform variant and says which. */
  reasons: string[];
}

/** One lab run of a matching error: the error's client and first outcome, and the run itself. */
export interface WhyHit {
  entry: { client: string; outcome: OutcomeRecord };
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

const pct = (x: number) => `${Math.round(x * 100)}%`;

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

function entryLine(m: WhyMatch): string {
  const e = m.entry;
  return `${e.client.padEnd(11)} ${e.error}${e.code && e.error !== 'curl' ? ` [${e.code}]` : e.code ? ` (${e.code})` : ''}: ${e.pattern}`;
}

/**
 * The text answer: the matching errors, then each cause with where it was seen, the wire, the
 * advice and (unless `ladders: false`) the best run's ladder. Prose is wrapped at `width` columns
 * (default 100); a ladder is drawn `width` wide and indented by 3.
 */
export function renderWhyText(text: string, matches: WhyMatch[], causes: WhyCause[], p: Painter = plain, opts: { ladders?: boolean; width?: number } = {}): string {
  const width = opts.width ?? 100;
  const out: string[] = [];
  out.push(`${p.bold('rstlab why')} ${JSON.stringify(text.length > 200 ? `${text.slice(0, 199)}…` : text)}`);
  out.push('');
  out.push(p.bold('Matching errors in the lab catalog'));
  for (const m of matches.slice(0, 8)) out.push(`  ${pct(m.score).padStart(4)}  ${entryLine(m)}${m.reasons.some((r) => r.startsWith('synonym')) ? p.dim('  (platform variant)') : ''}`);
  if (matches.length > 8) out.push(p.dim(`        … ${matches.length - 8} more`));
  const synonym = matches.flatMap((m) => m.reasons).find((r) => r.startsWith('synonym: '));
  if (synonym) out.push(p.dim(`  note: ${synonym.slice('synonym: '.length)}`));
  causes.forEach((c, i) => {
    const advice = c.advice;
    out.push('');
    out.push(`${p.bold(`${i + 1}. ${c.cause}`)} — ${c.title}  ${p.dim(`(${pct(c.share)} of the matching lab runs)`)}`);
    out.push(wrap(`   ${c.meaning}`, width, '   '));
    const byScenario = new Map<string, Set<string>>();
    for (const h of c.hits) {
      const set = byScenario.get(h.occurrence.scenario) ?? new Set<string>();
      set.add(h.entry.client);
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

/** The JSON answer (`rstlab why --json`): the matches and the causes with their runs and advice. */
export function whyRecord(text: string, matches: WhyMatch[], causes: WhyCause[]): Record<string, unknown> {
  return {
    query: text,
    matches: matches.map((m) => ({ id: m.entry.id, client: m.entry.client, error: m.entry.error, code: m.entry.code, message: m.entry.message, score: m.score, reasons: m.reasons })),
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
