// `rstlab explain --format zeek` as a pipeline runs it: the real command on real captures (the
// fixtures, and Zeek's own test traces when the shared corpus is there), read back the way zeek-cut
// reads a log (columns by the #fields line); the whole output of two fixtures against saved files
// (src/report/testdata/zeek/, RSTLAB_UPDATE=1 rewrites them); rows streamed as connections finish.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PcapWriter } from '../capture/writer.js';
import { repoFile, sharedCorpus } from '../paths.js';
import { zeekDate } from '../report/zeek.js';
import { Conversation } from '../tcp/index.js';
import { readZeekLog, skipOutsideCi } from '../testkit.js';
import { TcpFlag } from '../wire/types.js';

const bin = repoFile('bin/rstlab.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'rstlab-zeek-'));
const goldenDir = repoFile('src/report/testdata/zeek');
const update = process.env.RSTLAB_UPDATE === '1';
/** Several connections, normal and refused, finishing out of their first-frame order. */
const bgp = repoFile('fixtures/tcpdump-subset/bgp-4byte-asn.pcap');

function rstlab(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, NO_COLOR: '1' } });
}

function zeekOf(file: string) {
  const r = rstlab(['explain', '--format', 'zeek', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return { text: r.stdout, log: readZeekLog(r.stdout) };
}

const endpoint = (row: Record<string, string>, side: 'orig' | 'resp') => {
  const h = row[`id.${side}_h`];
  return `${h.includes(':') ? `[${h}]` : h}:${row[`id.${side}_p`]}`;
};

test('--format zeek: a row for every connection, normal ones too, with the values of --json --all, in the same order; dated by the capture', () => {
  const { text, log } = zeekOf(bgp);
  const records = rstlab(['explain', '--json', '--all', bgp]).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const conns = records.filter((x) => x.type === 'connection');
  assert.ok(conns.length >= 6 && conns.some((c) => c.abnormal === false), 'normal connections are in the capture');
  assert.equal(log.rows.length, conns.length);
  log.rows.forEach((row, i) => {
    const c = conns[i];
    const rsts = records.filter((x) => x.type === 'rst' && x.connection === c.id);
    assert.deepEqual(
      [endpoint(row, 'orig'), endpoint(row, 'resp'), row.conn_state, row.history, Number(row.orig_pkts), Number(row.resp_pkts), row.ts],
      [c.orig, c.resp, c.conn_state, c.history, c.orig_pkts, c.resp_pkts, (c.ts as number).toFixed(6)]);
    assert.equal(row.rst_frame, rsts.length ? rsts.map((r) => r.frame).join(',') : '-');
    assert.equal(row.rst_cause, rsts.length ? rsts.map((r) => r.cause).join(',') : '-');
  });
  const first = Math.min(...conns.map((c) => c.ts as number));
  assert.equal(log.headers.get('open'), zeekDate(first), 'the first packet (a TCP one here)');
  assert.match(text, /\n#close\t\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\n$/, '#close is the last line');
  assert.equal(text, rstlab(['explain', '--format', 'zeek', bgp]).stdout, 'the same bytes on every run');
});

for (const file of [bgp, repoFile('fixtures/captures/client-closes-early--node-net.pcap')]) {
  test(`golden: --format zeek ${path.basename(file)}`, () => {
    const { text } = zeekOf(file);
    const expected = path.join(goldenDir, `${path.basename(file)}.conn.log`);
    if (update || !existsSync(expected)) {
      if (!update) assert.fail(`${expected} is missing: run the tests with RSTLAB_UPDATE=1 to create it`);
      mkdirSync(goldenDir, { recursive: true });
      writeFileSync(expected, text);
      return;
    }
    assert.equal(text, readFileSync(expected, 'utf8'));
  });
}

test('an IPv6 capture (fixtures/tcpdump-subset/bigtcp-ipv6-hbh.pcap): bare IPv6 addresses, a one-packet connection with duration and bytes unset', () => {
  const { log } = zeekOf(repoFile('fixtures/tcpdump-subset/bigtcp-ipv6-hbh.pcap'));
  assert.equal(log.rows.length, 1);
  const [row] = log.rows;
  assert.deepEqual([row['id.orig_h'], row['id.orig_p'], row['id.resp_h'], row['id.resp_p']], ['2604:1380:4091:ce00::d', '41851', '2604:1380:4091:ce00::b', '43913']);
  assert.deepEqual([row.duration, row.orig_bytes, row.resp_bytes, row.orig_pkts, row.resp_pkts], ['-', '-', '-', '1', '0']);
});

test('--format json is --json and --format text is the default: the same bytes', () => {
  const file = repoFile('fixtures/captures/refused--node-net.pcap');
  assert.equal(rstlab(['explain', '--format', 'json', file]).stdout, rstlab(['explain', '--json', file]).stdout);
  assert.equal(rstlab(['explain', '--json', '--format', 'json', file]).stdout, rstlab(['explain', '--json', file]).stdout);
  assert.equal(rstlab(['explain', '--format', 'text', '--all', file]).stdout, rstlab(['explain', '--all', file]).stdout);
});

test('--format zeek --html FILE: the conn.log on standard output, the HTML report written (its connections as without --format)', () => {
  const page = path.join(dir, 'report.html');
  const r = rstlab(['explain', '--format', 'zeek', '--html', page, bgp]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, zeekOf(bgp).text);
  assert.equal(r.stderr, `rstlab: wrote ${page}\n`);
  const withZeek = readFileSync(page, 'utf8');
  assert.equal(rstlab(['explain', '--html', page, bgp]).status, 0);
  assert.equal(withZeek, readFileSync(page, 'utf8'));
});

test('a capture cut off: its rows and #close, then the error and exit 2; a capture without packets: the header and #close, dated at the epoch', () => {
  const whole = readFileSync(repoFile('fixtures/captures/client-closes-early--node-net.pcap'));
  const cut = path.join(dir, 'cut.pcap');
  writeFileSync(cut, whole.subarray(0, whole.length - 20));
  const r = rstlab(['explain', '--format', 'zeek', cut]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^rstlab: capture cut off/);
  assert.equal(readZeekLog(r.stdout).rows.length, 1);
  assert.match(r.stdout, /\n#close\t[-\d]+\n$/);
  const empty = path.join(dir, 'empty.pcap');
  writeFileSync(empty, new PcapWriter({ linkType: 1 }).header());
  const e = rstlab(['explain', '--format', 'zeek', empty]);
  assert.equal(e.status, 0, e.stderr);
  const log = readZeekLog(e.stdout);
  assert.deepEqual([log.rows.length, log.headers.get('open'), log.headers.get('close')], [0, '1970-01-01-00-00-00', '1970-01-01-00-00-00']);
});

test('rows are written as connections finish, before the input ends (a live capture on stdin)', async () => {
  const w = new PcapWriter({ linkType: 1 });
  const refused = new Conversation({ client: '10.0.0.1:40000', server: '10.0.0.2:80', start: 1_700_000_000 });
  refused.syn('c').segment('s', TcpFlag.RST | TcpFlag.ACK, 0, { seqNumber: 0, ackNumber: refused.sndNxt('c') });
  // 10 s of capture time later: the refused connection is past its 5 s linger, and is reported.
  const later = new Conversation({ client: '10.0.0.1:40001', server: '10.0.0.2:80', start: 1_700_000_010 }).syn('c');
  const child = spawn(process.execPath, [bin, 'explain', '--format', 'zeek', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  const firstRow = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no row before the input ended; output so far: ${JSON.stringify(out)}`)), 10_000);
    child.stdout.on('data', (s: string) => {
      out += s;
      if (/\n[^#][^\n]*\n/.test(out)) { clearTimeout(timer); resolve(out); }
    });
  });
  child.stdin.write(Buffer.concat([w.header(), ...[...refused.frames, ...later.frames].map((f) => w.record(f.tsSec, f.tsNsec, f.data))]));
  const early = await firstRow;
  assert.equal(readZeekLog(early).rows[0]?.conn_state, 'REJ');
  assert.doesNotMatch(early, /#close/);
  child.stdin.end();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0);
  const log = readZeekLog(out);
  assert.deepEqual(log.rows.map((r) => r.conn_state), ['REJ', 'S0']);
  assert.match(out, /#close\t2023-11-14-22-13-30\n$/, 'dated by the latest packet');
});

// Zeek's own test traces with the conn.log Zeek saved for each (../shared/corpus/zeek-traces; the
// whole comparison, row by row, is src/explain/zeek-baselines.test.ts). On the two FTP traces
// below every row also agrees on orig_bytes/resp_bytes, conn_state and history (11 of 11); durations
// differ (Zeek leaves out trailing packets that carry no new data, such as the final ACK). Asserted:
// the 4-tuples and the packet counts.
const zeekCorpus = sharedCorpus('zeek-traces');
const ZEEK_PAIRS = [
  ['ftp__ipv6.pcap', 'scripts.base.protocols.ftp.ftp-ipv6__conn.log'],
  ['ftp__ipv4.pcap', 'scripts.base.protocols.ftp.ftp-ipv4__conn.log'],
] as const;
for (const [trace, baseline] of ZEEK_PAIRS) {
  test(`Zeek's trace ${trace}: the connections (4-tuples) and packet counts of Zeek's own conn.log`, { skip: skipOutsideCi(zeekCorpus ? false : 'the Zeek trace corpus is not there (../shared/corpus/zeek-traces)') }, () => {
    assert.ok(zeekCorpus, 'the Zeek trace corpus');
    const ours = zeekOf(path.join(zeekCorpus, 'traces', trace)).log.rows;
    const theirs = readZeekLog(readFileSync(path.join(zeekCorpus, 'baselines', baseline), 'utf8')).rows.filter((r) => r.proto === 'tcp');
    const key = (r: Record<string, string>) => ['id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'orig_pkts', 'resp_pkts'].map((f) => r[f]).join(' ');
    assert.ok(theirs.length >= 5);
    assert.deepEqual(ours.map(key).sort(), theirs.map(key).sort());
  });
}

test('--verify-checksums: as zeek without -C, packets with bad checksums count only as C/c, and Zeek\'s rows follow (chksums/localhost-bad-chksum.pcap)', { skip: skipOutsideCi(zeekCorpus ? false : 'the Zeek trace corpus is not there (../shared/corpus/zeek-traces)') }, () => {
  assert.ok(zeekCorpus, 'the Zeek trace corpus');
  const trace = path.join(zeekCorpus, 'traces', 'chksums__localhost-bad-chksum.pcap');
  // Without it (as zeek -C): the client's offloaded checksums are ignored, one whole connection.
  assert.deepEqual(zeekOf(trace).log.rows.map((r) => [r.conn_state, r.history, r.orig_pkts]), [['SF', 'ShADadFf', '6']]);
  const r = rstlab(['explain', '--format', 'zeek', '--verify-checksums', trace]);
  assert.equal(r.status, 0, r.stderr);
  // Zeek's conn-failed.log: the SYN dropped (C, OTH), then the SYN-ACK starts a connection of its own.
  assert.deepEqual(readZeekLog(r.stdout).rows.map((x) => [x.conn_state, x.history, x.orig_pkts]), [['OTH', 'C', '0'], ['SHR', '^hCadf', '0']]);
  const text = rstlab(['explain', '--all', '--verify-checksums', trace]);
  assert.match(text.stdout, /anomalies: bad-tcp-checksum ×6 \(first: frame 1\)/);
});
