// The rstlab command line: argument parsing and wiring only. Every RstlabError becomes one line on
// stderr (plus a hint) and exit code 2; commander's own usage errors exit 2 as well; anything else
// is an internal error (exit 70) reported without a stack trace unless RSTLAB_DEBUG is set.

import { Command, CommanderError } from 'commander';
import { RstlabError } from '../errors.js';
import { registerExplainCommand } from './explain-command.js';
import { registerLabCommand } from './lab-command.js';
import { registerProxyCommand } from './proxy-command.js';
import { registerWatchCommand } from './watch-command.js';
import { registerWhyCommand } from './why-command.js';

export function buildProgram(): Command {
  const program = new Command('rstlab')
    .description('Why was my TCP connection reset? Reproduce, capture, explain and inject every RST.')
    .version('0.1.0')
    .showHelpAfterError('(run rstlab --help for usage)')
    .exitOverride();
  registerLabCommand(program);
  registerExplainCommand(program);
  registerWhyCommand(program);
  registerProxyCommand(program);
  registerWatchCommand(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors were already printed by commander.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof RstlabError) {
      process.stderr.write(`rstlab: ${err.message}\n`);
      if (err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
      return 2;
    }
    const e = err as Error;
    process.stderr.write(`rstlab: internal error: ${e?.message ?? String(err)}\n`);
    if (process.env.RSTLAB_DEBUG) process.stderr.write(`${e?.stack}\n`);
    else process.stderr.write('  hint: run with RSTLAB_DEBUG=1 for details, and please report it\n');
    return 70;
  }
}
