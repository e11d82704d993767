// `rstlab explain` as a user runs it: the real binary on real captures (made here with the pcap
// writer from scripted conversations), stdin, gzip, --json records, and every kind of bad input
// answered by one clear line and exit code 2 — never a stack trace.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { PcapWriter } from '../capture/writer.js';
import { repoFile } from '../paths.js';
import { Conversation } from '../tcp/index.js';
import { TcpFlag } from '../wire/types.js';

const bin = repoFile('bin/rstlab.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'rstlab-cli-'));

function rstlab(args: string[], input?: Buffer) {
  return spawnSync(process.execPath, [bin, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, NO_COLOR: '1' } });
}

function capture(): Buffer {
  const conv = new Conversation({ client: '10.0.0.1:40000', server: '10.0.0.2:80' });
  conv.syn('c').segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: conv.sndNxt('c') });
  const ok = new Conversation({ client: '10.0.0.1:40001', server: '10.0.0.2:81', start: 1_700_000_001 });
  ok.handshake().data('c', 10).fin('c').fin('s').ack('c');
  const w = new PcapWriter({ linkType: conv.linkType });
  return Buffer.concat([w.header(), ...[...conv.frames, ...ok.frames].map((f) => w.record(f.tsSec, f.tsNsec, f.data))]);
}

const good = path.join(dir, 'good.pcap');
writeFileSync(good, capture());

test('text report: the abnormal connection, its RST with cause and evidence, and a summary', () => {
  const r = rstlab(['explain', good]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /#1 {2}10\.0\.0\.1:40000 → 10\.0\.0\.2:80 {2}REJ/);
  assert.match(r.stdout, /frame 2 .* RST 10\.0\.0\.2:80 → 10\.0\.0\.1:40000 {2}refused \(high\)/);
  assert.doesNotMatch(r.stdout, /40001/, 'normal connections only with --all');
  assert.match(r.stdout, /summary: 9 packets \(9 TCP\), 2 connections, 1 RST — refused 1/);
  assert.match(rstlab(['explain', '--all', good]).stdout, /#2 {2}10\.0\.0\.1:40001 → 10\.0\.0\.2:81 {2}SF/);
});

test('--json: newline-delimited connection, rst and summary records', () => {
  const r = rstlab(['explain', '--json', '--all', good]);
  assert.equal(r.status, 0, r.stderr);
  const records = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(records.map((x) => x.type), ['connection', 'rst', 'connection', 'summary']);
  const [conn, rst] = records;
  assert.equal(conn!.orig, '10.0.0.1:40000');
  assert.equal(conn!.resp, '10.0.0.2:80');
  assert.equal(conn!.history, 'Sr');
  assert.equal(conn!.conn_state, 'REJ');
  assert.equal(rst!.frame, 2);
  assert.equal(rst!.connection, conn!.id);
  assert.equal(rst!.from, '10.0.0.2:80');
  assert.equal(rst!.cause, 'refused');
  assert.equal(rst!.confidence, 'high');
  assert.ok(Array.isArray(rst!.evidence) && (rst!.evidence as string[]).length > 0);
});

test('stdin, gzip-compressed', () => {
  const r = rstlab(['explain', '--json', '-'], gzipSync(capture()));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /"cause":"refused"/);
});

test('bad input: one clear line each, exit 2, no stack trace', () => {
  const truncated = path.join(dir, 'cut.pcap');
  writeFileSync(truncated, capture().subarray(0, 200));
  const text = path.join(dir, 'text.pcap');
  writeFileSync(text, 'tcpdump: listening on eth0\n12:00:00 IP 10.0.0.1 > 10.0.0.2: Flags [R]\n');
  const cases: Array<[string[], RegExp, Buffer?]> = [
    [['explain', path.join(dir, 'missing.pcap')], /no such file/],
    [['explain', dir], /is a directory/],
    [['explain', text], /not a pcap or pcapng capture.*byte offset 0/],
    [['explain', truncated], /cut off.*byte offset \d+/],
    [['explain', '-'], /empty/, Buffer.alloc(0)],
    [['explain'], /missing required argument/],
    [['explain', '--frobnicate', good], /unknown option/],
    [['explain', '--format', 'xml', good], /^rstlab: --format takes text, json or zeek, got "xml"\n/],
    [['explain', '--format'], /argument missing/],
    [['explain', '--json', '--format', 'zeek', good], /--json is short for --format json; it does not go with --format zeek/],
    [['explain', '--format', 'zeek', '--ladder', good], /--ladder draws its diagrams in the text output; it does not go with --format zeek/],
    [['nonsense'], /unknown command/],
  ];
  for (const [args, message, input] of cases) {
    const r = rstlab(args, input);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${args.join(' ')}: no stack trace`);
  }
  // The packets before the damage are still explained.
  assert.match(rstlab(['explain', truncated]).stdout, /refused/);
});

test('the rstlab command runs without NODE_EXTRA_CA_CERTS, which Node would load before any script', () => {
  const env = { ...process.env, NO_COLOR: '1', NODE_EXTRA_CA_CERTS: path.join(dir, 'no-such-bundle.pem') };
  // As a user runs it (the first line of bin/rstlab.js drops the variable): no attempt to load it.
  const r = spawnSync(bin, ['explain', good], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /extra certs/);
  assert.match(r.stdout, /summary: /);
  // Through `node bin/rstlab.js` the first line is skipped, and Node does try to load it.
  const viaNode = spawnSync(process.execPath, [bin, 'explain', good], { encoding: 'utf8', env });
  assert.match(viaNode.stderr, /Ignoring extra certs from/);
});

test('the build bundles the command with a code cache V8 takes (bin/rstlab.js runs it), and the bundle answers as the modules do', async () => {
  const bundle = repoFile('dist/src/cli/rstlab.bundle.cjs');
  const cache = repoFile('dist/src/cli/rstlab.bundle.cache');
  const entry = repoFile('dist/src/cli/main.js');
  assert.ok(statSync(bundle).mtimeMs >= statSync(entry).mtimeMs, 'npm run build writes the bundle after tsc');
  assert.ok(statSync(cache).mtimeMs >= statSync(bundle).mtimeMs, 'and the code cache after the bundle');
  // bin/load.js, as bin/rstlab.js uses it: in a process with the node flags of its first line, V8
  // takes the cache.
  const loader = pathToFileURL(repoFile('bin/load.js')).href;
  const { commandNodeFlags } = (await import(loader)) as { commandNodeFlags: () => string[] };
  assert.deepEqual(commandNodeFlags(), ['--max-semi-space-size=8']);
  const probe = spawnSync(process.execPath, [...commandNodeFlags(), '--input-type=module', '-e',
    `const { loadCommand } = await import(${JSON.stringify(loader)}); const a = await loadCommand(); const b = await loadCommand({ codeCache: false });
     process.stdout.write(JSON.stringify([a.script.cachedDataRejected, b.script.cachedDataRejected ?? null, typeof a.main]));`], { encoding: 'utf8' });
  assert.equal(probe.status, 0, probe.stderr);
  assert.deepEqual(JSON.parse(probe.stdout), [false, null, 'function']);
  const fromModules = (args: string[]) => spawnSync(process.execPath, ['--input-type=module', '-e',
    `import(${JSON.stringify(pathToFileURL(entry).href)}).then((m) => m.main(['node', 'rstlab', ...process.argv.slice(1)])).then((c) => { process.exitCode = c; })`,
    ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const gz = path.join(dir, 'good.pcap.gz');
  writeFileSync(gz, gzipSync(readFileSync(good))); // node:zlib, imported on demand
  for (const args of [['explain', '--json', '--all', good], ['explain', '--format', 'zeek', good], ['explain', good], ['explain', gz], ['explain', path.join(dir, 'missing.pcap')], ['explain', '--bogus'], ['why', 'socket hang up']]) {
    const a = rstlab(args);
    const b = fromModules(args);
    assert.deepEqual([a.status, a.stdout, a.stderr], [b.status, b.stdout, b.stderr], args.join(' '));
  }
});

test('text report of more abnormal connections than the reorder window: every one once, in first-frame order except those that outlive the window', () => {
  // A long connection opens first and is reset at the end; 3,000 refused SYNs over 4½ minutes of
  // capture time (less than Zeek's 5-minute inactivity timeout, after which the RST would start a
  // connection of its own) are finalized while the capture is read, so the long one outlives the window.
  const w = new PcapWriter({ linkType: 1 });
  const t0 = 1_700_000_000;
  const long = new Conversation({ client: '10.9.0.1:50000', server: '10.9.0.2:22', start: t0 });
  long.handshake();
  const records: Uint8Array[] = [w.header(), ...long.frames.map((f) => w.record(f.tsSec, f.tsNsec, f.data))];
  const N = 3000;
  for (let i = 0; i < N; i++) {
    const c = new Conversation({ client: `10.8.${i >> 8}.${i & 0xff}:40000`, server: '10.9.0.2:80', start: t0 + 1 + i * 0.09 });
    c.syn('c').segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: c.sndNxt('c') });
    records.push(...c.frames.map((f) => w.record(f.tsSec, f.tsNsec, f.data)));
  }
  const tail = new Conversation({ client: '10.9.0.1:50000', server: '10.9.0.2:22', start: t0 + 1 + N * 0.09, clientIsn: 1000, serverIsn: 5000 });
  tail.segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 5001, ackNumber: 1001 });
  records.push(...tail.frames.map((f) => w.record(f.tsSec, f.tsNsec, f.data)));
  const file = path.join(dir, 'many.pcap');
  writeFileSync(file, Buffer.concat(records));
  const r = rstlab(['explain', '--group', '0', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.startsWith(`${file}: pcap\n\n`), r.stdout.slice(0, 200));
  const ids = [...r.stdout.matchAll(/^#(\d+) /gm)].map((m) => Number(m[1]));
  assert.equal(ids.length, N + 1);
  assert.deepEqual([...ids].sort((x, y) => x - y), Array.from({ length: N + 1 }, (_, i) => i + 1), 'each connection once');
  assert.deepEqual(ids.filter((id) => id !== 1), Array.from({ length: N }, (_, i) => i + 2), 'the refused ones, in order');
  // The long one is reported at its end: after the refused ones the window had to let out, before
  // those still waiting in it.
  const at = ids.indexOf(1);
  assert.ok(at > 0 && at <= N - 2000, `the long connection printed at position ${at}`);
  assert.match(r.stdout, /summary: 6,00\d packets .* 3,001 connections, 3,001 RSTs/);
});

test('text and HTML reports of a port scan: the first RSTs of the pattern are listed, the rest counted in one block', () => {
  const w = new PcapWriter({ linkType: 1 });
  const records: Uint8Array[] = [w.header()];
  const N = 600;
  for (let i = 0; i < N; i++) {
    const c = new Conversation({ client: `192.0.2.66:${40000 + i}`, server: `198.51.100.${1 + (i % 3)}:${1 + i}`, start: 1_700_000_000 + i * 0.001 });
    c.syn('c').segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: c.sndNxt('c') });
    records.push(...c.frames.map((f) => w.record(f.tsSec, f.tsNsec, f.data)));
  }
  const file = path.join(dir, 'scan.pcap');
  writeFileSync(file, Buffer.concat(records));
  const r = rstlab(['explain', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual([...r.stdout.matchAll(/^#(\d+) /gm)].map((m) => Number(m[1])), Array.from({ length: 10 }, (_, i) => i + 1));
  assert.match(r.stdout, /patterns \(the first 10 of each are listed above; --group 0 lists them all\)\n {2}590 more refused RSTs to 192\.0\.2\.66, from 3 hosts on 590 ports — a port scan\n {4}frames 21–1,200; e\.g\. #11, #12, #13/);
  assert.match(r.stdout, /summary: 1,200 packets .* 600 connections, 600 RSTs — refused 600/);
  const all = rstlab(['explain', '--group', '0', file]);
  assert.equal([...all.stdout.matchAll(/^#\d+ /gm)].length, N);
  assert.doesNotMatch(all.stdout, /patterns/);
  assert.equal(rstlab(['explain', '--json', file]).stdout.split('\n').filter((l) => l.includes('"type":"rst"')).length, N, '--json keeps every record');
  // The HTML report groups the same way: the first 10 listed, the rest one row of the pattern table.
  const page = path.join(dir, 'scan.html');
  const withHtml = rstlab(['explain', '--html', page, file]);
  assert.equal(withHtml.status, 0, withHtml.stderr);
  const html = readFileSync(page, 'utf8');
  assert.equal((html.match(/<details class="run" id="conn-/g) ?? []).length, 10, 'the HTML lists the first 10');
  assert.match(html, /<tr data-pattern-cause="refused" data-pattern-role="receiver">.*590 more refused RSTs to 192\.0\.2\.66, from 3 hosts on 590 ports — <strong>a port scan<\/strong>/);
  assert.doesNotMatch(html, /more connection\(s\) not shown/);
  const htmlAll = rstlab(['explain', '--json', '--group', '0', '--html', page, file]);
  assert.equal(htmlAll.stdout.split('\n').filter((l) => l.includes('"type":"rst"')).length, N);
  assert.match(readFileSync(page, 'utf8'), /400 more connection\(s\) not shown/, '--group 0: the page lists its first 200');
  const bad = rstlab(['explain', '--group', 'many', file]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^rstlab: --group takes a whole number \(0 or more\), got "many"\n/);
});

test('a scan of a host that rate-limits its RSTs: the unanswered SYNs grouped as the refused ones are, and the limit in the text, JSON and HTML summaries', () => {
  // 192.0.2.10 answers at most 200 SYNs a second (FreeBSD's icmplim) while the scan changes speed.
  const w = new PcapWriter({ linkType: 1 });
  const records: Uint8Array[] = [w.header()];
  let port = 1;
  [300, 500, 400, 650, 350].forEach((n, second) => {
    for (let i = 0; i < n; i++) {
      const c = new Conversation({ client: '198.51.100.7:40000', server: `192.0.2.10:${port++}`, start: 1_700_000_000 + second + (i + 0.5) / n });
      c.syn('c');
      if (i < 200) c.segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: c.sndNxt('c') });
      records.push(...c.frames.map((f) => w.record(f.tsSec, f.tsNsec, f.data)));
    }
  });
  const file = path.join(dir, 'rate-limited.pcap');
  writeFileSync(file, Buffer.concat(records));
  const r = rstlab(['explain', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal([...r.stdout.matchAll(/^#\d+ /gm)].length, 20, 'the first 10 refused and the first 10 unanswered');
  assert.match(r.stdout, /\n {2}1,190 more unanswered SYNs from 198\.51\.100\.7 to 1 host, on 1,190 ports — a port scan \(ports filtered, hosts absent, or RSTs rate-limited\)\n/);
  assert.match(r.stdout, /\n {2}990 more refused RSTs to 198\.51\.100\.7, from 1 host on 990 ports — a port scan\n/);
  assert.match(r.stdout, /\nrate-limited RSTs: 192\.0\.2\.10 answered SYNs to closed ports with 200 RSTs a second in each of 5 seconds while the SYNs it got went from 300 to 650 a second, and left 1,200 unanswered/);
  const summary = JSON.parse(rstlab(['explain', '--json', file]).stdout.trim().split('\n').at(-1)!);
  assert.deepEqual(summary.rate_limited, [{ host: '192.0.2.10', per_second: 200, seconds: 5, answered: 1000, unanswered: 1200, syns_min: 300, syns_max: 650 }]);
  const page = path.join(dir, 'rate-limited.html');
  assert.equal(rstlab(['explain', '--html', page, file]).status, 0);
  const html = readFileSync(page, 'utf8');
  assert.match(html, /<p class="rate-limited"><strong>Rate-limited RSTs<\/strong>: 192\.0\.2\.10 answered/);
  assert.match(html, /<tr data-pattern-cause="unanswered" data-pattern-role="sender">/);
});
