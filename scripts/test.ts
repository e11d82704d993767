// The test runner behind `npm test` and its tiers. Contract:
// - `node dist/scripts/test.js [unit|e2e|stress|all] [-- node --test options]` (default all) runs
//   the compiled tests of this build folder (src/ and bench/) with Node's test runner, one file at a
//   time, in one `node --test` process: its closing summary counts every test of the tier.
// - The tier is in a test's file name: `*.e2e.test.js` (the lab, real processes and sockets, a
//   browser: needs root and the Debian packages), `*.stress.test.js` (whole corpora, fuzzing, load),
//   any other `*.test.js` is a unit test (no root, no network namespace; the tier as a whole runs
//   in under a minute). `all` runs unit, then e2e, then stress.
// - Exits with the test runner's status; a tier with no test file is an error (exit 2).

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

type Tier = 'unit' | 'e2e' | 'stress';
const TIERS: readonly Tier[] = ['unit', 'e2e', 'stress'];

function tierOf(file: string): Tier {
  if (file.endsWith('.e2e.test.js')) return 'e2e';
  if (file.endsWith('.stress.test.js')) return 'stress';
  return 'unit';
}

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

function main(argv: string[]): number {
  const sep = argv.indexOf('--');
  const args = sep >= 0 ? argv.slice(0, sep) : argv;
  const extra = sep >= 0 ? argv.slice(sep + 1) : [];
  const which = args[0] ?? 'all';
  if (args.length > 1 || (which !== 'all' && !TIERS.includes(which as Tier))) {
    process.stderr.write(`test: unknown tier ${JSON.stringify(args.join(' '))}; use one of unit, e2e, stress, all\n`);
    return 2;
  }
  const build = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const all = ['src', 'bench'].flatMap((d) => testFiles(path.join(build, d))).sort();
  const tiers = which === 'all' ? TIERS : [which as Tier];
  const files = tiers.flatMap((t) => all.filter((f) => tierOf(f) === t));
  if (files.length === 0) {
    process.stderr.write(`test: no ${which} test files under ${build} (run the build first: npm run build)\n`);
    return 2;
  }
  const res = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...extra, ...files], { stdio: 'inherit' });
  if (res.error) {
    process.stderr.write(`test: could not run node --test: ${res.error.message}\n`);
    return 2;
  }
  return res.status ?? 1;
}

process.exitCode = main(process.argv.slice(2));
