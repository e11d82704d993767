// `rstlab lab`: argument parsing only; the work is lab-run.ts, imported when the command runs (so
// that other commands do not load the lab). It runs the selected scenarios × clients (src/lab),
// judges the seed's claims, writes results.json (and the pcaps) to --out, and prints a live line
// per run plus the matrix and the verdicts. Exit 0 when every run behaved as its scenario
// constructs, 1 when some run mismatched or failed, 2 on bad arguments or a missing tool. With
// --random N: randomized runs (src/lab/random.ts); exit 1 when the explainer disagrees with the
// kernel on some RST.

import type { Command } from 'commander';
import type { LabCliOptions } from './lab-run.js';

const splitList = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

export function registerLabCommand(program: Command): void {
  program
    .command('lab')
    .description('reproduce every way a TCP connection ends abnormally, with real processes, clients and captures')
    .option('--scenario <ids>', 'only these scenarios (comma-separated; repeatable)', splitList)
    .option('--client <names>', 'only these clients (comma-separated; repeatable)', splitList)
    .option('--all', 'the whole matrix: every scenario with every client that can show it (longer)')
    .option('--out <dir>', 'results folder (results.json, captures/)', 'rstlab-out')
    .option('--json', 'print results.json on stdout instead of the summary')
    .option('--loopback', 'use loopback even when root (no namespaces: scenarios that need them are skipped)')
    .option('--cleanup', 'remove what a crashed earlier run left behind (namespaces, processes), then exit')
    .option('--list', 'list the scenarios and clients, then exit')
    .option('--random <n>', 'instead: N randomized runs of real sockets, each RST compared with the kernel\'s own reason (root)')
    .option('--seed <s>', 'with --random: the seed of the plans (the same seed gives the same plans)', '1')
    .option('--parallel <n>', 'runs at a time (default 4): each on its own topology; with --random, each on its own port')
    .option('--no-color', 'no colours')
    .action(async (opts: LabCliOptions) => {
      const { runLabCommand } = await import('./lab-run.js');
      process.exitCode = await runLabCommand(opts);
    });
}
