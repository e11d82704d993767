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
// e.g. dist-perf, directly).

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createPcapFileWriter } from '../src/capture/writer.js';
import { Conversation } from '../src/tcp/index.js';
import { TcpFlag } from '../src/wire/types.js';
import { median, parseChildUsage } from './stats.js';
import type { ChildUsage } from './stats.js';

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

const build = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repo = path.resolve(build, '..');
const bin = path.join(repo, 'bin', 'rstlab.js');
const mainJs = path.join(build, 'src', 'cli', 'main.js');
/** `rstlab explain --json FILE` with this build: for dist/, bin/rstlab.js run as a user runs it
 *  (its first line, and so what it does to the environment, included); else main() directly. */
function rstlabCommand(file: string): { cmd: string; argv: string[]; rstlab: true } {
  if (build === path.join(repo, 'dist')) return { cmd: bin, argv: ['explain', '--json', file], rstlab: true };
  const script = `import(${JSON.stringify(pathToFileURL(mainJs).href)}).then((m) => m.main(['node', 'rstlab', ...process.argv.slice(1)])).then((c) => { process.exitCode = c; })`;
  return { cmd: process.execPath, argv: ['-e', script, 'explain', '--json', file], rstlab: true };
}

/** One connection's frames: a bulk transfer that closes normally, or one ending in a kind of RST. */
function connection(i: number, start: number): Conversation {
  const a = 10 + (i >> 16 & 0xff);
  const client = `10.${a}.${(i >> 8) & 0xff}.${i & 0xff}:${10000 + (i % 50000)}`;
  const server = `172.16.${i % 200}.1:${[80, 443, 8080][i % 3]}`;
  const c = new Conversation({ client, server, start, clientIsn: (i * 2654435761) >>> 0, serverIsn: (i * 40503 + 7) >>> 0 });
  const kind = i % 20;
  if (kind === 0) { // refused
    c.syn('c').segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: (c.sndNxt('c')) >>> 0 });
    return c;
  }
  c.handshake().data('c', 300);
  const segments = 40 + (i % 40);
  for (let k = 0; k < segments; k++) {
    c.data('s', 1448);
    if (k % 2 === 1) c.ack('c');
  }
  switch (kind) {
    case 1: c.activeRst('s'); break; // abort
    case 2: c.fin('s').ack('c').data('c', 200).statelessRst('s'); break; // reset-after-close
    case 3: c.data('c', 100).statelessRst('s'); break; // no-connection
    default: c.fin('c').fin('s').ack('c'); // normal close
  }
  return c;
}

async function writeCapture(file: string, targetBytes: number): Promise<{ packets: number; bytes: number; connections: number }> {
  const w = createPcapFileWriter(file, { linkType: 1 });
  let bytes = 24;
  let packets = 0;
  let i = 0;
  let t = 1_700_000_000;
  // Several connections interleaved, as on a real link.
  while (bytes < targetBytes) {
    const batch = Array.from({ length: 8 }, () => connection(i++, t));
    const frames = batch.flatMap((c) => c.frames);
    frames.sort((x, y) => x.tsSec - y.tsSec || x.tsNsec - y.tsNsec);
    for (const f of frames) {
      w.write(f.tsSec, f.tsNsec, f.data);
      bytes += 16 + f.data.length;
      packets++;
    }
    t += 0.05;
  }
  await w.close();
  return { packets, bytes, connections: i };
}

interface Timed { seconds: number; maxRssMb: number | null; code: number; usage: ChildUsage | null }

const childUsage = (): ChildUsage | null => parseChildUsage(readFileSync('/proc/self/stat', 'utf8'));

/** Run a command with stdout to /dev/null; peak RSS from /proc while it runs (VmHWM); its CPU time
 *  and minor faults from this process's children totals (one child at a time runs here). */
function timed(cmd: string, argv: string[]): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const before = childUsage();
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let hwm = 0;
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) hwm = Math.max(hwm, Number(m[1]));
      } catch { /* exited */ }
    }, 20);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const after = childUsage();
      const usage = before && after
        ? { cpuSeconds: after.cpuSeconds - before.cpuSeconds, minorFaults: after.minorFaults - before.minorFaults }
        : null;
      if (code !== 0 && !stderr.includes('truncated')) process.stderr.write(`${cmd}: exit ${code}: ${stderr.slice(0, 300)}\n`);
      resolve({ seconds, maxRssMb: hwm ? hwm / 1024 : null, code: code ?? -1, usage });
    });
  });
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
      const r = await timed(t.cmd, t.argv);
      if (r.code !== 0 && t.rstlab) {
        process.stderr.write('rstlab failed: no figures\n');
        process.exit(1);
      }
      all.get(t.name)!.push(r);
    }
  }
  const out = new Map<string, Figures>();
  for (const [name, rs] of all) {
    const secs = rs.map((r) => r.seconds);
    const rss = Math.max(...rs.map((r) => r.maxRssMb ?? 0));
    const usages = rs.flatMap((r) => (r.usage ? [r.usage] : []));
    const measured = usages.length === rs.length;
    out.set(name, {
      best: Math.min(...secs),
      median: median(secs),
      maxRssMb: rss || null,
      cpuSeconds: measured ? median(usages.map((u) => u.cpuSeconds)) : null,
      minorFaults: measured ? median(usages.map((u) => u.minorFaults)) : null,
    });
  }
  return out;
}

function fmt(n: number, digits = 1): string { return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }); }

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
  const tools: Tool[] = [{ name: 'rstlab explain --json', ...rstlabCommand(big) }];
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
  const smallRun = (await measure([{ name: 'small', ...rstlabCommand(small) }])).get('small')!;
  process.stdout.write(`\nrstlab peak RSS: ${fmt(smallRun.maxRssMb ?? 0, 0)} MiB on ${smallMb} MiB, ${fmt(rstlab.maxRssMb ?? 0, 0)} MiB on ${sizeMb} MiB\n`);
  const ratio = (name: string, digits: number) => {
    const r = figures.get(name);
    return r ? `${fmt(r.best / rstlab.best, digits)}× best, ${fmt(r.median / rstlab.median, digits)}× median` : 'skipped';
  };
  process.stdout.write(`targets: ≥ 10× tshark (${ratio('tshark -Y reset', 1)}), ≥ 0.5× tcpdump (${ratio('tcpdump (BPF: RST)', 2)})\n`);
  if (!keep) { await rm(big, { force: true }); await rm(small, { force: true }); }
}

await main();
