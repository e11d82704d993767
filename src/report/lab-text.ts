// Terminal rendering of lab results: the live progress line per run, the scenario × client error
// matrix and the claim verdicts. Pure: results in, strings out.

import { kernelTable, NO_KERNEL_EVENT } from './kernel-table.js';
import type { ClaimVerdict, HopReport, LabResults, OutcomeRecord, RunRecord } from './results.js';
import type { Painter } from './text.js';
import { plain } from './text.js';

/** A short label of what the application saw, for a matrix cell: the part that tells cases apart
 *  (an errno code, fetch's underlying code, curl's exit code, a browser's net::ERR_… / NS_ERROR_…,
 *  a Java/Python class name). */
export function shortOutcome(o: OutcomeRecord | null, max = 30): string {
  if (!o) return '—';
  if (o.kind === 'ok') return o.status ? `ok ${o.status}` : `ok (${o.bytes ?? 0} B)`;
  if (o.kind === 'timeout-internal') return 'hangs (no outcome)';
  const errno = (code?: string) => (code && /^E[A-Z]+$/.test(code) ? code : undefined);
  const simple = (o.error ?? '').replace(/^.*\./, '');
  let s: string;
  if (errno(o.code)) s = o.code!;
  else if ((o.error === 'chromium' || o.error === 'firefox') && o.code) s = o.code;
  else if (o.error === 'curl') s = `curl ${o.code ?? ''}: ${(o.message ?? '').replace(/^curl: \(\d+\)\s*/, '')}`;
  else if (o.error === 'psql' || o.error === 'redis-cli' || o.error === 'mariadb') {
    // A database CLI's own text: MariaDB's `ERROR 2013 (HY000) …` line, else the first line.
    const lines = (o.message ?? '').split('\n');
    s = (lines.find((l) => /^ERROR \d+ /.test(l)) ?? lines[0] ?? '').replace(/^psql: error: /, '').replace(/ at line \d+:/, ':');
  }
  else if (o.error === 'TypeError' && o.causes.length) {
    const c = o.causes[0]!;
    s = `${errno(c.code) ?? c.code ?? c.error} (${o.message ?? 'TypeError'})`;
  } else if (o.code && !/^\d+$/.test(o.code) && (simple === 'Error' || (o.error ?? '').startsWith('*'))) s = o.code; // Go: `*url.Error`, `*errors.errorString` with io.EOF
  else s = `${simple || o.kind}${o.message ? `: ${o.message}` : ''}`;
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export function renderRunLine(r: RunRecord, index: number, total: number, p: Painter = plain): string {
  const mark = r.status === 'ok' ? p.green('✓') : r.status === 'skipped' ? p.dim('–') : r.status === 'mismatch' ? p.yellow('≠') : p.red('✗');
  const what = r.status === 'skipped' ? p.dim(`skipped: ${r.reason ?? ''}`)
    : r.status === 'failed' ? p.red(`failed: ${r.reason ?? ''}`)
      : `${shortOutcome(r.outcome, 60)}${r.rsts.length ? p.dim(`  RST ${r.rsts.map((x) => `${x.role}:${x.cause}@${x.frame}`).slice(0, 3).join(' ')}`) : ''}`;
  const problems = r.status === 'mismatch' ? `\n      ${p.yellow(r.problems.join('; '))}` : '';
  const hops = (r.hops ?? []).map((h) => `\n      ${p.dim(hopLine(h))}`).join('');
  return `${mark} [${String(index + 1).padStart(String(total).length)}/${total}] ${r.scenario} × ${r.client}  ${what}${problems}${hops}`;
}

/** One line for what a hop wrote: its software, its code, and its first error line (nginx's
 *  `[error]`…), else its first line (cut at `max`). */
export function hopLine(h: HopReport, max = 200): string {
  const first = h.lines.find((l) => / \[(error|crit|alert|emerg|warn)\] /.test(l)) ?? h.lines[0] ?? '(wrote nothing for this run)';
  const more = h.lines.length > 1 ? ` (+${h.lines.length - 1} more)` : '';
  const s = `${h.software.family} ${h.software.version}${h.code ? ` ${h.code}` : ''}: ${first}`;
  return `${s.length > max ? `${s.slice(0, max - 1)}…` : s}${more}`;
}

function pad(s: string, n: number): string {
  const len = [...s].length;
  return len >= n ? s : s + ' '.repeat(n - len);
}

/** Scenario rows × client columns; each cell the client's error (or ok), `·` where not run. */
/**
 * The scenario × client matrix, in blocks of as many client columns as fit in `width` characters
 * (clients in results.json's order, which keeps a family together); each block lists only the
 * scenarios that ran with one of its clients.
 */
export function renderMatrix(res: LabResults, p: Painter = plain, cellWidth = 20, width = 132): string {
  const clients = res.clients.filter((c) => res.runs.some((r) => r.client === c));
  const scenarios = res.scenarios.filter((s) => res.runs.some((r) => r.scenario === s.id));
  const first = Math.max(8, ...scenarios.map((s) => s.id.length)) + 2;
  const perBlock = Math.max(1, Math.floor((width - first) / cellWidth));
  const blocks: string[] = [];
  for (let k = 0; k < clients.length; k += perBlock) {
    const cols = clients.slice(k, k + perBlock);
    const lines = [p.bold(pad('scenario', first) + cols.map((c) => pad(c, cellWidth)).join(''))];
    for (const s of scenarios.filter((x) => res.runs.some((r) => r.scenario === x.id && cols.includes(r.client)))) {
      let line = pad(s.id, first);
      for (const c of cols) {
        const r = res.runs.find((x) => x.scenario === s.id && x.client === c);
        let cell: string;
        if (!r) cell = p.dim(pad('·', cellWidth));
        else if (r.status === 'skipped') cell = p.dim(pad('skipped', cellWidth));
        else if (r.status === 'failed') cell = p.red(pad('lab failed', cellWidth));
        else {
          const t = pad(shortOutcome(r.outcome, cellWidth - 2), cellWidth);
          cell = r.status === 'mismatch' ? p.yellow(t) : r.outcome?.kind === 'ok' ? p.green(t) : t;
        }
        line += cell;
      }
      lines.push(line.trimEnd());
    }
    blocks.push(lines.join('\n'));
  }
  return blocks.join('\n\n');
}

export function renderClaims(claims: ClaimVerdict[], p: Painter = plain): string {
  return claims.map((c) => {
    const v = c.verdict === 'reproduced' ? p.green(c.verdict) : c.verdict === 'differs' ? p.yellow(c.verdict) : p.dim(c.verdict);
    return `${p.bold(pad(c.id, 6))} ${pad(v, 10)} ${c.summary}`;
  }).join('\n');
}

export function renderLabSummary(res: LabResults, p: Painter = plain): string {
  const count = (s: RunRecord['status']) => res.runs.filter((r) => r.status === s).length;
  const verdicts = (v: ClaimVerdict['verdict']) => res.claims.filter((c) => c.verdict === v).length;
  return [
    `${p.bold('rstlab lab')} — ${res.host.mode === 'netns' ? 'network namespaces' : 'loopback'} (${res.host.modeReason}), kernel ${res.host.kernel}, node ${res.host.node}`,
    '',
    p.bold('What each client reported'),
    renderMatrix(res, p),
    '',
    p.bold('Seed claims'),
    renderClaims(res.claims, p),
    '',
    ...res.questions.map((q) => `${p.bold(q.id)} ${q.question}\n   ${q.answer}`),
    '',
    ...renderKernelText(res, p),
    `${res.runs.length} runs: ${count('ok')} as constructed, ${count('mismatch')} mismatched, ${count('failed')} failed, ${count('skipped')} skipped · `
      + `claims: ${verdicts('reproduced')} reproduced, ${verdicts('differs')} differ, ${verdicts('unavailable')} unavailable · ${(res.durationMs / 1000).toFixed(1)} s`,
  ].join('\n');
}

/** The explainer against the kernel's own reasons (kernel-table.ts), or why there are none. */
function renderKernelText(res: LabResults, p: Painter): string[] {
  const t = kernelTable(res);
  const kt = res.host.kernelTrace;
  if (!t) return kt && !kt.available ? [p.dim(`kernel reasons: none (${kt.why})`), ''] : [];
  const lines = [p.bold('The explainer against the kernel (tcp:tcp_send_reset)')];
  const w = Math.max(5, ...t.rows.map((r) => r.cause.length));
  for (const r of t.rows) {
    const mark = r.reason === NO_KERNEL_EVENT ? p.dim('·') : r.agree === r.count ? p.green('✓') : p.red('✗');
    lines.push(`  ${mark} ${r.cause.padEnd(w)}  ${r.reason.padEnd(26)} ${String(r.count).padStart(4)}`);
  }
  const pct = t.kernelSent ? ((100 * t.agree) / t.kernelSent).toFixed(1) : '–';
  lines.push(`  ${t.kernelSent} RSTs sent by the kernel: the explainer allows its reason for ${t.agree} (${pct}%), names it exactly for ${t.exact}`
    + `${t.notCaptured ? `; ${t.notCaptured} more not in the captures` : ''}${t.lost ? `; ${p.red(`${t.lost} kernel events lost`)}` : ''}`);
  const got = t.coverage.filter((c) => c.scenarios.length);
  lines.push(`  ${got.length} of Linux's ${t.coverage.length} reasons produced: ${got.map((c) => c.reason).join(', ')}`);
  for (const c of t.coverage.filter((x) => !x.scenarios.length)) {
    lines.push(p.dim(`    not produced: ${c.reason} — ${c.why ?? 'by none of the scenarios that ran'}`));
  }
  lines.push('');
  return lines;
}
