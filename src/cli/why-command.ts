// `rstlab why "<error text>"`: from an error message to what happened on the wire. Argument parsing
// only: the work is why-run.ts, imported when the command runs so that other commands do not load
// it; loading and matching the catalog is src/catalog/ (advice: src/catalog/advice.ts), the answer's
// text and JSON src/report/why-text.ts. Exit 0 when something matches; 1 with a
// suggestion when nothing does; 2 (RstlabError) when the catalog cannot be read.
// The catalog is data/error-catalog.json of the installed package (repoFile() of src/paths.ts), or
// --catalog FILE.

import type { Command } from 'commander';
import type { WhyOptions } from './why-run.js';

export function registerWhyCommand(program: Command): void {
  program
    .command('why')
    .description('what an error message means on the wire: its causes in the lab, with ladders and advice')
    .argument('<text>', 'the error text, e.g. "unexpected end of stream on Connection{...}" or ECONNRESET')
    .option('--json', 'the matches and causes as one JSON object')
    .option('--catalog <file>', 'an error catalog other than the one shipped (data/error-catalog.json)')
    .option('--no-ladders', 'leave out the ladder diagrams')
    .option('--no-color', 'no colours')
    .action(async (text: string, opts: WhyOptions) => {
      const { runWhy } = await import('./why-run.js');
      process.exitCode = runWhy(text, opts);
    });
}
