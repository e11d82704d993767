// The binary trace reader against the kernel's own text: pages of trace_pipe_raw recorded on this
// kernel with their format files (testdata/trace-raw/, README.md there says how), decoded, must be
// exactly what parseTraceLine makes of the same events' trace text; and the parts on their own
// (format files, %pI6c, the time merge).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { repoFile } from '../paths.js';
import { parseTraceLine } from './kernel-trace.js';
import type { KernelTraceEvent } from './kernel-trace.js';
import { formatIp6, FormatError, mergeByTime, parseEventFormat, parseFormats } from './trace-raw.js';

const dir = 'src/lab/testdata/trace-raw';
const file = (name: string) => readFileSync(repoFile(`${dir}/${name}`), 'utf8');
const formats = () => ({
  headerPage: file('header_page'), headerEvent: file('header_event'),
  send: file('tcp_send_reset.format'), receive: file('tcp_receive_reset.format'), print: file('print.format'),
});

test('trace_pipe_raw pages of this kernel decode to exactly the events its trace text gives (IPv4, IPv6, marks, both CPUs, time extends)', () => {
  const decoder = parseFormats(formats());
  assert.equal(decoder.pageSize, 4096);
  const saved = new Map(file('saved_cmdlines').trim().split('\n').map((l) => [Number(l.split(' ')[0]), l.slice(l.indexOf(' ') + 1)] as [number, string]));
  const comm = (pid: number) => saved.get(pid) ?? '<...>';
  const perCpu = [0, 1].map((cpu) => {
    const raw = readFileSync(repoFile(`${dir}/cpu${cpu}.raw`));
    const events: KernelTraceEvent[] = [];
    const ns: number[] = [];
    for (let o = 0; o < raw.length; o += decoder.pageSize) decoder.page(raw.subarray(o, o + decoder.pageSize), decoder.pageSize, cpu, comm, events, ns);
    assert.ok(ns.every((t, i) => i === 0 || t >= ns[i - 1]!), 'one CPU\'s events in time order');
    return { events, ns };
  });
  const decoded = mergeByTime(perCpu);
  const text = file('trace.txt').trim().split('\n').map(parseTraceLine);
  assert.ok(text.every((e) => e !== null));
  assert.equal(decoded.length, text.length);
  assert.deepEqual(decoded, text);
  // What the recording holds, so that the comparison above covers it.
  const kinds = decoded.map((e) => (e.kind === 'send' ? `send ${e.reason} ${e.state} ${e.src.startsWith('[') ? 6 : 4}` : e.kind === 'receive' ? `receive ${e.local.startsWith('[') ? 6 : 4}` : 'mark'));
  for (const k of ['mark', 'send NO_SOCKET UNKNOWN 4', 'send NO_SOCKET UNKNOWN 6', 'send TCP_ABORT_ON_CLOSE TCP_CLOSE 4', 'send TCP_ABORT_ON_CLOSE TCP_CLOSE 6', 'receive 4', 'receive 6']) assert.ok(kinds.includes(k), k);
  assert.deepEqual(new Set(decoded.flatMap((e) => (e.kind === 'mark' ? [] : [e.cpu]))), new Set([0, 1]));
  assert.ok(decoded.some((e) => e.kind !== 'mark' && e.inIrq) && decoded.some((e) => e.kind !== 'mark' && !e.inIrq));
  // Events 0.2 s apart on one CPU: beyond the 27-bit delta (134 ms), so the page has time extends.
  const gaps = perCpu.flatMap((c) => c.ns.slice(1).map((t, i) => t - c.ns[i]!));
  assert.ok(gaps.some((g) => g > 2 ** 27), 'a time extend was decoded');
});

test('a zeroed page and pages cut short decode to whole events only, without throwing', () => {
  const decoder = parseFormats(formats());
  const raw = readFileSync(repoFile(`${dir}/cpu1.raw`));
  const out: KernelTraceEvent[] = [];
  const ns: number[] = [];
  decoder.page(Buffer.alloc(4096), 4096, 0, () => 'x', out, ns);
  decoder.page(raw, 10, 0, () => 'x', out, ns);
  assert.deepEqual(out, []);
  decoder.page(raw, 200, 1, () => 'x', out, ns); // the first events only: whole ones, none torn
  assert.ok(out.length >= 1 && out.length < 6, String(out.length));
});

test('format files: fields by name with offset and size, __print_symbolic pairs, the zero text; what the decoder cannot read is a FormatError', () => {
  const send = parseEventFormat(file('tcp_send_reset.format'));
  assert.equal(send.id, Number(/^ID: (\d+)/m.exec(file('tcp_send_reset.format'))![1]));
  assert.deepEqual(send.fields.get('saddr'), { name: 'saddr', offset: 32, size: 28, signed: false });
  assert.deepEqual(send.fields.get('common_pid'), { name: 'common_pid', offset: 4, size: 4, signed: true });
  assert.equal(send.symbols.get('reason')!.get(11), 'TCP_ABORT_ON_CLOSE');
  assert.equal(send.symbolNames.get('state')!.get('TCP_CLOSE'), 'TCP_CLOSE');
  assert.equal(send.zero.get('state'), 'UNKNOWN');
  assert.equal(parseEventFormat(file('tcp_receive_reset.format')).symbols.get('family')!.get(10), 'AF_INET6');
  assert.deepEqual(parseEventFormat(file('print.format')).fields.get('buf'), { name: 'buf', offset: 16, size: 0, signed: false });
  const noReason = file('tcp_send_reset.format').replace(/\tfield:enum sk_rst_reason reason;.*\n/, '');
  assert.throws(() => parseFormats({ ...formats(), send: noReason }), FormatError);
  assert.throws(() => parseFormats({ ...formats(), headerEvent: 'type_len : 6 bits' }), FormatError);
});

test('IPv6 as the kernel\'s %pI6c prints it', () => {
  const b = (s: string) => {
    const words = s.split(':').map((w) => parseInt(w || '0', 16));
    const buf = Buffer.alloc(16);
    words.forEach((w, i) => buf.writeUInt16BE(w, 2 * i));
    return buf;
  };
  const cases: Array<[string, string]> = [
    ['0:0:0:0:0:0:0:1', '::1'], ['0:0:0:0:0:0:0:0', '::'], ['fd00:0:0:0:0:0:0:1', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['0:0:0:0:0:ffff:7f00:1', '::ffff:127.0.0.1'], ['fe80:0:0:0:0:5efe:a00:1', 'fe80::5efe:10.0.0.1'], ['fe80:0:0:0:0:0:0:0', 'fe80::'],
  ];
  for (const [words, want] of cases) assert.equal(formatIp6(b(words), 0), want, words);
});

test('mergeByTime: the earliest first across CPUs, a tie to the lower CPU', () => {
  const m = (text: string) => ({ kind: 'mark' as const, ts: 0, text });
  const merged = mergeByTime([{ events: [m('a1'), m('a5')], ns: [1, 5] }, { events: [m('b1'), m('b2'), m('b9')], ns: [1, 2, 9] }, { events: [], ns: [] }]);
  assert.deepEqual(merged.map((e) => (e.kind === 'mark' ? e.text : '')), ['a1', 'b1', 'b2', 'a5', 'b9']);
});
