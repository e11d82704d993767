// `rstlab explain <capture>`: argument parsing and wiring only — the engine is src/explain, the
// rendering src/report. Text mode prints one block per abnormal connection (all with --all) in frame
// order; --json streams newline-delimited records as connections finish. A capture broken at the
// file level still gets its good packets explained, then one error line and a non-zero exit.

import type { Command } from 'commander';
import pc from 'picocolors';
import { readCapture } from '../capture/reader.js';
import { CaptureFormatError } from '../errors.js';
import { Explainer } from '../explain/index.js';
import type { ConnectionReport } from '../explain/index.js';
import { connectionRecord, renderConnectionText, renderSummaryText, rstRecord, summaryRecord } from '../report/text.js';
import type { Painter } from '../report/text.js';
import { writeOut } from './output.js';

interface ExplainOptions { json?: boolean; all?: boolean; color?: boolean }

export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description('explain every TCP reset in a pcap/pcapng capture (gzip too); "-" reads stdin')
    .argument('<capture>', 'capture file, or - for standard input')
    .option('--json', 'newline-delimited JSON records: connection, rst, summary')
    .option('--all', 'include connections that ended normally')
    .option('--no-color', 'no colours in text output')
    .action(async (capture: string, opts: ExplainOptions) => {
      process.exitCode = await runExplain(capture, opts);
    });
}

export async function runExplain(source: string, opts: ExplainOptions): Promise<number> {
  const painter: Painter = opts.color !== false && pc.isColorSupported ? pc : { bold: String, dim: String, red: String, yellow: String, green: String, cyan: String };
  const kept: ConnectionReport[] = [];
  const explainer = new Explainer({
    onConnection: (c) => {
      if (!opts.all && !c.abnormal) return;
      if (opts.json) {
        writeOut(JSON.stringify(connectionRecord(c)) + '\n');
        for (const r of c.rsts) writeOut(JSON.stringify(rstRecord(r)) + '\n');
      } else {
        kept.push({ ...c, segments: [] });
      }
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
  const summary = explainer.end(capture);
  if (opts.json) {
    writeOut(JSON.stringify(summaryRecord(summary)) + '\n');
  } else {
    kept.sort((a, b) => a.firstFrame - b.firstFrame);
    const header = `${source === '-' ? 'stdin' : source}: ${capture ? `${capture.format}${capture.gzip ? ' (gzip)' : ''}` : 'damaged capture'}`;
    writeOut(painter.bold(header) + '\n\n');
    for (const c of kept) writeOut(renderConnectionText(c, summary.firstTime, painter) + '\n\n');
    if (!kept.length) writeOut(opts.all ? 'no TCP connections\n\n' : 'no connection ended abnormally (use --all to list every connection)\n\n');
    writeOut(renderSummaryText(summary, painter) + '\n');
  }
  if (failure) throw failure;
  return 0;
}
