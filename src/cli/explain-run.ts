// `rstlab explain`, the work behind the command (registered in explain-command.ts, loaded when it
// runs): reads the capture through the explain engine and prints text, JSON records or HTML.
// Segment summaries (for ladders) are kept for at most LADDER_KEEP connections, to bound memory.

import { writeFileSync } from 'node:fs';
import { readCapture } from '../capture/reader.js';
import { CaptureFormatError, InputError } from '../errors.js';
import { Explainer } from '../explain/index.js';
import type { ConnectionReport } from '../explain/index.js';
import { connectionRecord, plain, renderConnectionText, renderSummaryText, rstRecord, summaryRecord } from '../report/text.js';
import type { Painter } from '../report/text.js';
import { writeOut, writeOutGathered } from './output.js';

export interface ExplainOptions { json?: boolean; all?: boolean; color?: boolean; ladder?: boolean; html?: string }

/** Connections whose segments are kept for ladders (--ladder, --html); later ones print without. */
export const LADDER_KEEP = 1000;

export async function runExplain(source: string, opts: ExplainOptions): Promise<number> {
  // picocolors is loaded for text output only (start-up time of --json).
  const painter: Painter = opts.json || opts.color === false ? plain : await colours();
  const kept: ConnectionReport[] = [];
  let withSegments = 0;
  // The HTML and ladder renderers are loaded only when asked for (start-up time of --json).
  const html = opts.html ? await import('../report/html.js') : null;
  const ladders = opts.ladder ? await import('../report/ladder.js') : null;
  const segmentLimit = html && !opts.ladder ? html.EXPLAIN_HTML_MAX_CONNECTIONS : LADDER_KEEP;
  const explainer = new Explainer({
    onConnection: (c) => {
      if (!opts.all && !c.abnormal) return;
      if (opts.json) {
        writeOutGathered(JSON.stringify(connectionRecord(c)) + '\n');
        for (const r of c.rsts) writeOutGathered(JSON.stringify(rstRecord(r)) + '\n');
        if (!opts.html) return;
      }
      const keepSegments = (opts.ladder || opts.html) && withSegments < segmentLimit;
      if (keepSegments) withSegments++;
      kept.push(keepSegments ? c : { ...c, segments: [] });
    },
  }, { segments: Boolean(opts.ladder || opts.html), normal: Boolean(opts.all) });
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
  if (html && opts.html) {
    const page = html.renderExplainHtml({ connections: kept, rsts: kept.flatMap((c) => c.rsts).sort((a, b) => a.frame - b.frame), summary }, name);
    try {
      writeFileSync(opts.html, page);
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
      if (ladders) {
        const ladder = c.segments.length ? ladders.renderLadderText(ladders.ladderFromConnection(c, summary.firstTime ?? undefined), width, painter) : painter.dim(`  (segments not kept beyond the first ${LADDER_KEEP} connections)`);
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

async function colours(): Promise<Painter> {
  const pc = (await import('picocolors')).default;
  return pc.isColorSupported ? pc : plain;
}
