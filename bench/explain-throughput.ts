// Benchmark: rstlab explain against tshark and tcpdump on the same synthetic capture, in one run.
// Writes a capture with the pcap writer (a mix of bulk transfers that close normally and
// connections that end in each kind of RST), then times:
//   rstlab explain --json FILE > /dev/null
//   tshark -r FILE -Y tcp.flags.reset==1 > /dev/null
//   tcpdump -r FILE 'tcp[tcpflags] & tcp-rst != 0' > /dev/null
// and prints MiB/s, Mpackets/s, the ratios (target: ≥ 10× tshark, ≥ 0.5× tcpdump) and rstlab's peak
// RSS at two file sizes (target: flat as the file grows). Beside the wall time, each tool's CPU time
// (all its threads, user + system) and minor page faults, from /proc/self/stat once it has been
// waited for: CPU time above the wall time is work on other cores (V8 compiles and collects on
// background threads), which a busy machine takes away. Prints figures; asserts nothing.
//
//   npm run bench                 # 1 GiB (and 256 MiB for the memory comparison)
//   node dist/bench/explain-throughput.js --size-mb 200 --skip-tshark
// Options: --size-mb N (default 1024), --small-mb N (the memory comparison's file, default a quarter
// of it, at least 64), --dir DIR (default the system's temporary folder), --keep (leave the captures
// in --dir), --reuse (use captures already in --dir, and keep them), --rstlab-only (no
// tcpdump/tshark), --skip-tshark, --runs N (each tool N times, default 5, taking turns; the fastest
// and the median run are shown; peak RSS is the highest). A bad number exits 2. rstlab is the
// build this benchmark was compiled into (dist/ through bin/rstlab.js; another output folder,
// e.g. dist-perf, directly). Each run is killed past 10 minutes (a killed rstlab run stops it).
// The capture is shapes.ts's `long` shape; bench/explain-shapes.ts times the other shapes.

import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { build, fmt, mainJs, peakRss, repo, rstlabCommand, runFigures, timed } from './run.js';
import type { Timed } from './run.js';
import { writeLong as writeCapture } from './shapes.js';

const args = process.argv.slice(2);
const arg = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
};
const sizeMb = Number(arg('--size-mb', '1024'));
const smallMb = Number(arg('--small-mb', String(Math.max(64, Math.round(sizeMb / 4)))));
const skipTshark = args.includes('--skip-tshark');
const reuse = args.includes('--reuse');
const keep = reuse || args.includes('--keep');
const rstlabOnly = args.includes('--rstlab-only');
const repeat = Number(arg('--runs', '5'));
const dir = arg('--dir', os.tmpdir());
for (const [name, v] of [['--size-mb', sizeMb], ['--small-mb', smallMb], ['--runs', repeat]] as const) {
  if (!Number.isInteger(v) || v < 1) {
    process.stderr.write(`explain-throughput: ${name} must be a whole number of at least 1, got ${JSON.stringify(arg(name, ''))}\n`
      + 'usage: node dist/bench/explain-throughput.js [--size-mb N] [--small-mb N] [--runs N] [--dir DIR] [--keep|--reuse] [--skip-tshark|--rstlab-only]\n');
    process.exit(2);
  }
}

interface Tool { name: string; cmd: string; argv: string[]; /** rstlab itself: a failed run stops the benchmark. */ rstlab?: true }
interface Figures {
  best: number;
  median: number;
  maxRssMb: number | null;
  /** Medians over the runs, when /proc/self/stat could be read. */
  cpuSeconds: number | null;
  minorFaults: number | null;
}

/**
 * Every tool `repeat` times, taking turns (one run of each, then again), so that a slow spell of
 * this shared machine falls on all of them alike: per tool the fastest and the median time and the
 * highest peak RSS. A failed rstlab run stops the benchmark.
 */
async function measure(tools: Tool[]): Promise<Map<string, Figures>> {
  const all = new Map<string, Timed[]>(tools.map((t) => [t.name, []]));
  for (let i = 0; i < repeat; i++) {
    for (const t of tools) {
      const r = await timed(t.cmd, t.argv, { timeoutSec: 600 });
      if (r.code !== 0 && t.rstlab) {
        process.stderr.write('rstlab failed: no figures\n');
        process.exit(1);
      }
      all.get(t.name)!.push(r);
    }
  }
  const out = new Map<string, Figures>();
  for (const [name, rs] of all) out.set(name, { ...runFigures(rs)!, maxRssMb: peakRss(rs) });
  return out;
}

async function main(): Promise<void> {
  if (!existsSync(mainJs)) {
    process.stderr.write('build first: npm run build\n');
    process.exit(2);
  }
  const big = path.join(dir, `rstlab-bench-${sizeMb}mb.pcap`);
  const small = path.join(dir, `rstlab-bench-${smallMb}mb.pcap`);
  process.stdout.write(`writing ${sizeMb} MiB and ${smallMb} MiB captures in ${dir} …\n`);
  const t0 = Date.now();
  const reused = reuse && existsSync(big) && existsSync(small) && existsSync(`${big}.json`);
  let info: { packets: number; bytes: number; connections: number };
  if (reused) {
    info = JSON.parse(readFileSync(`${big}.json`, 'utf8')) as typeof info;
    process.stdout.write(`  reusing ${big} and ${small}\n`);
  } else {
    info = await writeCapture(big, sizeMb * 1024 * 1024);
    await writeCapture(small, smallMb * 1024 * 1024);
    if (keep) writeFileSync(`${big}.json`, JSON.stringify(info));
  }
  const writeSec = (Date.now() - t0) / 1000;
  process.stdout.write(`  ${info.packets.toLocaleString()} packets, ${info.connections.toLocaleString()} connections (1 in 5 ends in a RST: refused, abort, reset-after-close, no-connection)${reused ? '' : `, written at ${fmt(info.bytes / 1048576 / writeSec)} MiB/s`}\n`);
  process.stdout.write(`  rstlab: ${path.relative(repo, build) || '.'}/\n\n`);

  const size = statSync(big).size;
  const mb = size / 1048576;
  // Warm the page cache so every tool reads from memory.
  await timed('cat', [big]);
  const tools: Tool[] = [{ name: 'rstlab explain --json', ...rstlabCommand(big, true) }];
  if (!rstlabOnly) tools.push({ name: 'tcpdump (BPF: RST)', cmd: 'tcpdump', argv: ['-n', '-r', big, 'tcp[tcpflags] & tcp-rst != 0'] });
  if (!skipTshark && !rstlabOnly) tools.push({ name: 'tshark -Y reset', cmd: 'tshark', argv: ['-n', '-r', big, '-Y', 'tcp.flags.reset==1'] });
  const figures = await measure(tools);
  const rstlab = figures.get(tools[0]!.name)!;
  process.stdout.write(`${repeat} run${repeat === 1 ? '' : 's'} of each tool, taking turns; throughput from the fastest run; CPU s (all threads) and faults: medians;\n`
    + `rstlab × = that tool's time / rstlab's\n`);
  process.stdout.write(`${'tool'.padEnd(24)}${'best s'.padStart(8)}${'median s'.padStart(10)}${'CPU s'.padStart(8)}${'MiB/s'.padStart(10)}${'Mpkt/s'.padStart(9)}`
    + `${'peak RSS'.padStart(11)}${'faults'.padStart(9)}${'rstlab × (best, median)'.padStart(25)}\n`);
  for (const [name, r] of figures) {
    const vs = name === tools[0]!.name ? '' : `${fmt(r.best / rstlab.best, 2)}, ${fmt(r.median / rstlab.median, 2)}`;
    process.stdout.write(`${name.padEnd(24)}${fmt(r.best, 2).padStart(8)}${fmt(r.median, 2).padStart(10)}${(r.cpuSeconds === null ? '-' : fmt(r.cpuSeconds, 2)).padStart(8)}`
      + `${fmt(mb / r.best).padStart(10)}${fmt(info.packets / r.best / 1e6, 2).padStart(9)}`
      + `${(r.maxRssMb ? `${fmt(r.maxRssMb, 0)} MiB` : '-').padStart(11)}${(r.minorFaults === null ? '-' : fmt(r.minorFaults, 0)).padStart(9)}${vs.padStart(25)}\n`);
  }
  const smallRun = (await measure([{ name: 'small', ...rstlabCommand(small, true) }])).get('small')!;
  process.stdout.write(`\nrstlab peak RSS: ${fmt(smallRun.maxRssMb ?? 0, 0)} MiB on ${smallMb} MiB, ${fmt(rstlab.maxRssMb ?? 0, 0)} MiB on ${sizeMb} MiB\n`);
  const ratio = (name: string, digits: number) => {
    const r = figures.get(name);
    return r ? `${fmt(r.best / rstlab.best, digits)}× best, ${fmt(r.median / rstlab.median, digits)}× median` : 'skipped';
  };
  process.stdout.write(`targets: ≥ 10× tshark (${ratio('tshark -Y reset', 1)}), ≥ 0.5× tcpdump (${ratio('tcpdump (BPF: RST)', 2)})\n`);
  if (!keep) { await rm(big, { force: true }); await rm(small, { force: true }); }
}

await main();
