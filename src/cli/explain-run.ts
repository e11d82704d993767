// `rstlab explain`, the work behind the command (registered in explain-command.ts, loaded when it
// runs): reads the capture through the explain engine and prints text, JSON records, a Zeek
// conn.log or HTML. Memory is bounded by the connections alive, not by the capture: JSON records
// and conn.log rows are written as connections are reported; text and HTML reports are put back in order of their first frame within
// a window of TEXT_WINDOW (+ RELEASE_BATCH; exact for every capture with fewer abnormal
// connections), then grouped into patterns (explain/groups.ts); reading waits while standard output
// has a backlog (a slow pipe). --html holds the reports it lists: at most
// EXPLAIN_HTML_MAX_CONNECTIONS. Segment summaries (for ladders) are kept for at most LADDER_KEEP
// connections.
// Live input (standard input that is a pipe or socket, whose first packet is stamped within
// LIVE_SKEW_SEC of now: `tcpdump -U -w - | rstlab explain -`): an ended connection is judged
// LIVE_LINGER_SEC after its last packet by the wall clock, even on a quiet link, and text reports
// are written as they are judged (no reordering). SIGINT or SIGTERM on standard input ends the
// reading as the end of the input would: what is held is reported, then the summary, exit 0.

import { fstatSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { readCapture } from '../capture/reader.js';
import { CaptureFormatError, InputError, UsageError } from '../errors.js';
import { Explainer, ReorderBuffer, RstGroups } from '../explain/index.js';
import { DEFAULT_CLOSED_LINGER_SEC } from '../tcp/index.js';
import type { ConnectionReport } from '../explain/index.js';
import { connectionRecord, plain, renderConnectionText, renderPatternsText, renderSummaryText, rstRecord, summaryRecord } from '../report/text.js';
import type { Painter } from '../report/text.js';
import * as output from './output.js';

export interface ExplainOptions { json?: boolean; format?: string; all?: boolean; color?: boolean; ladder?: boolean; html?: string; group?: string; verifyChecksums?: boolean }

/** What `--format` takes; text is the default, `--json` is short for json. */
export const OUTPUT_FORMATS = ['text', 'json', 'zeek'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The output format the options ask for; a UsageError for a bad value or a combination that
 *  cannot be honoured. */
export function outputFormat(opts: ExplainOptions): OutputFormat {
  const asked = opts.format ?? (opts.json ? 'json' : 'text');
  const format = OUTPUT_FORMATS.find((f) => f === asked);
  if (!format) throw new UsageError(`--format takes ${OUTPUT_FORMATS.slice(0, -1).join(', ')} or ${OUTPUT_FORMATS.at(-1)}, got ${JSON.stringify(asked)}`);
  if (opts.json && format !== 'json') throw new UsageError(`--json is short for --format json; it does not go with --format ${format}`);
  if (opts.ladder && format === 'zeek') throw new UsageError('--ladder draws its diagrams in the text output; it does not go with --format zeek');
  return format;
}

/** Live input: how long an ended connection waits for more packets (wall clock) before it is judged. */
export const LIVE_LINGER_SEC = 0.3;
/** Live input: the first packet must be stamped within this of the wall clock. */
const LIVE_SKEW_SEC = 120;
/** Live input: how often the wall clock moves the engine on. */
const LIVE_TICK_MS = 100;

/** Standard input that can be live: a pipe, a socket or a character device, not a regular file. */
function stdinCanBeLive(): boolean {
  try {
    return !fstatSync(0).isFile();
  } catch {
    return false;
  }
}

/** Connections whose segments are kept for ladders (--ladder, --html); later ones print without. */
export const LADDER_KEEP = 1000;
/** Text output: how many reports may wait to be put back in order of their first frame. */
const TEXT_WINDOW = 2000;
/** Text output: reports pushed between two releases from the reorder buffer. */
const RELEASE_BATCH = 256;
/** Connections reported at a time at the end of the input, between checks of the output's backlog. */
const END_BATCH = 1000;

export async function runExplain(source: string, opts: ExplainOptions): Promise<number> {
  // Bound once: output.js stays outside the command's bundle (scripts/bundle.ts), whose imports
  // of it are getters, one call each time a name is read (~2% of a port scan's `--json` time).
  const { outputBacklog, writeOut, writeOutGathered } = output;
  // V8 moves an allocation site's objects straight to the old space once most of them outlived a
  // young-generation collection. Connection reports do at first (the text output holds the first
  // TEXT_WINDOW), then die young by the million, but in the old space, which grows to gigabytes
  // between full collections: 1.15 GB of peak RSS instead of 0.5 GB on a 64 MiB port scan, and
  // 50% more time (docs/performance.md, 2026-12-03). Set here, not at start-up: V8 would reject the
  // bundle's code cache made under other flags.
  setFlagsFromString('--no-allocation-site-pretenuring');
  // What the old space may grow to before its next full collection: V8 lets it grow to up to 4×
  // what the last one left, and the old space of a port scan is mostly garbage between two (reports
  // and strings of connections that waited out their linger): 300 MB of heap for 75 MB live on a
  // 256 MiB scan. Past 1.15× a full collection comes sooner (docs/performance.md, 2026-12-04 and
  // 2026-12-07: 30% then; 15% since lingering connections take less, at no cost in time).
  setFlagsFromString('--heap-growing-percent=15');
  const format = outputFormat(opts);
  const json = format === 'json';
  const listed = opts.group === undefined ? 10 : Number(opts.group);
  if (!Number.isInteger(listed) || listed < 0) throw new UsageError(`--group takes a whole number (0 or more), got ${JSON.stringify(opts.group)}`);
  const groups = new RstGroups(listed);
  // picocolors is loaded for text output only (start-up time of --json).
  const painter: Painter = format !== 'text' || opts.color === false ? plain : await colours();
  /** The connections the HTML report lists (the first of each pattern), and how many it leaves out. */
  const kept: ConnectionReport[] = [];
  let notKept = 0;
  let withSegments = 0;
  // The HTML and ladder renderers are loaded only when asked for (start-up time of --json).
  const html = opts.html ? await import('../report/html.js') : null;
  const ladders = opts.ladder ? await import('../report/ladder.js') : null;
  // The conn.log renderer too: one row per connection, written as it is reported, nothing kept.
  const zeek = format === 'zeek' ? await import('../report/zeek.js') : null;
  let zeekOpened = false;
  /** The conn.log's header, before its first row (or its #close): dated by the first packet. */
  const openZeek = () => {
    if (!zeek || zeekOpened) return;
    zeekOpened = true;
    writeOutGathered(zeek.zeekHeader(explainer.firstTime));
  };
  /** How many connections the HTML report lists. */
  const htmlListed = html ? html.EXPLAIN_HTML_MAX_CONNECTIONS : 0;
  const name = source === '-' ? 'stdin' : source;
  /** The text report on standard output (also with --html; not with --json or --format zeek). */
  const text = format === 'text';
  // Text and HTML: reports in order of first frame through a bounded reorder buffer; let out once
  // the input has ended, or from the moment more than TEXT_WINDOW of them wait (a large capture).
  const reorder = new ReorderBuffer<ConnectionReport>(TEXT_WINDOW);
  let captureFormat = '';
  let streaming = false;
  let written = 0;
  let headerWritten = false;
  const width = Math.max(60, Math.min(100, process.stdout.columns || 100));
  const writeHeader = (what: string) => {
    headerWritten = true;
    writeOut(painter.bold(`${name}: ${what}`) + '\n\n');
  };
  /** A report let out of the reorder buffer: listed (written, or kept for the HTML) or counted. */
  const deliver = (c: ConnectionReport) => {
    if (!groups.admit(c)) return;
    if (text) writeConnection(c);
    if (!html) return;
    if (kept.length < htmlListed) kept.push(c);
    else notKept++;
  };
  const writeConnection = (c: ConnectionReport) => {
    written++;
    writeOutGathered(renderConnectionText(c, explainer.firstTime, painter) + '\n\n');
    if (ladders) {
      const ladder = c.segments.length ? ladders.renderLadderText(ladders.ladderFromConnection(c, explainer.firstTime ?? undefined), width, painter) : painter.dim(`  (segments not kept beyond the first ${LADDER_KEEP} connections)`);
      writeOutGathered(ladder + '\n\n');
    }
  };
  /** The reorder buffer's size at which it is next asked what it can let out. */
  let checkAt = RELEASE_BATCH;
  /** Live input (see the header): decided for good at the first packet. */
  let live = source === '-' && stdinCanBeLive();
  const explainer: Explainer = new Explainer({
    onConnection: (c) => {
      if (zeek) {
        openZeek();
        writeOutGathered(zeek.zeekRow(c));
        if (!html) return;
      }
      if (!opts.all && !c.abnormal) return;
      if (json) {
        writeOutGathered(JSON.stringify(connectionRecord(c)) + '\n');
        for (const r of c.rsts) writeOutGathered(JSON.stringify(rstRecord(r)) + '\n');
        if (!html) return;
      }
      // (The HTML keeps segments for the connections it lists, whichever they turn out to be.)
      const keepSegments = html !== null || (ladders !== null && withSegments++ < LADDER_KEEP);
      if (live) {
        // As judged, in that order: a live reader waits for no connection still open.
        if (text && !headerWritten) writeHeader(captureFormat || 'live capture');
        deliver(keepSegments ? c : { ...c, segments: [] });
        return;
      }
      reorder.push(keepSegments ? c : { ...c, segments: [] });
      if (reorder.size < checkAt) return;
      if (!streaming && reorder.size > TEXT_WINDOW) {
        streaming = true;
        if (text) writeHeader(captureFormat);
      }
      if (streaming) for (const r of reorder.release(explainer.oldestPending)) deliver(r);
      checkAt = reorder.size + RELEASE_BATCH;
    },
  }, {
    segments: Boolean(opts.ladder || opts.html),
    // Without `normal` the explainer only counts the connections that ended normally, building no
    // report for them; a conn.log lists every connection, so --format zeek needs them built.
    normal: Boolean(opts.all || zeek),
    ...(live ? { closedLingerSec: LIVE_LINGER_SEC } : {}),
    verifyChecksums: opts.verifyChecksums === true,
  });
  let failure: CaptureFormatError | null = null;
  let capture;
  // Standard input: Ctrl-C or SIGTERM ends the input (a live capture has no other end).
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  if (source === '-') for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, onSignal);
  let first = true;
  const packet: typeof explainer.packet = (rec) => {
    if (first) {
      first = false;
      // A pipe replaying an old capture is not live: its packets keep their own clock.
      if (live && Math.abs(rec.tsSec + rec.tsNsec / 1e9 - Date.now() / 1000) > LIVE_SKEW_SEC) {
        live = false;
        explainer.setClosedLinger(DEFAULT_CLOSED_LINGER_SEC);
      }
    }
    explainer.packet(rec);
  };
  const ticker = live ? setInterval(() => { if (live && !first) explainer.advance(Date.now() / 1000); }, LIVE_TICK_MS) : null;
  try {
    capture = await readCapture(source, { packet, anomaly: explainer.captureAnomaly }, {
      backpressure: outputBacklog,
      signal: stop.signal,
      ...(text ? { onFormat: (f: string, gzip: boolean) => { captureFormat = `${f}${gzip ? ' (gzip)' : ''}`; } } : {}),
    });
  } catch (err) {
    if (!(err instanceof CaptureFormatError)) throw err;
    failure = err; // the packets before the damage were delivered: report them, then fail
  } finally {
    if (ticker) clearInterval(ticker);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (failure && explainer.packetsSeen === 0) throw failure; // nothing was readable: the error alone
  // The connections still held, a batch at a time, letting the output drain in between.
  while (explainer.endSome(END_BATCH) > 0) {
    const wait = outputBacklog();
    if (wait) await wait;
  }
  const summary = explainer.end(capture);
  if (text && !headerWritten) writeHeader(capture ? `${capture.format}${capture.gzip ? ' (gzip)' : ''}` : 'damaged capture');
  for (const c of reorder.drain()) deliver(c);
  if (html && opts.html) {
    const page = html.renderExplainHtml({ connections: kept, rsts: kept.flatMap((c) => c.rsts).sort((a, b) => a.frame - b.frame), summary }, name,
      { patterns: groups.patterns(), listed, notShown: notKept });
    try {
      writeFileSync(opts.html, page);
    } catch (err) {
      throw new InputError(`cannot write ${opts.html}: ${(err as Error).message}`);
    }
    if (!text) process.stderr.write(`rstlab: wrote ${opts.html}\n`);
  }
  if (json) {
    writeOut(JSON.stringify(summaryRecord(summary)) + '\n');
  } else if (zeek) {
    openZeek();
    writeOut(zeek.zeekFooter(summary.lastTime));
  } else {
    if (!written) writeOut(opts.all ? 'no TCP connections\n\n' : 'no connection ended abnormally (use --all to list every connection)\n\n');
    const patterns = renderPatternsText(groups.patterns(), listed, painter);
    if (patterns) writeOut(patterns + '\n\n');
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
