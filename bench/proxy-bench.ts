// rstlab proxy benchmark: bulk throughput and added round-trip latency, side by side in one run,
// for a direct loopback connection (the limit), rstlab proxy (no toxics, its own process) and
// socat (Debian's, the conventional peer). Prints figures and ratios; asserts nothing.
// Targets from issue 5: >= 90% of direct throughput on bulk transfers, <= 50 us added median RTT.
// Run: node dist/bench/proxy-bench.js [MiB per transfer, default 512] [round trips, default 5000]

import net from 'node:net';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MiB = 1 << 20;
const mib = Number(process.argv[2] ?? 512);
const trips = Number(process.argv[3] ?? 5000);
const children: ChildProcess[] = [];

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

  // rstlab proxy in its own process (the helper of scale.test.ts serves the control API).
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
  if (spawnSync('socat', ['-V']).status === 0) {
    const free = async () => { const s = await listen(() => {}); const p = portOf(s); await new Promise((r) => s.close(r)); return p; };
    for (const [key, target] of [['sink', portOf(sink)], ['echo', portOf(echo)]] as const) {
      const port = await free();
      const c = spawn('socat', [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `TCP:127.0.0.1:${target},nodelay`], { stdio: 'ignore' });
      children.push(c);
      (paths[2] ??= { name: 'socat', sink: 0, echo: 0 })[key] = port;
    }
    await new Promise((r) => setTimeout(r, 300));
  } else {
    process.stdout.write('socat is not installed (apt-get install socat): its row is left out\n');
  }

  process.stdout.write(`rstlab proxy bench: ${mib} MiB bulk transfer, ${trips} 1-byte round trips, loopback\n`);
  const results: Array<{ name: string; mbps: number; rttUs: number }> = [];
  for (const p of paths) {
    await throughput(p.sink); // warm-up
    const mbps = await throughput(p.sink);
    await rtt(p.echo);
    const rttUs = await rtt(p.echo);
    results.push({ name: p.name, mbps, rttUs });
  }
  const direct = results[0];
  process.stdout.write('path           throughput MB/s  vs direct   median RTT us  added us\n');
  for (const r of results) {
    process.stdout.write(`${r.name.padEnd(15)}${r.mbps.toFixed(0).padStart(15)}  ${((r.mbps / direct.mbps) * 100).toFixed(1).padStart(8)}%  ${r.rttUs.toFixed(1).padStart(13)}  ${(r.rttUs - direct.rttUs).toFixed(1).padStart(8)}\n`);
  }
  const ours = results[1];
  process.stdout.write(`targets: throughput >= 90% of direct: ${((ours.mbps / direct.mbps) * 100).toFixed(1)}%; added median RTT <= 50 us: ${(ours.rttUs - direct.rttUs).toFixed(1)} us\n`);
  sink.close();
  echo.close();
}

main().finally(() => { for (const c of children) { c.stdin?.end(); c.kill('SIGTERM'); } }).catch((e) => {
  process.stderr.write(`proxy-bench: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
