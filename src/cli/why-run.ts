// `rstlab why`, the work behind the command (registered in why-command.ts, loaded when it runs):
// loading the catalog, matching, and printing the text or JSON answer.

import pc from 'picocolors';
import { ADVICE, wireCauseInfo } from '../catalog/advice.js';
import { defaultCatalogPath, loadCatalog } from '../catalog/load.js';
import { matchError, rankCauses } from '../catalog/match.js';
import type { CauseMatch, Match } from '../catalog/types.js';
import { ladderFromRun, renderLadderText } from '../report/ladder.js';
import type { Painter } from '../report/text.js';
import { plain } from '../report/text.js';
import { writeOut } from './output.js';

export interface WhyOptions { json?: boolean; catalog?: string; color?: boolean; ladders?: boolean }

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

function entryLine(m: Match): string {
  const e = m.entry;
  return `${e.client.padEnd(11)} ${e.error}${e.code && e.error !== 'curl' ? ` [${e.code}]` : e.code ? ` (${e.code})` : ''}: ${e.pattern}`;
}

/** The text answer (pure: catalog matches in, string out). */
export function renderWhyText(text: string, matches: Match[], causes: CauseMatch[], p: Painter = plain, opts: { ladders?: boolean; width?: number } = {}): string {
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
    const info = wireCauseInfo(c.cause);
    const advice = ADVICE[c.cause];
    out.push('');
    out.push(`${p.bold(`${i + 1}. ${c.cause}`)} — ${info.title}  ${p.dim(`(${pct(c.share)} of the matching lab runs)`)}`);
    out.push(wrap(`   ${info.meaning}`, width, '   '));
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

export function whyRecord(text: string, matches: Match[], causes: CauseMatch[]): Record<string, unknown> {
  return {
    query: text,
    matches: matches.map((m) => ({ id: m.entry.id, client: m.entry.client, error: m.entry.error, code: m.entry.code, message: m.entry.message, score: m.score, reasons: m.reasons })),
    causes: causes.map((c) => ({
      cause: c.cause, ...wireCauseInfo(c.cause), share: c.share, score: c.score, scenarios: c.scenarios,
      runs: c.hits.map((h) => ({ run: h.occurrence.run, scenario: h.occurrence.scenario, client: h.entry.client, capture: h.occurrence.capture, wire: h.occurrence.wire.summary, score: h.score })),
      advice: ADVICE[c.cause],
    })),
  };
}

export function runWhy(text: string, opts: WhyOptions): number {
  const catalog = loadCatalog(opts.catalog ?? defaultCatalogPath());
  const painter: Painter = opts.color !== false && pc.isColorSupported ? pc : plain;
  const matches = matchError(catalog, text);
  const causes = rankCauses(matches);
  if (!matches.length) {
    const near = matchError(catalog, text, { min: 0.15 }).slice(0, 3);
    const suggestion = near.length
      ? `closest: ${near.map((m) => `"${m.entry.error}: ${m.entry.pattern}" (${m.entry.client})`).join(', ')}`
      : 'give the exception class (java.net.SocketException), the errno name (ECONNRESET) or the message without your own host names';
    if (opts.json) writeOut(JSON.stringify({ ...whyRecord(text, matches, causes), suggestion }) + '\n');
    else {
      writeOut(`rstlab why: nothing in the catalog (${catalog.entries.length} errors from ${catalog.sources.reduce((s, x) => s + x.runs, 0)} lab runs) matches ${JSON.stringify(text)}\n`);
      writeOut(`  ${suggestion}\n`);
    }
    return 1;
  }
  if (opts.json) writeOut(JSON.stringify(whyRecord(text, matches, causes)) + '\n');
  else {
    const width = Math.max(60, Math.min(100, process.stdout.columns || 100));
    writeOut(renderWhyText(text, matches, causes, painter, { ladders: opts.ladders !== false, width: width - 3 }) + '\n');
  }
  return 0;
}
