// The conn.log renderer: Zeek's header lines to the byte (and, when the shared corpus is there, the
// same as the conn.log files Zeek itself saved), rows that read back, column by column, to the
// reports they came from (scripted conversations written as pcap and explained), unset fields,
// IPv6 addresses, uids and dates.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { PcapWriter } from '../capture/writer.js';
import { explainCapture } from '../explain/index.js';
import type { ConnectionReport } from '../explain/index.js';
import { sharedCorpus } from '../paths.js';
import { Conversation } from '../tcp/index.js';
import { readZeekLog, skipOutsideCi } from '../testkit.js';
import { CONN_FIELDS, UID_DIGITS, zeekAddr, zeekDate, zeekFooter, zeekHeader, zeekRow, zeekUid } from './zeek.js';

/** Zeek's conn.log columns, in the order Zeek writes them. */
const ZEEK_CONN_FIELDS = ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'duration',
  'orig_bytes', 'resp_bytes', 'conn_state', 'local_orig', 'local_resp', 'missed_bytes', 'history', 'orig_pkts',
  'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes', 'tunnel_parents', 'ip_proto'];
const ZEEK_CONN_TYPES = ['time', 'string', 'addr', 'port', 'addr', 'port', 'enum', 'string', 'interval', 'count', 'count',
  'string', 'bool', 'bool', 'count', 'string', 'count', 'count', 'count', 'count', 'set[string]', 'count'];

async function reportsOf(...convs: Conversation[]): Promise<ConnectionReport[]> {
  const w = new PcapWriter({ linkType: convs[0].linkType });
  const frames = convs.flatMap((c) => c.frames).sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
  const pcap = Buffer.concat([w.header(), ...frames.map((f) => w.record(f.tsSec, f.tsNsec, f.data))]);
  return (await explainCapture(Readable.from([pcap]))).connections;
}

/** A row as zeek-cut sees it: column name → text. */
function rowOf(c: ConnectionReport): Record<string, string> {
  const log = readZeekLog(zeekHeader(c.start) + zeekRow(c) + zeekFooter(c.start));
  assert.equal(log.rows.length, 1);
  return log.rows[0];
}

test('header: the eight lines Zeek writes, with its field names and types, then rstlab\'s columns', () => {
  const lines = zeekHeader(1_329_327_777.822004).split('\n');
  assert.deepEqual(lines.slice(0, 6), [
    '#separator \\x09',
    '#set_separator\t,',
    '#empty_field\t(empty)',
    '#unset_field\t-',
    '#path\tconn',
    '#open\t2012-02-15-17-42-57',
  ]);
  assert.equal(lines[6], ['#fields', ...ZEEK_CONN_FIELDS, 'rst_cause', 'rst_frame', 'rst_sender'].join('\t'));
  assert.equal(lines[7], ['#types', ...ZEEK_CONN_TYPES, 'vector[string]', 'vector[count]', 'vector[string]'].join('\t'));
  assert.equal(lines[8], '', 'eight lines, each ending with a newline');
  assert.equal(lines.length, 9);
  assert.equal(zeekFooter(1_329_327_804.5), '#close\t2012-02-15-17-43-24\n');
  assert.deepEqual(CONN_FIELDS.map((f) => f.name), lines[6].split('\t').slice(1));
});

/** What Zeek's tests do to a log before saving it (testing/scripts/diff-remove-timestamps). */
const canonify = (log: string): string => log.replace(/[0-9]{10}\.[0-9]{2,8}/g, 'XXXXXXXXXX.XXXXXX')
  .replace(/^#(open|close).(19|20)..-..-..-..-..-..$/gm, '#$1 XXXX-XX-XX-XX-XX-XX');

const zeekCorpus = sharedCorpus('zeek-traces');
test('header and #close: the lines of the conn.log files Zeek saved (../shared/corpus/zeek-traces), once canonified as Zeek\'s tests do', { skip: skipOutsideCi(zeekCorpus ? false : 'the Zeek trace corpus is not there (../shared/corpus/zeek-traces)') }, () => {
  assert.ok(zeekCorpus, 'the Zeek trace corpus');
  const dir = path.join(zeekCorpus, 'baselines');
  const ours = canonify(zeekHeader(1_329_327_777.822004) + zeekFooter(1_329_327_804.5)).split('\n');
  const logs = readdirSync(dir).filter((f) => f.endsWith('conn.log')).map((f) => readFileSync(path.join(dir, f), 'utf8'));
  // Those with every conn.log column (some of Zeek's tests drop local_orig/local_resp, one adds L2 addresses).
  const full = logs.filter((l) => readZeekLog(l).fields.join(' ') === ZEEK_CONN_FIELDS.join(' '));
  assert.ok(full.length >= 30, `${full.length} baselines with Zeek's default columns`);
  for (const text of full) {
    const lines = text.split('\n');
    const from = lines.findIndex((l) => l.startsWith('#separator'));
    assert.deepEqual(ours.slice(0, 6), lines.slice(from, from + 6), '#separator … #open');
    assert.equal(ours[8], lines.find((l) => l.startsWith('#close')), '#close');
    const theirs = readZeekLog(text);
    assert.deepEqual(readZeekLog(ours.join('\n')).fields.slice(0, ZEEK_CONN_FIELDS.length), theirs.fields);
    assert.deepEqual(readZeekLog(ours.join('\n')).types.slice(0, ZEEK_CONN_TYPES.length), theirs.types);
  }
});

test('a row reads back, column by column, to its report; the RST columns list each RST in frame order', async () => {
  const conv = new Conversation({ client: '10.0.0.1:40000', server: '10.0.0.2:8080', start: 1_700_000_000.25 });
  conv.handshake().data('c', 100).wait(0.5).data('s', 250).wait(0.25).activeRst('s').wait(0.001).activeRst('c');
  const [c] = await reportsOf(conv);
  assert.equal(c.rsts.length, 2);
  const row = rowOf(c);
  assert.deepEqual(Object.keys(row), CONN_FIELDS.map((f) => f.name));
  assert.equal(Number(row.ts), Number(c.start.toFixed(6)));
  assert.match(row.ts, /^\d+\.\d{6}$/);
  assert.equal(row.uid, zeekUid(c.id));
  assert.deepEqual([row['id.orig_h'], row['id.orig_p'], row['id.resp_h'], row['id.resp_p']], ['10.0.0.1', '40000', '10.0.0.2', '8080']);
  assert.equal(row.proto, 'tcp');
  assert.match(row.duration, /^\d+\.\d{6}$/);
  assert.ok(Math.abs(Number(row.duration) - c.duration) <= 5e-7, `${row.duration} vs ${c.duration}`);
  assert.deepEqual([row.orig_bytes, row.resp_bytes].map(Number), [c.origBytes, c.respBytes]);
  assert.deepEqual([row.orig_bytes, row.resp_bytes], ['100', '250']);
  assert.equal(row.conn_state, c.connState);
  assert.equal(row.history, c.history);
  assert.deepEqual([row.orig_pkts, row.resp_pkts].map(Number), [c.origPackets, c.respPackets]);
  assert.equal(row.ip_proto, '6');
  assert.deepEqual(row.rst_cause.split(','), c.rsts.map((r) => r.cause));
  assert.deepEqual(row.rst_frame.split(',').map(Number), c.rsts.map((r) => r.frame));
  assert.deepEqual(row.rst_sender.split(','), ['resp', 'orig']);
  for (const unknown of ['service', 'local_orig', 'local_resp', 'missed_bytes', 'orig_ip_bytes', 'resp_ip_bytes', 'tunnel_parents']) {
    assert.equal(row[unknown], '-', `${unknown} is not known to rstlab: unset`);
  }
});

test('a connection of no duration (one SYN): duration, orig_bytes and resp_bytes unset as Zeek leaves them; no RST: RST columns unset', async () => {
  const [c] = await reportsOf(new Conversation({ client: '10.0.0.1:40000', server: '10.0.0.2:80' }).syn('c'));
  assert.equal(c.duration, 0);
  const row = rowOf(c);
  assert.deepEqual([row.duration, row.orig_bytes, row.resp_bytes], ['-', '-', '-']);
  assert.deepEqual([row.conn_state, row.history, row.orig_pkts, row.resp_pkts], ['S0', 'S', '1', '0']);
  assert.deepEqual([row.rst_cause, row.rst_frame, row.rst_sender], ['-', '-', '-']);
});

test('IPv6: bare addresses in id.orig_h and id.resp_h (no brackets); IPv4-mapped ones as IPv4, as Zeek holds them', async () => {
  const conv = new Conversation({ client: '[2001:db8:1234:5678::1]:50000', server: '[2001:db8:ffff:eeee::2]:443', version: 6 });
  conv.handshake().data('c', 10).activeRst('s');
  const [c] = await reportsOf(conv);
  assert.equal(c.orig, '[2001:db8:1234:5678::1]:50000');
  const row = rowOf(c);
  assert.deepEqual([row['id.orig_h'], row['id.orig_p'], row['id.resp_h'], row['id.resp_p']], ['2001:db8:1234:5678::1', '50000', '2001:db8:ffff:eeee::2', '443']);
  assert.equal(zeekAddr('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(zeekAddr('::ffff:c000:207'), '::ffff:c000:207', 'only the dotted form rstlab writes for a mapped address');
  assert.equal(zeekAddr('::1'), '::1');
});

test('uid: C + 17 base-62 digits of the connection id — the same on every run, one per id', () => {
  assert.equal(zeekUid(1), 'C00000000000000001');
  assert.equal(zeekUid(61), 'C0000000000000000z');
  assert.equal(zeekUid(62), 'C00000000000000010');
  assert.equal(zeekUid(Number.MAX_SAFE_INTEGER).length, 1 + UID_DIGITS);
  const uids = new Set(Array.from({ length: 5000 }, (_, i) => zeekUid(i * 7919 + 1)));
  assert.equal(uids.size, 5000);
  for (const u of uids) assert.match(u, /^C[0-9A-Za-z]{17}$/);
});

test('dates: Zeek\'s %Y-%m-%d-%H-%M-%S, in UTC, whole seconds; the epoch without a packet', () => {
  assert.equal(zeekDate(1_555_002_999.743662), '2019-04-11-17-16-39');
  assert.equal(zeekDate(1_700_000_000.999999), '2023-11-14-22-13-20');
  assert.equal(zeekDate(null), '1970-01-01-00-00-00');
});
