// rstlab proxy benchmark: bulk throughput and added round-trip latency, side by side in one run,
// for a direct loopback connection (the limit), rstlab proxy (no toxics, its own process), and the
// conventional peers from Debian: socat, and haproxy in TCP mode with splice(2) (the kernel moves
// the bytes; no copy to user space); a peer that is not installed is left out. Prints figures and
// ratios; asserts nothing; a bad argument exits 2. Loopback only; every child is killed at the end.
// Targets from issue 5: >= 90% of direct throughput on bulk transfers, <= 50 us added median RTT.
// Run: node dist/bench/proxy-bench.js [MiB per transfer, default 512] [round trips, default 5000]
//      [--runs N, default 3: the paths take turns N times; each figure is the median]

import net from 'node:net';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';

const MiB = 1 << 20;
const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--runs');
const mib = Number(positional[0] ?? 512);
const trips = Number(positional[1] ?? 5000);
const runsAt = process.argv.indexOf('--runs');
const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 3;
for (const [name, v, text] of [['MiB per transfer', mib, positional[0]], ['round trips', trips, positional[1]], ['--runs', runs, process.argv[runsAt + 1]]] as const) {
  if (!Number.isInteger(v) || v < 1) {
    process.stderr.write(`proxy-bench: ${name} must be a whole number of at least 1, got ${JSON.stringify(text ?? '')}\nusage: node dist/bench/proxy-bench.js [MiB] [round trips] [--runs N]\n`);
    process.exit(2);
  }
}
const children: ChildProcess[] = [];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'rstlab-proxy-bench-'));

function listen(onConn: (s: net.Socket) => void): Promise<net.Server> {
  const srv = net.createServer(onConn);
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv)));
}
const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

/** Send `mib` MiB to port; the sink answers one byte when it has read everything. Returns MB/s. */
async function throughput(port: number): Promise<number> {
  const block = Buffer.alloc(MiB, 0x5a);
  const s = net.connect({ host: '127.0.0.1', port });
  s.setNoDelay(true);
  await new Promise((r) => s.once('connect', r));
  const t0 = performance.now();
  const done = new Promise((r) => s.once('data', r));
  for (let i = 0; i < mib; i++) if (!s.write(block)) await new Promise((r) => s.once('drain', r));
  await done;
  const secs = (performance.now() - t0) / 1000;
  s.destroy();
  return (mib * MiB) / 1e6 / secs;
}

/** Median round trip of a 1-byte ping-pong, in microseconds. */
async function rtt(port: number): Promise<number> {
  const s = net.connect({ host: '127.0.0.1', port });
  s.setNoDelay(true);
  await new Promise((r) => s.once('connect', r));
  const samples: number[] = [];
  for (let i = 0; i < trips; i++) {
    const t0 = process.hrtime.bigint();
    const got = new Promise((r) => s.once('data', r));
    s.write('p');
    await got;
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  s.destroy();
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

async function main(): Promise<void> {
  const total = mib * MiB;
  const sink = await listen((s) => {
    let n = 0;
    s.on('data', (b) => { n += b.length; if (n >= total) s.write('k'); });
    s.on('error', () => {});
  });
  const echo = await listen((s) => { s.setNoDelay(true); s.pipe(s); s.on('error', () => {}); });

  // rstlab proxy in its own process (the helper of scale.stress.test.ts serves the control API).
  const helper = fileURLToPath(new URL('../src/proxy/scale-helper.js', import.meta.url));
  const child = spawn(process.execPath, [helper, 'proxy'], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const api: string = await new Promise((r) => createInterface({ input: child.stdout! }).once('line', (l) => r(JSON.parse(l).url)));
  const mk = async (name: string, upstream: number) => {
    const res = await fetch(`${api}/proxies`, { method: 'POST', body: JSON.stringify({ name, upstream: `127.0.0.1:${upstream}` }) });
    const j = (await res.json()) as { listen: string };
    return Number(j.listen.split(':')[1]);
  };
  const rstlabSink = await mk('sink', portOf(sink));
  const rstlabEcho = await mk('echo', portOf(echo));

  const paths: Array<{ name: string; sink: number; echo: number }> = [
    { name: 'direct', sink: portOf(sink), echo: portOf(echo) },
    { name: 'rstlab proxy', sink: rstlabSink, echo: rstlabEcho },
  ];
  const free = async () => { const s = await listen(() => {}); const p = portOf(s); await new Promise((r) => s.close(r)); return p; };
  const accepting = async (port: number) => {
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((r) => { const c = net.connect({ host: '127.0.0.1', port }, () => { c.destroy(); r(true); }); c.on('error', () => r(false)); });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nothing accepts on 127.0.0.1:${port}`);
  };
  if (spawnSync('socat', ['-V']).status === 0) {
    const row = { name: 'socat', sink: 0, echo: 0 };
    for (const [key, target] of [['sink', portOf(sink)], ['echo', portOf(echo)]] as const) {
      const port = await free();
      children.push(spawn('socat', [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `TCP:127.0.0.1:${target},nodelay`], { stdio: 'ignore' }));
      row[key] = port;
      await accepting(port);
    }
    paths.push(row);
  } else {
    process.stdout.write('socat is not installed (apt-get install socat): its row is left out\n');
  }
  if (spawnSync('haproxy', ['-v']).status === 0) {
    const row = { name: 'haproxy splice', sink: await free(), echo: await free() };
    const cfg = path.join(tmp, 'haproxy.cfg');
    writeFileSync(cfg, [
      'global', '  nbthread 1', '  maxconn 1000',
      'defaults', '  mode tcp', '  timeout connect 5s', '  timeout client 60s', '  timeout server 60s',
      '  option splice-request', '  option splice-response',
      'listen sink', `  bind 127.0.0.1:${row.sink}`, `  server s 127.0.0.1:${portOf(sink)}`,
      'listen echo', `  bind 127.0.0.1:${row.echo}`, `  server e 127.0.0.1:${portOf(echo)}`,
      '',
    ].join('\n'));
    children.push(spawn('haproxy', ['-f', cfg, '-db'], { stdio: 'ignore' }));
    await accepting(row.sink);
    await accepting(row.echo);
    paths.push(row);
  } else {
    process.stdout.write('haproxy is not installed (apt-get install haproxy): its row is left out\n');
  }

  process.stdout.write(`rstlab proxy bench: ${mib} MiB bulk transfer, ${trips} 1-byte round trips, loopback, ${runs} run${runs === 1 ? '' : 's'} (medians), ${os.availableParallelism()} cores\n`);
  const mbps = new Map<string, number[]>();
  const rtts = new Map<string, number[]>();
  for (const p of paths) {
    await throughput(p.sink); // warm-up
    await rtt(p.echo);
  }
  for (let run = 0; run < runs; run++) {
    for (const p of paths) {
      (mbps.get(p.name) ?? mbps.set(p.name, []).get(p.name)!).push(await throughput(p.sink));
      (rtts.get(p.name) ?? rtts.set(p.name, []).get(p.name)!).push(await rtt(p.echo));
    }
  }
  const results = paths.map((p) => ({ name: p.name, mbps: median(mbps.get(p.name)!), rttUs: median(rtts.get(p.name)!) }));
  const direct = results[0];
  process.stdout.write('path            throughput MB/s  vs direct   median RTT us  added us\n');
  for (const r of results) {
    process.stdout.write(`${r.name.padEnd(16)}${r.mbps.toFixed(0).padStart(15)}  ${((r.mbps / direct.mbps) * 100).toFixed(1).padStart(8)}%  ${r.rttUs.toFixed(1).padStart(13)}  ${(r.rttUs - direct.rttUs).toFixed(1).padStart(8)}\n`);
  }
  const ours = results[1];
  process.stdout.write(`targets: throughput >= 90% of direct: ${((ours.mbps / direct.mbps) * 100).toFixed(1)}%; added median RTT <= 50 us: ${(ours.rttUs - direct.rttUs).toFixed(1)} us\n`);
  sink.close();
  echo.close();
}

main().finally(() => { for (const c of children) { c.stdin?.end(); c.kill('SIGTERM'); } rmSync(tmp, { recursive: true, force: true }); }).catch((e) => {
  process.stderr.write(`proxy-bench: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
