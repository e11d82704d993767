// `rstlab lab`, the work behind the command (registered in lab-command.ts, loaded when it runs):
// checks the scenario and client names (UsageError) and, as root, the tools (MissingToolError);
// runs the scenarios × clients (src/lab), judges the claims, writes results.json, report.html and
// the captures to --out, prints the summary (or results.json with --json) and returns the exit
// status: 0 when every run behaved as constructed, 1 when one mismatched or failed.

import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pc from 'picocolors';
import { MissingToolError, UsageError } from '../errors.js';
import { answerQuestions, judgeClaims } from '../lab/claims.js';
import { cleanupLeftovers } from '../lab/cleanup.js';
import { CLIENTS } from '../lab/protocol.js';
import type { ClientName } from '../lab/protocol.js';
import { runLab } from '../lab/run.js';
import { SCENARIOS } from '../lab/scenarios.js';
import { hasCommand } from '../lab/tools.js';
import { renderLabHtml } from '../report/html.js';
import { renderLabSummary, renderRunLine } from '../report/lab-text.js';
import { LAB_SCHEMA } from '../report/results.js';
import type { LabResults } from '../report/results.js';
import type { Painter } from '../report/text.js';
import { plain } from '../report/text.js';
import { writeOut } from './output.js';

export interface LabCliOptions {
  scenario?: string[];
  client?: string[];
  out: string;
  json?: boolean;
  loopback?: boolean;
  cleanup?: boolean;
  list?: boolean;
  all?: boolean;
  color?: boolean;
  random?: string;
  parallel?: string;
  seed?: string;
}

export async function runLabCommand(opts: LabCliOptions): Promise<number> {
  const p: Painter = opts.color !== false && pc.isColorSupported && !opts.json ? pc : plain;
  if (opts.cleanup) {
    const removed = await cleanupLeftovers();
    writeOut(removed.length ? `removed: ${removed.join(', ')}\n` : 'nothing to clean up\n');
    return 0;
  }
  if (opts.list) {
    for (const s of SCENARIOS) writeOut(`${p.bold(s.id)}  ${s.title}\n    clients: ${s.clients.join(', ')}${s.allClients ? ` (--all: ${s.allClients.join(', ')})` : ''}${s.needs === 'netns' ? ' · needs namespaces (root)' : ''} · claims: ${s.claims.join(', ') || '—'}\n`);
    writeOut(`\nclients: ${CLIENTS.join(', ')}\n`);
    return 0;
  }
  const parallel = opts.parallel === undefined ? undefined : Number(opts.parallel);
  if (parallel !== undefined && (!Number.isInteger(parallel) || parallel < 1 || parallel > 16)) throw new UsageError(`--parallel takes a number of runs at a time from 1 to 16, got ${JSON.stringify(opts.parallel)}`);
  if (opts.random !== undefined) return runRandomCommand(opts, p);
  const unknownScenarios = (opts.scenario ?? []).filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknownScenarios.length) {
    throw new UsageError(`unknown scenario: ${unknownScenarios.join(', ')}`, `known scenarios: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  }
  const unknownClients = (opts.client ?? []).filter((c) => !(CLIENTS as readonly string[]).includes(c));
  if (unknownClients.length) {
    throw new UsageError(`unknown client: ${unknownClients.join(', ')}`, `known clients: ${CLIENTS.join(', ')}`);
  }
  const root = process.getuid?.() === 0;
  const mode = opts.loopback ? 'loopback' : 'auto';
  if (root && !(await hasCommand('tcpdump'))) throw new MissingToolError('tcpdump', 'tcpdump', 'the lab captures every run with it');
  if (root && mode === 'auto' && !(await hasCommand('ip'))) throw new MissingToolError('ip', 'iproute2', 'the lab builds its network namespaces with it');
  if (root && mode === 'auto' && !(await hasCommand('iptables'))) throw new MissingToolError('iptables', 'iptables', 'the router\'s firewall scenarios need it');

  const scenarios = opts.scenario?.length ? SCENARIOS.filter((s) => opts.scenario!.includes(s.id)) : SCENARIOS;
  const clients = (opts.client?.length ? opts.client : [...CLIENTS]) as ClientName[];
  const outDir = path.resolve(opts.out);
  await mkdir(outDir, { recursive: true });

  const tty = process.stdout.isTTY && !opts.json;
  const lab = await runLab({
    outDir, scenarios, clients, mode,
    ...(parallel !== undefined ? { lanes: parallel } : {}),
    // --all, or clients named on the command line: every client that can show a scenario.
    matrix: opts.all || opts.client?.length ? 'all' : 'default',
    onProgress: (ev) => {
      if (opts.json) return;
      if (ev.kind === 'setup') { if (tty) process.stdout.write(p.dim(`  ${ev.message}…\r`)); return; }
      if (ev.kind === 'run-start') { if (tty) process.stdout.write(`\x1b[2K${p.dim(`  … [${ev.index + 1}/${ev.total}] ${ev.scenario} × ${ev.client}`)}\r`); return; }
      writeOut(`${tty ? '\x1b[2K' : ''}${renderRunLine(ev.run, ev.index, ev.total, p)}\n`);
    },
  });
  const results: LabResults = {
    schema: LAB_SCHEMA,
    startedAt: lab.startedAt,
    durationMs: lab.durationMs,
    host: { kernel: os.release(), node: process.version, mode: lab.mode, modeReason: lab.modeReason, capture: lab.capture, kernelTrace: lab.kernelTrace, reasonsNotConstructed: lab.reasonsNotConstructed, lanes: lab.lanes },
    scenarios: scenarios.map((s) => ({ id: s.id, title: s.title, description: s.description, claims: s.claims })),
    clients,
    claims: judgeClaims(lab.runs),
    questions: answerQuestions(lab.runs),
    runs: lab.runs,
  };
  await writeFile(path.join(outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  await writeFile(path.join(outDir, 'report.html'), renderLabHtml(results));
  if (opts.json) {
    writeOut(JSON.stringify(results, null, 2) + '\n');
  } else {
    writeOut(`\n${renderLabSummary(results, p)}\n`);
    writeOut(`${p.dim('results:')} ${path.join(outDir, 'results.json')}  ${p.dim('report:')} ${path.join(outDir, 'report.html')}  ${p.dim('captures:')} ${path.join(outDir, 'captures')}/\n`);
  }
  return lab.runs.some((r) => r.status === 'mismatch' || r.status === 'failed') ? 1 : 0;
}

/** `rstlab lab --random N [--seed S]`: randomized runs, each RST against the kernel's reason. */
async function runRandomCommand(opts: LabCliOptions, p: Painter): Promise<number> {
  const count = Number(opts.random);
  const seed = Number(opts.seed ?? '1');
  if (!Number.isInteger(count) || count < 1 || count > 100_000) throw new UsageError(`--random takes a number of runs from 1 to 100000, got ${JSON.stringify(opts.random)}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new UsageError(`--seed takes a whole number from 0 to 4294967295, got ${JSON.stringify(opts.seed)}`);
  const parallel = Number(opts.parallel ?? '0'); // checked by runLabCommand
  if (!(await hasCommand('tcpdump'))) throw new MissingToolError('tcpdump', 'tcpdump', 'the lab captures every run with it');
  if (!(await hasCommand('python3'))) throw new MissingToolError('python3', 'python3', 'the randomized runs drive their sockets with it');
  const { runRandom } = await import('../lab/random.js');
  const outDir = path.resolve(opts.out);
  await mkdir(outDir, { recursive: true });
  const summary = await runRandom({
    count, seed, outDir,
    ...(opts.parallel !== undefined ? { lanes: parallel } : {}),
    onRun: (r, i, done) => {
      if (opts.json) return;
      const bad = r.rsts.filter((x) => x.outcome === 'disagree');
      const mark = r.failed ? p.yellow('!') : bad.length ? p.red('✗') : p.green('✓');
      const what = r.failed ? `could not run: ${r.failed}` : `${r.rsts.length} RST${r.rsts.length === 1 ? '' : 's'}${r.rsts.length ? `: ${r.rsts.map((x) => `${x.cause}/${x.kernel ? x.kernel.reason : '-'}`).join(' ')}` : ''}`;
      writeOut(`${mark} [${done}/${count}] seed ${seed} #${i} IPv${r.plan.ipVersion}  ${what}${r.saved ? p.dim(`  saved in ${r.saved}`) : ''}\n`);
    },
  });
  await writeFile(path.join(outDir, 'random.json'), JSON.stringify(summary, null, 1) + '\n');
  const pct = summary.rsts - summary.noKernelEvent > 0 ? ((100 * summary.agree) / (summary.rsts - summary.noKernelEvent)).toFixed(1) : '–';
  const failed = summary.runs.filter((r) => r.failed).length;
  if (opts.json) writeOut(JSON.stringify(summary, null, 1) + '\n');
  else {
    writeOut(`\n${p.bold('rstlab lab --random')} ${count} runs, seed ${seed}: ${summary.rsts} RSTs; the explainer allows the kernel's reason for ${summary.agree} of ${summary.rsts - summary.noKernelEvent} (${pct}%)`
      + `, disagrees on ${summary.disagree}; ${summary.noKernelEvent} without a kernel event${summary.lost ? `, ${summary.lost} kernel events lost` : ''}${failed ? `; ${failed} run${failed === 1 ? '' : 's'} could not run` : ''} · ${(summary.durationMs / 1000).toFixed(1)} s\n`);
    writeOut(`${p.dim('results:')} ${path.join(outDir, 'random.json')}${summary.disagree ? `  ${p.dim('disagreements:')} ${path.join(outDir, 'random')}/` : ''}\n`);
  }
  return summary.disagree > 0 || failed > 0 ? 1 : 0;
}
