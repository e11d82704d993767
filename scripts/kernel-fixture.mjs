// The kernel's record of each RST of one lab run, for fixtures/captures/<capture>.kernel.json
// (scripts/refresh-fixtures.sh): node scripts/kernel-fixture.mjs RESULTS.json RUN-ID > FILE.
import { readFileSync } from 'node:fs';

const [resultsFile, runId] = process.argv.slice(2);
const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
const run = results.runs.find((r) => r.id === runId);
if (!run) { process.stderr.write(`no run ${runId} in ${resultsFile}\n`); process.exit(2); }
if (!results.host.kernelTrace?.available) { process.stderr.write(`the lab read no kernel reasons: ${results.host.kernelTrace?.why}\n`); process.exit(2); }
const out = {
  source: `rstlab lab, run ${runId}, Linux ${results.host.kernel}: tcp:tcp_send_reset for each RST (null: no kernel TCP sent it)`,
  rsts: run.rsts.map((r) => ({ frame: r.frame, from: r.from, to: r.to, kernel: r.kernel ?? null })),
  notCaptured: run.kernelOnly ?? [],
};
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
