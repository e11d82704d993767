// Benchmark: rstlab explain at the traffic shapes of bench/shapes.ts (long, scan, short, storm,
// concurrent), each at two sizes, against tcpdump's BPF pass and tshark on the same capture. Per
// shape and size it writes the capture, reads it once into the page cache, then times, taking turns
// (--runs times):
//   rstlab explain FILE > /dev/null            (text)
//   rstlab explain --json FILE > /dev/null
//   tcpdump -n -r FILE 'tcp[tcpflags] & tcp-rst != 0' > /dev/null
//   tshark -n -r FILE -Y tcp.flags.reset==1 > /dev/null   (only on files up to --tshark-max-mb)
// and prints per tool best/median seconds, CPU seconds (all threads), MiB/s, packets/s, peak RSS and
// minor faults; the speed ratios rstlab-text/tcpdump, rstlab-text/tshark and rstlab-json/tshark
// (the other tool's time / rstlab's); and rstlab's peak RSS growth from the small size to the
// large. Targets are printed beside the figures, never asserted: text ≥ 0.3× tcpdump (≥ 0.5× on
// long) and ≥ 10× tshark, json ≥ 5× tshark, peak RSS ≤ 200 MB and within 10 % from small to large.
// Every run is bounded: killed past --timeout-s seconds or --max-rss-mb of peak RSS, and reported as
// such; a tool killed or failing once is not run again on that capture.
//
//   node dist/bench/explain-shapes.js                              # every shape at 100 MiB and 1 GiB
//   node dist/bench/explain-shapes.js --shape scan,short --sizes 64,256 --runs 2
// Options: --shape NAME[,NAME] (default all), --sizes SMALL,LARGE in MiB (default 100,1024),
// --runs N (default 3), --skip-tshark, --tshark-max-mb N (default 200), --timeout-s N (default 600),
// --max-rss-mb N (default 8192), --dir DIR (default the temp folder), --keep (leave the captures),
// --reuse (use captures --keep left in --dir, and keep them).

import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { build, fmt, mainJs, peakRss, repo, rstlabCommand, runFigures, timed } from './run.js';
import type { Timed } from './run.js';
import { SHAPES, SHAPE_DESCRIPTION, writeShape } from './shapes.js';
import type { CaptureInfo, ShapeName } from './shapes.js';

const USAGE = 'usage: node dist/bench/explain-shapes.js [--shape NAME[,NAME]] [--sizes SMALL,LARGE] [--runs N] [--skip-tshark] [--tshark-max-mb N]'
  + ' [--timeout-s N] [--max-rss-mb N] [--dir DIR] [--keep|--reuse]';

function fail(msg: string): never {
  process.stderr.write(`explain-shapes: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

interface Options {
  shapes: ShapeName[]; sizes: number[]; runs: number; skipTshark: boolean; tsharkMaxMb: number;
  timeoutSec: number; maxRssMb: number; dir: string; keep: boolean; reuse: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    shapes: [...SHAPES], sizes: [100, 1024], runs: 3, skipTshark: false, tsharkMaxMb: 200,
    timeoutSec: 600, maxRssMb: 8192, dir: os.tmpdir(), keep: false, reuse: false,
  };
  const whole = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || v === '' || !Number.isInteger(n) || n < 1) fail(`${name} must be a whole number of at least 1, got ${JSON.stringify(v ?? '')}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) fail(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--shape': {
        const names = value().split(',');
        for (const n of names) if (!(SHAPES as readonly string[]).includes(n)) fail(`unknown shape ${JSON.stringify(n)} (shapes: ${SHAPES.join(', ')})`);
        o.shapes = [...new Set(names)] as ShapeName[];
        break;
      }
      case '--sizes': {
        const parts = value().split(',');
        if (parts.length !== 2) fail(`--sizes takes two sizes in MiB, small and large (e.g. 64,512), got ${JSON.stringify(parts.join(','))}`);
        o.sizes = parts.map((p) => whole('--sizes', p));
        if (o.sizes[0]! >= o.sizes[1]!) fail(`--sizes: the small size must be below the large one, got ${o.sizes.join(',')}`);
        break;
      }
      case '--runs': o.runs = whole(a, value()); break;
      case '--tshark-max-mb': o.tsharkMaxMb = whole(a, value()); break;
      case '--timeout-s': o.timeoutSec = whole(a, value()); break;
      case '--max-rss-mb': o.maxRssMb = whole(a, value()); break;
      case '--dir': o.dir = value(); if (!existsSync(o.dir)) fail(`--dir ${o.dir} does not exist`); break;
      case '--skip-tshark': o.skipTshark = true; break;
      case '--keep': o.keep = true; break;
      case '--reuse': o.reuse = true; o.keep = true; break;
      default: fail(`unknown argument ${JSON.stringify(a)}`);
    }
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));

const TEXT = 'rstlab explain';
const JSON_ = 'rstlab explain --json';
const TCPDUMP = 'tcpdump (BPF: RST)';
const TSHARK = 'tshark -Y reset';

interface Tool { name: string; cmd: string; argv: string[] }
interface Figures {
  /** Runs that finished with exit 0. */
  ok: number;
  best: number | null;
  median: number | null;
  maxRssMb: number | null;
  cpuSeconds: number | null;
  minorFaults: number | null;
  /** What went wrong, if anything: a timeout, the RSS limit, out of memory, an exit code, skipped. */
  note: string;
}

/** Every tool `runs` times, taking turns; a tool killed or failing is not run again. */
async function measure(tools: Tool[], runs: number): Promise<Map<string, Figures>> {
  const all = new Map<string, Timed[]>(tools.map((t) => [t.name, []]));
  const stopped = new Map<string, string>();
  for (let i = 0; i < runs; i++) {
    for (const t of tools) {
      if (stopped.has(t.name)) continue;
      const r = await timed(t.cmd, t.argv, { timeoutSec: opts.timeoutSec, maxRssMb: opts.maxRssMb });
      all.get(t.name)!.push(r);
      if (r.killed === 'timeout') stopped.set(t.name, `timeout (${opts.timeoutSec} s) in run ${i + 1}`);
      else if (r.killed === 'rss') stopped.set(t.name, `killed: RSS past ${opts.maxRssMb} MiB in run ${i + 1}`);
      else if (r.outOfMemory) stopped.set(t.name, `out of memory (V8 heap limit, ${r.signal ?? `exit ${r.code}`}) in run ${i + 1}`);
      else if (r.code !== 0) stopped.set(t.name, `${r.signal ? `killed by ${r.signal}` : `exit ${r.code}`} in run ${i + 1}`);
    }
  }
  const out = new Map<string, Figures>();
  for (const [name, rs] of all) {
    const good = rs.filter((r) => !r.killed && r.code === 0);
    const f = runFigures(good);
    out.set(name, {
      ok: good.length,
      best: f?.best ?? null,
      median: f?.median ?? null,
      maxRssMb: peakRss(rs),
      cpuSeconds: f?.cpuSeconds ?? null,
      minorFaults: f?.minorFaults ?? null,
      note: stopped.get(name) ?? '',
    });
  }
  return out;
}

const out = (s: string) => process.stdout.write(s);
const MB = 1e6 / 1048576; // one MB (10^6 bytes) in MiB

interface Result { shape: ShapeName; sizeMb: number; fileMb: number; info: CaptureInfo; figures: Map<string, Figures> }

/** Speed of rstlab (`a`) over another tool (`b`): b's time / a's, best and median. */
function ratio(figs: Map<string, Figures>, a: string, b: string): { best: number; median: number } | null {
  const x = figs.get(a);
  const y = figs.get(b);
  if (!x?.best || !y?.best || !x.median || !y.median) return null;
  return { best: y.best / x.best, median: y.median / x.median };
}
const showRatio = (r: { best: number; median: number } | null, digits: number, target: number) => (r
  ? `${fmt(r.best, digits)}× best, ${fmt(r.median, digits)}× median (target ≥ ${target}×: ${r.best >= target ? 'met' : 'not met'})`
  : 'n/a');

async function runOne(shape: ShapeName, sizeMb: number): Promise<Result> {
  const file = path.join(opts.dir, `rstlab-shape-${shape}-${sizeMb}mb.pcap`);
  const meta = `${file}.json`;
  let info: CaptureInfo;
  let written = '';
  if (opts.reuse && existsSync(file) && existsSync(meta)) {
    info = JSON.parse(readFileSync(meta, 'utf8')) as CaptureInfo;
    written = `reused ${file}`;
  } else {
    const t0 = Date.now();
    info = await writeShape(shape, file, sizeMb * 1048576);
    const sec = (Date.now() - t0) / 1000;
    if (opts.keep) writeFileSync(meta, JSON.stringify(info));
    written = `written in ${fmt(sec)} s (${fmt(info.bytes / 1048576 / sec)} MiB/s)`;
  }
  const fileMb = statSync(file).size / 1048576;
  out(`\n== ${shape} at ${sizeMb} MiB: ${file} ==\n`);
  out(`  ${fmt(fileMb)} MiB, ${info.packets.toLocaleString('en-US')} packets, ${info.connections.toLocaleString('en-US')} connections`
    + `${info.reset !== undefined ? `, ${info.reset.toLocaleString('en-US')} reset` : ''}`
    + `${info.maxAlive !== undefined ? `, up to ${info.maxAlive.toLocaleString('en-US')} open at once` : ''}; ${written}\n`);
  await timed('cat', [file]); // into the page cache, so that every tool reads from memory
  const tools: Tool[] = [
    { name: TEXT, ...rstlabCommand(file, false) },
    { name: JSON_, ...rstlabCommand(file, true) },
    { name: TCPDUMP, cmd: 'tcpdump', argv: ['-n', '-r', file, 'tcp[tcpflags] & tcp-rst != 0'] },
  ];
  const tsharkSkip = opts.skipTshark ? 'skipped (--skip-tshark)' : sizeMb > opts.tsharkMaxMb ? `skipped (over --tshark-max-mb ${opts.tsharkMaxMb})` : '';
  if (!tsharkSkip) tools.push({ name: TSHARK, cmd: 'tshark', argv: ['-n', '-r', file, '-Y', 'tcp.flags.reset==1'] });
  const figures = await measure(tools, opts.runs);
  if (tsharkSkip) figures.set(TSHARK, { ok: 0, best: null, median: null, maxRssMb: null, cpuSeconds: null, minorFaults: null, note: tsharkSkip });
  out(`  ${opts.runs} run${opts.runs === 1 ? '' : 's'} of each tool, taking turns; MiB/s and Mpkt/s from the fastest run; CPU s (all threads) and faults: medians\n`);
  out(`  ${'tool'.padEnd(24)}${'best s'.padStart(9)}${'median s'.padStart(10)}${'CPU s'.padStart(9)}${'MiB/s'.padStart(9)}${'Mpkt/s'.padStart(8)}`
    + `${'peak RSS'.padStart(11)}${'faults'.padStart(11)}  note\n`);
  const dash = (v: number | null, f: (n: number) => string) => (v === null ? '-' : f(v));
  for (const [name, r] of figures) {
    out(`  ${name.padEnd(24)}${dash(r.best, (v) => fmt(v, 2)).padStart(9)}${dash(r.median, (v) => fmt(v, 2)).padStart(10)}`
      + `${dash(r.cpuSeconds, (v) => fmt(v, 2)).padStart(9)}${dash(r.best, (v) => fmt(fileMb / v)).padStart(9)}`
      + `${dash(r.best, (v) => fmt(info.packets / v / 1e6, 2)).padStart(8)}${dash(r.maxRssMb, (v) => `${fmt(v, 0)} MiB`).padStart(11)}`
      + `${dash(r.minorFaults, (v) => fmt(v, 0)).padStart(11)}  ${r.note}\n`);
  }
  const tcpdumpTarget = shape === 'long' ? 0.5 : 0.3;
  out(`  rstlab-text / tcpdump: ${showRatio(ratio(figures, TEXT, TCPDUMP), 2, tcpdumpTarget)}\n`);
  out(`  rstlab-text / tshark:  ${showRatio(ratio(figures, TEXT, TSHARK), 1, 10)}\n`);
  out(`  rstlab-json / tshark:  ${showRatio(ratio(figures, JSON_, TSHARK), 1, 5)}\n`);
  for (const name of [TEXT, JSON_]) {
    const rss = figures.get(name)!.maxRssMb;
    if (rss !== null) out(`  ${name} peak RSS ${fmt(rss, 0)} MiB = ${fmt(rss / MB, 0)} MB (target ≤ 200 MB: ${rss / MB <= 200 ? 'met' : 'not met'})\n`);
  }
  if (!opts.keep) { await rm(file, { force: true }); await rm(meta, { force: true }); }
  return { shape, sizeMb, fileMb, info, figures };
}

async function main(): Promise<void> {
  if (!existsSync(mainJs)) fail('build first: npm run build');
  out(`explain at traffic shapes: ${opts.shapes.join(', ')}; ${opts.sizes.join(' and ')} MiB; ${opts.runs} run${opts.runs === 1 ? '' : 's'} each; `
    + `tshark ${opts.skipTshark ? 'skipped' : `on files up to ${opts.tsharkMaxMb} MiB`}; each run killed past ${opts.timeoutSec} s or ${opts.maxRssMb} MiB\n`);
  out(`  rstlab: ${path.relative(repo, build) || '.'}/ (${process.version}); ${os.cpus().length} CPUs; ${fmt(os.totalmem() / 2 ** 30)} GiB\n`);
  for (const s of opts.shapes) out(`  ${s.padEnd(11)} ${SHAPE_DESCRIPTION[s]}\n`);
  const results: Result[] = [];
  for (const shape of opts.shapes) {
    const pair: Result[] = [];
    for (const size of opts.sizes) pair.push(await runOne(shape, size));
    results.push(...pair);
    const [small, large] = pair as [Result, Result];
    for (const name of [TEXT, JSON_]) {
      const fa = small.figures.get(name)!;
      const fb = large.figures.get(name)!;
      const a = fa.maxRssMb;
      const b = fb.maxRssMb;
      if (a && b) {
        const g = (b / a - 1) * 100;
        // A run killed for its RSS stopped at the limit: its figure is only a lower bound.
        const stopped = [fa, fb].some((f) => f.note) ? ' (a run was stopped: its peak RSS is where it was stopped, a lower bound)' : '';
        out(`  ${shape}: ${name} peak RSS ${fmt(a, 0)} MiB at ${small.sizeMb} MiB → ${fmt(b, 0)} MiB at ${large.sizeMb} MiB: ${g >= 0 ? '+' : ''}${fmt(g, 1)} % (target within 10 %: ${Math.abs(g) <= 10 ? 'met' : 'not met'})${stopped}\n`);
      }
    }
  }
  // One line per shape and size, for comparing shapes at a glance.
  out('\nsummary (MiB/s from the fastest run; ratios: the other tool\'s best time / rstlab\'s; RSS: peak)\n');
  out(`${'shape'.padEnd(11)}${'MiB'.padStart(6)}${'text'.padStart(8)}${'json'.padStart(8)}${'tcpdump'.padStart(9)}${'tshark'.padStart(8)}`
    + `${'txt/tcpd'.padStart(10)}${'txt/tsh'.padStart(9)}${'json/tsh'.padStart(10)}${'text RSS'.padStart(10)}${'json RSS'.padStart(10)}\n`);
  for (const r of results) {
    const speed = (name: string) => { const b = r.figures.get(name)?.best; return b ? fmt(r.fileMb / b) : '-'; };
    const rat = (a: string, b: string, d: number) => { const x = ratio(r.figures, a, b); return x ? fmt(x.best, d) : '-'; };
    const rss = (name: string) => { const m = r.figures.get(name)?.maxRssMb; return m ? fmt(m, 0) : '-'; };
    out(`${r.shape.padEnd(11)}${String(r.sizeMb).padStart(6)}${speed(TEXT).padStart(8)}${speed(JSON_).padStart(8)}${speed(TCPDUMP).padStart(9)}${speed(TSHARK).padStart(8)}`
      + `${rat(TEXT, TCPDUMP, 2).padStart(10)}${rat(TEXT, TSHARK, 1).padStart(9)}${rat(JSON_, TSHARK, 1).padStart(10)}${rss(TEXT).padStart(10)}${rss(JSON_).padStart(10)}\n`);
  }
  out('targets: text ≥ 0.3× tcpdump (long ≥ 0.5×), ≥ 10× tshark; json ≥ 5× tshark; peak RSS ≤ 200 MB, within 10 % from small to large\n');
}

await main();
