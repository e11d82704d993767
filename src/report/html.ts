// HTML reports: `report.html` of a lab run (renderLabHtml) and of one capture (renderExplainHtml).
// Contract: pure, results in, one self-contained HTML document out — inline CSS and inline SVG
// ladders, no external script, style sheet, font or image, and a Content-Security-Policy that
// forbids fetching anything (default-src 'none'), so opening the file makes no network request.
// Links to captures are relative (`captures/<run id>.pcap`, as results.json records them). The
// one inline script opens every <details> before printing; print CSS keeps ladders whole.

import { CAUSES } from '../explain/index.js';
import type { Cause, ConnectionReport, ExplainResult, RstPattern, RstVerdict } from '../explain/index.js';
import { ladderFromConnection, ladderFromRun } from './ladder.js';
import { shortOutcome } from './lab-text.js';
import type { ClaimEvidence, ClaimVerdict, LabResults, OutcomeRecord, RunRecord, Verdict } from './results.js';
import { escapeXml, renderLadderSvg } from './svg.js';
import { describePattern, describeRateLimit, linuxReasonText } from './text.js';
import { kernelTable, NO_KERNEL_EVENT } from './kernel-table.js';

const esc = escapeXml;

/** An id fragment safe in `id` and `href="#…"`. */
export const anchor = (kind: string, id: string) => `${kind}-${id.replace(/[^A-Za-z0-9_.-]/g, '-')}`;

/** The application's error as the library printed it, with its cause chain, one entry a line. */
export function outcomeText(o: OutcomeRecord | null): string {
  if (!o) return 'no result';
  if (o.kind === 'timeout-internal') return 'no answer before the driver\'s own timeout';
  const lines: string[] = [];
  if (o.kind === 'ok') lines.push(`ok${o.status ? ` ${o.status}` : ''}${o.bytes !== undefined ? `, ${o.bytes} bytes` : ''}`);
  else lines.push(`${o.error ?? 'error'}${o.code && o.error !== 'curl' ? ` [${o.code}]` : ''}${o.error === 'curl' && o.code ? ` (${o.code})` : ''}: ${o.message ?? ''}`);
  for (const c of o.causes) lines.push(`  ${c.relation && c.relation !== 'cause' ? c.relation : 'caused by'} ${c.error}${c.code ? ` [${c.code}]` : ''}: ${c.message}`);
  if (o.notes?.length) lines.push(`  notes: ${o.notes.join(', ')}`);
  return lines.join('\n');
}

const CSS = `
:root { --ink:#1d2330; --muted:#5d6675; --line:#d8dde5; --bg:#fff; --soft:#f5f7fa; --ok:#1b7f3b; --okbg:#e6f4ea;
  --warn:#8a5a00; --warnbg:#fff4d6; --bad:#b3261e; --badbg:#fdecea; --info:#1f5f8b; --infobg:#e8f1fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink);
  background: var(--bg); margin: 0 auto; padding: 24px 28px 64px; max-width: 1200px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 36px 0 10px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 17px; margin: 28px 0 6px; } h4 { font-size: 14px; margin: 14px 0 4px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; white-space: pre-wrap; word-break: break-word; margin: 6px 0; }
pre.error { border-left: 4px solid var(--bad); }
a { color: var(--info); }
.meta { color: var(--muted); margin: 0 0 12px; }
nav { margin: 8px 0 18px; display: flex; flex-wrap: wrap; gap: 6px 14px; font-size: 14px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
.badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 12px; font-weight: 600; white-space: nowrap; border: 1px solid transparent; }
.v-reproduced, .s-ok { background: var(--okbg); color: var(--ok); }
.v-differs, .s-mismatch { background: var(--warnbg); color: var(--warn); }
.v-unavailable, .s-skipped { background: var(--soft); color: var(--muted); border-color: var(--line); }
.s-failed { background: var(--badbg); color: var(--bad); }
.cause { background: var(--badbg); color: var(--bad); }
.counts { display: flex; gap: 10px; margin: 6px 0 10px; flex-wrap: wrap; }
.counts .badge { font-size: 14px; padding: 3px 10px; }
.matrix-wrap { overflow-x: auto; }
table.matrix td, table.matrix th { white-space: nowrap; }
table.matrix td.cell { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
table.matrix td.cell a { color: inherit; text-decoration: none; display: block; }
td.c-error { background: #fff; } td.c-ok { background: var(--okbg); color: var(--ok); }
td.c-mismatch { background: var(--warnbg); color: var(--warn); } td.c-skipped, td.c-none { background: var(--soft); color: var(--muted); }
td.c-failed { background: var(--badbg); color: var(--bad); }
.legend { font-size: 13px; color: var(--muted); }
section.scenario { border-top: 1px solid var(--line); }
details.run { border: 1px solid var(--line); border-radius: 8px; margin: 8px 0; background: #fff; }
details.run > summary { cursor: pointer; padding: 8px 12px; list-style-position: outside; margin-left: 14px; }
details.run > summary .client { font-weight: 600; min-width: 8em; display: inline-block; }
details.run > summary code { margin-left: 6px; }
details.run[open] > summary { border-bottom: 1px solid var(--line); background: var(--soft); border-radius: 8px 8px 0 0; }
.run-body { padding: 4px 14px 12px; }
figure.ladder { margin: 8px 0; overflow-x: auto; } figure.ladder svg { max-width: 100%; height: auto; }
figure.ladder figcaption { font-size: 12px; color: var(--muted); }
ul.evidence { margin: 4px 0; padding-left: 20px; font-size: 13.5px; } ul.evidence li { margin: 1px 0; }
dl.causes dt { font-weight: 600; margin-top: 6px; } dl.causes dd { margin: 0 0 0 16px; color: var(--muted); font-size: 14px; }
.rst { border-left: 4px solid var(--bad); padding: 2px 0 2px 10px; margin: 10px 0; }
.rst.ignored { border-left-color: var(--warn); }
.small { font-size: 13px; color: var(--muted); }
@media (max-width: 800px) { body { padding: 12px; font-size: 14px; } }
@media print {
  @page { margin: 14mm 12mm; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav, .noprint { display: none; }
  h2 { break-after: avoid; } h3 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  a.capture::after { content: " (" attr(href) ")"; font-size: 9pt; }
  details.run { border: none; border-top: 1px solid #999; border-radius: 0; }
  details.run > summary { list-style: none; margin-left: 0; background: none !important; }
  details::details-content { content-visibility: visible; display: block; }
  figure.ladder, .rst, tr { break-inside: avoid; }
  .matrix-wrap { overflow: visible; }
  table.matrix { font-size: 8pt; } table.matrix td, table.matrix th { white-space: normal; overflow-wrap: break-word; }
  table.matrix td.cell { font-size: 7.5pt; }
  .badge { border: 1px solid #777; }
}
`;

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="rstlab">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
<script>addEventListener('beforeprint', function () { document.querySelectorAll('details').forEach(function (d) { d.open = true; }); });</script>
</body>
</html>
`;
}

const badge = (cls: string, text: string) => `<span class="badge ${cls}">${esc(text)}</span>`;

const STATUS_TEXT: Record<RunRecord['status'], string> = { ok: 'as constructed', mismatch: 'mismatch', skipped: 'skipped', failed: 'lab failed' };

function captureLink(path: string | null, text = 'capture'): string {
  return path ? `<a class="capture" href="${esc(path)}">${esc(text)}</a>` : '';
}

function evidenceHtml(ev: ClaimEvidence[]): string {
  if (!ev.length) return '<span class="small">—</span>';
  return ev.map((e) => `<div><a href="#${anchor('run', e.run)}">${esc(e.run)}</a>${e.frames.length ? ` <span class="small">frames ${esc(e.frames.join(', '))}</span>` : ''}`
    + `${e.capture ? ` · ${captureLink(e.capture, 'pcap')}` : ''}${e.note ? `<div class="small">${esc(e.note)}</div>` : ''}</div>`).join('');
}

function claimsSection(claims: ClaimVerdict[]): string {
  const count = (v: Verdict) => claims.filter((c) => c.verdict === v).length;
  const rows = claims.map((c) => `<tr data-claim="${esc(c.id)}" data-verdict="${c.verdict}"><td><strong>${esc(c.id)}</strong></td>`
    + `<td>${badge(`v-${c.verdict}`, c.verdict)}</td><td>${esc(c.claim)}</td><td>${esc(c.summary)}</td><td>${evidenceHtml(c.evidence)}</td></tr>`).join('\n');
  return `<section id="claims"><h2>The seed's claims, checked</h2>
<div class="counts">${badge('v-reproduced', `${count('reproduced')} reproduced`)}${badge('v-differs', `${count('differs')} differ`)}${badge('v-unavailable', `${count('unavailable')} unavailable`)}</div>
<table class="claims"><thead><tr><th>claim</th><th>verdict</th><th>the seed says</th><th>the lab saw</th><th>evidence</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="5">no claims were judged</td></tr>'}
</tbody></table></section>`;
}

function cellClass(r: RunRecord | undefined): string {
  if (!r) return 'none';
  if (r.status === 'skipped' || r.status === 'failed' || r.status === 'mismatch') return r.status;
  return r.outcome?.kind === 'ok' ? 'ok' : 'error';
}

function matrixSection(res: LabResults): string {
  const clients = [...new Set([...res.clients, ...res.runs.map((r) => r.client)])].filter((c) => res.runs.some((r) => r.client === c));
  const scenarios = res.scenarios.filter((s) => res.runs.some((r) => r.scenario === s.id));
  const head = `<tr><th>scenario</th>${clients.map((c) => `<th data-client="${esc(c)}">${esc(c)}</th>`).join('')}</tr>`;
  const rows = scenarios.map((s) => {
    const cells = clients.map((c) => {
      const r = res.runs.find((x) => x.scenario === s.id && x.client === c);
      const cls = cellClass(r);
      let text: string;
      if (!r) text = '·';
      else if (r.status === 'skipped') text = 'skipped';
      else if (r.status === 'failed') text = 'lab failed';
      else text = shortOutcome(r.outcome, 34);
      const tip = r ? (r.status === 'skipped' || r.status === 'failed' ? r.reason ?? r.status : outcomeText(r.outcome)) : 'not run';
      const inner = r ? `<a href="#${anchor('run', r.id)}">${esc(text)}</a>` : esc(text);
      return `<td class="cell c-${cls}" data-scenario="${esc(s.id)}" data-client="${esc(c)}" data-status="${r?.status ?? 'none'}" title="${esc(tip)}">${inner}</td>`;
    }).join('');
    return `<tr><th><a href="#${anchor('scenario', s.id)}">${esc(s.id)}</a></th>${cells}</tr>`;
  }).join('\n');
  return `<section id="matrix"><h2>What each client reported</h2>
<p class="legend">One row per scenario, one column per client: the error the application saw (its errno or class), <span class="badge s-ok">ok</span> when it saw none,
<span class="badge s-mismatch">mismatch</span> when the RSTs on the wire differ from what the scenario constructs, · where the client does not apply. Each cell links to its run.</p>
<div class="matrix-wrap"><table class="matrix"><thead>${head}</thead><tbody>
${rows}
</tbody></table></div></section>`;
}

function causeList(causes: Cause[]): string {
  const uniq = [...new Set(causes)];
  if (!uniq.length) return '';
  return `<dl class="causes">${uniq.map((c) => `<dt>${badge('cause', c)} ${esc(CAUSES[c].title)}</dt><dd>${esc(CAUSES[c].meaning)} <span class="mono">${esc(CAUSES[c].kernel)}</span></dd>`).join('')}</dl>`;
}

/** Where a run was captured: behind a reverse proxy (a hop with the proxy's role and traffic
 *  between proxy and server) on the proxy's link, else on the client's. */
function captureHost(r: RunRecord): string {
  return r.hops?.some((h) => h.role === 'proxy') && r.ladder.some((x) => x.from === 'server' && x.to === 'proxy') ? 'proxy' : 'client';
}

function runDetails(r: RunRecord): string {
  const chips = r.rsts.slice(0, 4).map((x) => badge('cause', `${x.role} RST: ${x.cause}`)).join(' ');
  const summary = `<summary><span class="client">${esc(r.client)}</span> ${badge(`s-${r.status}`, STATUS_TEXT[r.status])}`
    + `${r.outcome ? ` <code>${esc(shortOutcome(r.outcome, 60))}</code>` : r.reason ? ` <span class="small">${esc(r.reason)}</span>` : ''} ${chips}</summary>`;
  const body: string[] = [];
  if (r.status === 'skipped' || r.status === 'failed') {
    body.push(`<p>${esc(r.status === 'skipped' ? 'Skipped' : 'The lab could not run it')}: ${esc(r.reason ?? '')}</p>`);
  } else {
    body.push('<h4>What the client reported</h4>');
    body.push(`<pre class="${r.outcome?.kind === 'error' ? 'error' : ''}">${esc(outcomeText(r.outcome))}</pre>`);
    if (r.cannotPause) body.push('<p class="small">This client cannot hold at the pause point: it ran straight through.</p>');
    if (r.problems.length) body.push(`<p>${badge('s-mismatch', 'mismatch')} ${esc(r.problems.join('; '))}</p>`);
    for (const h of r.hops ?? []) {
      body.push(`<h4>What the ${esc(h.role)} wrote: ${esc(h.software.family)} ${esc(h.software.version)}${h.code ? ` <code data-hop-code>${esc(h.code)}</code>` : ''}</h4>`);
      body.push(`<pre class="hop" data-hop="${esc(h.software.family)}">${esc(h.lines.length ? h.lines.join('\n') : '(nothing for this run)')}</pre>`);
    }
    body.push('<h4>On the wire</h4>');
    const model = ladderFromRun(r);
    body.push(`<figure class="ladder" data-run="${esc(r.id)}">${renderLadderSvg(model)}<figcaption>Captured on the ${esc(captureHost(r))}'s host; ${esc(model.origin)}; seq/ack relative. ${r.capture ? `Capture: ${captureLink(r.capture, 'pcap')}` : 'No capture.'}</figcaption></figure>`);
    if (r.fins.length) body.push(`<p class="small">FIN from ${esc(r.fins.map((f) => `${f.role} (frame ${f.frame})`).join(', '))}</p>`);
    if (r.rsts.length) {
      body.push('<h4>Why each RST was sent</h4>');
      for (const x of r.rsts) {
        body.push(`<div class="rst${x.cause === 'out-of-window' ? ' ignored' : ''}" data-frame="${x.frame}" data-cause="${esc(x.cause)}"><strong>frame ${x.frame}</strong> · RST from the ${esc(x.role)} (${esc(x.from)} → ${esc(x.to)}) · ${badge('cause', x.cause)} <span class="small">${esc(x.confidence)} confidence</span><div>${esc(x.summary)}</div></div>`);
      }
      body.push(causeList(r.rsts.map((x) => x.cause)));
    } else if (r.capture) {
      body.push('<p class="small">No RST in the capture.</p>');
    }
  }
  return `<details class="run" id="${anchor('run', r.id)}" data-run="${esc(r.id)}" data-status="${r.status}">
${summary}
<div class="run-body">
${body.join('\n')}
</div></details>`;
}

function scenariosSection(res: LabResults): string {
  const parts = res.scenarios.filter((s) => res.runs.some((r) => r.scenario === s.id)).map((s) => {
    const runs = res.runs.filter((r) => r.scenario === s.id);
    return `<section class="scenario" id="${anchor('scenario', s.id)}" data-scenario="${esc(s.id)}">
<h3>${esc(s.title)} <code class="small">${esc(s.id)}</code></h3>
<p>${esc(s.description)}${s.claims.length ? ` <span class="small">Claims: ${s.claims.map(esc).join(', ')}</span>` : ''}</p>
${runs.map(runDetails).join('\n')}
</section>`;
  });
  return `<section id="scenarios"><h2>Scenarios</h2>
<p class="legend">Each run: what the client reported, the ladder of the packets captured on the client's host (lab actions and client events on the lines where they happened), and why each RST was sent. Open a run to see it.</p>
${parts.join('\n')}
</section>`;
}

/** The lab's report.html: claim verdicts, the scenario × client matrix, each scenario's runs. */
export function renderLabHtml(res: LabResults): string {
  const count = (s: RunRecord['status']) => res.runs.filter((r) => r.status === s).length;
  const questions = res.questions.length
    ? `<section id="questions"><h2>The seed's open questions</h2><dl>${res.questions.map((q) => `<dt><strong>${esc(q.id)}</strong> ${esc(q.question)}</dt><dd><p>${esc(q.answer)}</p>${q.evidence.length ? evidenceHtml(q.evidence) : ''}</dd>`).join('')}</dl></section>`
    : '';
  const body = `<header>
<h1>rstlab lab report</h1>
<p class="meta">${esc(res.startedAt)} · ${res.host.mode === 'netns' ? 'network namespaces' : 'loopback'} (${esc(res.host.modeReason)}) · kernel ${esc(res.host.kernel)} · node ${esc(res.host.node)}
 · ${res.runs.length} runs: ${count('ok')} as constructed, ${count('mismatch')} mismatched, ${count('failed')} failed, ${count('skipped')} skipped · ${(res.durationMs / 1000).toFixed(1)} s${res.host.capture ? '' : ' · no captures (tcpdump unavailable)'}</p>
<nav class="noprint"><a href="#claims">claims</a><a href="#matrix">matrix</a>${res.questions.length ? '<a href="#questions">questions</a>' : ''}<a href="#scenarios">scenarios:</a>${res.scenarios.filter((s) => res.runs.some((r) => r.scenario === s.id)).map((s) => `<a href="#${anchor('scenario', s.id)}">${esc(s.id)}</a>`).join('')}</nav>
</header>
${claimsSection(res.claims)}
${kernelSection(res)}
${matrixSection(res)}
${questions}
${scenariosSection(res)}`;
  return page('rstlab lab report', body);
}

/** The explainer's causes against the kernel's reasons (kernel-table.ts). */
function kernelSection(res: LabResults): string {
  const t = kernelTable(res);
  const kt = res.host.kernelTrace;
  if (!t) return kt && !kt.available ? `<section id="kernel"><h2>The explainer against the kernel</h2><p class="small">No kernel reasons: ${esc(kt.why)}</p></section>` : '';
  const rows = t.rows.map((r) => `<tr data-cause="${esc(r.cause)}" data-kernel-reason="${esc(r.reason)}" data-agree="${r.reason === NO_KERNEL_EVENT ? 'n/a' : r.agree === r.count ? 'yes' : 'no'}"><td>${badge('cause', r.cause)}</td><td class="mono">${esc(r.reason)}</td><td>${r.count}</td><td>${r.reason === NO_KERNEL_EVENT ? '–' : `${r.agree}/${r.count}`}</td></tr>`).join('');
  const pct = t.kernelSent ? ((100 * t.agree) / t.kernelSent).toFixed(1) : '–';
  return `<section id="kernel"><h2>The explainer against the kernel</h2>
<p class="small">Linux's own reason for each RST it sent (tracepoint <code>tcp:tcp_send_reset</code>), beside the explainer's cause, from packets alone. ${t.kernelSent} RSTs sent by the kernel: the explainer's Linux reasons include the kernel's for ${t.agree} (${pct}%) and name it exactly for ${t.exact}.${t.notCaptured ? ` ${t.notCaptured} more were sent on links the captures do not see.` : ''}${t.lost ? ` <strong>${t.lost} kernel events were lost.</strong>` : ''}</p>
<table><thead><tr><th>explainer's cause</th><th>kernel's reason</th><th>RSTs</th><th>agree</th></tr></thead><tbody>${rows}</tbody></table>
<h3>Every reason Linux can give</h3>
<table id="kernel-coverage"><thead><tr><th>kernel's reason</th><th>produced by</th></tr></thead><tbody>${t.coverage.map((c) => `<tr data-kernel-reason="${esc(c.reason)}" data-produced="${c.scenarios.length ? 'yes' : 'no'}"><td class="mono">${esc(c.reason)}</td><td>${c.scenarios.length ? c.scenarios.map((id) => `<a href="#${anchor('scenario', id)}">${esc(id)}</a>`).join(', ') : `<span class="small">not produced: ${esc(c.why ?? 'by none of the scenarios that ran')}</span>`}</td></tr>`).join('')}</tbody></table>
</section>`;
}

function rstHtml(r: RstVerdict): string {
  return `<div class="rst${r.cause === 'out-of-window' ? ' ignored' : ''}" data-frame="${r.frame}" data-cause="${esc(r.cause)}">
<strong>frame ${r.frame}</strong> · RST ${esc(r.from)} → ${esc(r.to)} · ${badge('cause', r.cause)} <span class="small">${esc(r.confidence)} confidence, ${esc(r.form)} form</span>
<div>${esc(r.summary)}</div>
<ul class="evidence">${r.evidence.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>
<div class="small" data-linux-reasons="${esc(r.linuxReasons.join(' '))}">Linux would log ${esc(linuxReasonText(r))}</div>
<div class="small">App at ${esc(r.to)}: ${esc(r.app.receiver)}${r.app.sender ? `<br>App at ${esc(r.from)}: ${esc(r.app.sender)}` : ''}</div>
</div>`;
}

function connectionHtml(c: ConnectionReport, firstTime: number | null, open: boolean): string {
  const frames = c.firstFrame === c.lastFrame ? `frame ${c.firstFrame}` : `frames ${c.firstFrame}–${c.lastFrame}`;
  const chips = c.rsts.slice(0, 4).map((r) => badge('cause', r.cause)).join(' ');
  const ladder = c.segments.length
    ? (() => { const m = ladderFromConnection(c, firstTime ?? undefined); return `<figure class="ladder" data-connection="${c.id}">${renderLadderSvg(m)}<figcaption>${esc(m.origin)}; seq/ack relative to each side's first sequence number.</figcaption></figure>`; })()
    : '<p class="small">Segments were not kept for this connection.</p>';
  return `<details class="run" id="${anchor('conn', String(c.id))}" data-connection="${c.id}"${open ? ' open' : ''}>
<summary><span class="client">#${c.id}</span> <code>${esc(c.orig)} → ${esc(c.resp)}</code> ${badge('s-skipped', c.connState)} <span class="small">history ${esc(c.history || '-')} · ${frames} · ${c.duration.toFixed(3)} s</span> ${chips}</summary>
<div class="run-body">
${ladder}
${c.rsts.map(rstHtml).join('\n')}
</div></details>`;
}

/** How many connections get a ladder in an explain report. */
export const EXPLAIN_HTML_MAX_CONNECTIONS = 200;

/** What the explain report says beyond the connections it lists: the patterns their RSTs were
 *  grouped into (explain/groups.ts), `listed` per pattern, and connections left out. */
export interface ExplainHtmlOptions {
  patterns?: readonly RstPattern[];
  listed?: number;
  /** Abnormal connections not in `result.connections` (past the page's limit). */
  notShown?: number;
}

/** The report of one capture (`rstlab explain --html`): summary, causes, the patterns of RSTs
 *  counted rather than listed, each abnormal connection (at most EXPLAIN_HTML_MAX_CONNECTIONS). */
export function renderExplainHtml(result: ExplainResult, title: string, opts: ExplainHtmlOptions = {}): string {
  const s = result.summary;
  const shown = result.connections.filter((c) => c.abnormal);
  const byCause = (Object.entries(s.byCause) as Array<[Cause, number]>).filter(([, n]) => n > 0);
  const causeRows = byCause.map(([c, n]) => `<tr data-cause="${esc(c)}"><td>${badge('cause', c)}</td><td>${n}</td><td>${esc(CAUSES[c].title)}</td><td class="small">${esc(CAUSES[c].meaning)}</td></tr>`).join('');
  const anomalies = Object.entries(s.anomalies);
  const limited = shown.slice(0, EXPLAIN_HTML_MAX_CONNECTIONS);
  const notShown = shown.length - limited.length + (opts.notShown ?? 0);
  const patterns = opts.patterns ?? [];
  const patternRows = patterns.map((x) => {
    const d = describePattern(x);
    return `<tr data-pattern-cause="${esc(x.cause)}" data-pattern-role="${x.role}"><td>${badge('cause', x.cause)}</td><td>${esc(d.what)}${d.scan ? ` — <strong>${esc(d.scan)}</strong>` : ''}</td><td class="small">${esc(d.where)}</td></tr>`;
  }).join('');
  const body = `<header>
<h1>rstlab explain</h1>
<p class="meta"><span class="mono">${esc(title)}</span>${s.capture ? ` · ${esc(s.capture.format)}${s.capture.gzip ? ' (gzip)' : ''}` : ''} · ${s.packets} packets (${s.tcpPackets} TCP) · ${s.connections} connections · ${s.abnormalConnections} ended abnormally · ${s.rsts} RST${s.rsts === 1 ? '' : 's'}</p>
</header>
<section id="causes"><h2>Resets by cause</h2>
${causeRows ? `<table><thead><tr><th>cause</th><th>RSTs</th><th>what it means</th><th></th></tr></thead><tbody>${causeRows}</tbody></table>` : '<p>No RST in this capture.</p>'}
${anomalies.length ? `<p class="small">Anomalies: ${anomalies.map(([k, a]) => `${esc(k)} ×${a.count} (first: frame ${a.firstFrame ?? '-'})`).join(', ')}</p>` : ''}
${(s.rateLimited ?? []).map((x) => `<p class="rate-limited"><strong>Rate-limited RSTs</strong>: ${esc(describeRateLimit(x))}</p>`).join('\n')}
</section>
${patterns.length ? `<section id="patterns"><h2>Patterns</h2>
<p class="small">RSTs that share a cause and a host, and SYNs left unanswered that share a host: the first ${opts.listed ?? 0} of each are listed below, the rest counted here (<code>--group 0</code> lists them all).</p>
<table><thead><tr><th>cause</th><th>counted</th><th>where</th></tr></thead><tbody>${patternRows}</tbody></table>
</section>
` : ''}<section id="connections"><h2>Connections that ended abnormally</h2>
${limited.length ? limited.map((c, i) => connectionHtml(c, s.firstTime, i < 10)).join('\n') : '<p>No connection ended abnormally.</p>'}
${notShown > 0 ? `<p class="small">${notShown} more connection(s) not shown; use <code>rstlab explain --json</code> for all of them.</p>` : ''}
</section>`;
  return page(`rstlab explain: ${title}`, body);
}
