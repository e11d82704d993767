// `rstlab explain <capture>`: argument parsing only; the work is explain-run.ts, imported when the
// command runs — the engine is src/explain, the rendering src/report. Text mode prints one block
// per abnormal connection (all with --all) in frame order, with --ladder a ladder diagram under
// each; --json (--format json) streams newline-delimited records as connections finish, --format
// zeek a Zeek conn.log with a row per connection; --html FILE also writes a self-contained HTML
// report. A capture broken at the file level still gets its good packets
// explained, then one error line and a non-zero exit (docs/explain.md, "Exit codes").

import type { Command } from 'commander';
import type { ExplainOptions } from './explain-run.js';

export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description('explain every TCP reset in a pcap/pcapng capture (gzip too); "-" reads stdin')
    .argument('<capture>', 'capture file, or - for standard input')
    .option('--format <format>', 'text (the default), json (records, as --json) or zeek (a Zeek conn.log: every connection, with its RSTs\' causes and frames)')
    .option('--json', 'newline-delimited JSON records: connection, rst, summary (short for --format json)')
    .option('--all', 'include connections that ended normally')
    .option('--ladder', 'draw a ladder diagram of the packets under each connection')
    .option('--html <file>', 'also write a self-contained HTML report (ladders and explanations) to FILE')
    .option('--group <n>', 'text: list the first N of each pattern (RSTs of one cause and host, SYNs unanswered by or from one host), count the rest; 0 lists every one', '10')
    .option('--verify-checksums', 'ignore packets with a bad IPv4 or TCP checksum, as zeek without -C (history C/c); off by default: a capture taken on a sending host shows its outgoing packets with offloaded checksums')
    .option('--no-color', 'no colours in text output')
    .action(async (capture: string, opts: ExplainOptions) => {
      const { runExplain } = await import('./explain-run.js');
      process.exitCode = await runExplain(capture, opts);
    });
}
