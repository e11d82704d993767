// `rstlab watch`, the wiring behind the command (watch-command.ts): sources and joining are
// src/watch; this prints records as they come (none with --quiet), serves the metrics, turns
// Ctrl-C and SIGTERM into the end of the watch (summary, exit 0).

import { plain } from '../report/text.js';
import type { Painter } from '../report/text.js';
import { WatchMetrics } from '../watch/metrics.js';
import { runWatch } from '../watch/run.js';
import type { WatchOptions } from '../watch/run.js';
import { renderWatchRecord, renderWatchSummary, watchJson, watchSummaryJson } from '../watch/text.js';
import { writeOut, writeOutGathered } from './output.js';

export async function runWatchCommand(
  opts: Omit<WatchOptions, 'onRecord' | 'onNote' | 'signal' | 'metrics'>,
  out: { json: boolean; color: boolean; quiet?: boolean; metrics?: { host: string; port: number } },
): Promise<number> {
  let p: Painter = plain;
  if (!out.json && out.color) {
    const pc = (await import('picocolors')).default;
    if (pc.isColorSupported) p = pc;
  }
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const metrics = out.metrics ? new WatchMetrics() : undefined;
  const server = metrics && out.metrics ? await metrics.serve(out.metrics.host, out.metrics.port) : undefined;
  if (server && out.metrics) {
    const a = server.address();
    process.stderr.write(`rstlab watch: metrics at http://${out.metrics.host.includes(':') ? `[${out.metrics.host}]` : out.metrics.host}:${typeof a === 'object' && a ? a.port : out.metrics.port}/metrics\n`);
  }
  try {
    const summary = await runWatch({
      ...opts,
      onReady: (s) => process.stderr.write(`rstlab watch: watching ${opts.netns ? `namespace ${opts.netns}` : 'this host'}: ${[s.kernel ? (s.counting ? 'the kernel\'s resets, counted in the kernel (bpftrace)' : 'the kernel\'s resets') : '', s.capture ? `packets on ${opts.iface ?? 'any'}` : ''].filter(Boolean).join(', ')}; Ctrl-C to stop\n`),
      signal: stop.signal,
      ...(metrics ? { metrics } : {}),
      // --quiet: each reset is still joined, counted and observed by the metrics, but not written.
      onRecord: out.quiet ? () => {} : (r) => writeOutGathered(out.json ? `${watchJson(r)}\n` : `${renderWatchRecord(r, p)}\n\n`),
      onNote: (line) => process.stderr.write(`rstlab watch: ${line}\n`),
    });
    writeOut(out.json ? `${watchSummaryJson(summary)}\n` : `${renderWatchSummary(summary, p)}\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    server?.close();
  }
}
