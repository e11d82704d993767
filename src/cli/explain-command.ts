// `rstlab explain <capture>`: argument parsing and wiring only — the engine is src/explain, the
// rendering src/report. Text mode prints one block per abnormal connection (all with --all) in frame
// order, with --ladder a ladder diagram under each; --json streams newline-delimited records as
// connections finish; --html FILE also writes a self-contained HTML report. A capture broken at the
// file level still gets its good packets explained, then one error line and a non-zero exit.
// Segment summaries (for ladders) are kept for at most LADDER_KEEP connections, to bound memory.

import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import pc from 'picocolors';
import { readCapture } from '../capture/reader.js';
import { CaptureFormatError, InputError } from '../errors.js';
import { Explainer } from '../explain/index.js';
import type { ConnectionReport } from '../explain/index.js';
import { EXPLAIN_HTML_MAX_CONNECTIONS, renderExplainHtml } from '../report/html.js';
import { ladderFromConnection, renderLadderText } from '../report/ladder.js';
import { connectionRecord, renderConnectionText, renderSummaryText, rstRecord, summaryRecord } from '../report/text.js';
import type { Painter } from '../report/text.js';
import { writeOut } from './output.js';

interface ExplainOptions { json?: boolean; all?: boolean; color?: boolean; ladder?: boolean; html?: string }

/** Connections whose segments are kept for ladders (--ladder, --html); later ones print without. */
export const LADDER_KEEP = 1000;

export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description('explain every TCP reset in a pcap/pcapng capture (gzip too); "-" reads stdin')
    .argument('<capture>', 'capture file, or - for standard input')
    .option('--json', 'newline-delimited JSON records: connection, rst, summary')
    .option('--all', 'include connections that ended normally')
    .option('--ladder', 'draw a ladder diagram of the packets under each connection')
    .option('--html <file>', 'also write a self-contained HTML report (ladders and explanations) to FILE')
    .option('--no-color', 'no colours in text output')
    .action(async (capture: string, opts: ExplainOptions) => {
      process.exitCode = await runExplain(capture, opts);
    });
}

export async function runExplain(source: string, opts: ExplainOptions): Promise<number> {
  const painter: Painter = opts.color !== false && pc.isColorSupported ? pc : { bold: String, dim: String, red: String, yellow: String, green: String, cyan: String };
  const kept: ConnectionReport[] = [];
  let withSegments = 0;
  const segmentLimit = opts.html && !opts.ladder ? EXPLAIN_HTML_MAX_CONNECTIONS : LADDER_KEEP;
  const explainer = new Explainer({
    onConnection: (c) => {
      if (!opts.all && !c.abnormal) return;
      if (opts.json) {
        writeOut(JSON.stringify(connectionRecord(c)) + '\n');
        for (const r of c.rsts) writeOut(JSON.stringify(rstRecord(r)) + '\n');
        if (!opts.html) return;
      }
      const keepSegments = (opts.ladder || opts.html) && withSegments < segmentLimit;
      if (keepSegments) withSegments++;
      kept.push(keepSegments ? c : { ...c, segments: [] });
    },
  });
  let failure: CaptureFormatError | null = null;
  let capture;
  try {
    capture = await readCapture(source, { packet: explainer.packet, anomaly: explainer.captureAnomaly });
  } catch (err) {
    if (!(err instanceof CaptureFormatError)) throw err;
    failure = err; // the packets before the damage were delivered: report them, then fail
  }
  if (failure && explainer.packetsSeen === 0) throw failure; // nothing was readable: the error alone
  const summary = explainer.end(capture);
  kept.sort((a, b) => a.firstFrame - b.firstFrame);
  const name = source === '-' ? 'stdin' : source;
  if (opts.html) {
    const html = renderExplainHtml({ connections: kept, rsts: kept.flatMap((c) => c.rsts).sort((a, b) => a.frame - b.frame), summary }, name);
    try {
      writeFileSync(opts.html, html);
    } catch (err) {
      throw new InputError(`cannot write ${opts.html}: ${(err as Error).message}`);
    }
    if (opts.json) process.stderr.write(`rstlab: wrote ${opts.html}\n`);
  }
  if (opts.json) {
    writeOut(JSON.stringify(summaryRecord(summary)) + '\n');
  } else {
    const header = `${name}: ${capture ? `${capture.format}${capture.gzip ? ' (gzip)' : ''}` : 'damaged capture'}`;
    writeOut(painter.bold(header) + '\n\n');
    const width = Math.max(60, Math.min(100, process.stdout.columns || 100));
    for (const c of kept) {
      writeOut(renderConnectionText(c, summary.firstTime, painter) + '\n\n');
      if (opts.ladder) {
        const ladder = c.segments.length ? renderLadderText(ladderFromConnection(c, summary.firstTime ?? undefined), width, painter) : painter.dim(`  (segments not kept beyond the first ${LADDER_KEEP} connections)`);
        writeOut(ladder + '\n\n');
      }
    }
    if (!kept.length) writeOut(opts.all ? 'no TCP connections\n\n' : 'no connection ended abnormally (use --all to list every connection)\n\n');
    writeOut(renderSummaryText(summary, painter) + '\n');
    if (opts.html) writeOut(`report: ${opts.html}\n`);
  }
  if (failure) throw failure;
  return 0;
}
