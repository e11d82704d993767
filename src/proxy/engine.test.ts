// The fault engine, step by step, without sockets: events in, commands out.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionEngine } from './engine.js';
import { parseToxicCreate } from './toxics.js';
import type { Command, ToxicJson } from './types.js';

const toxic = (body: Record<string, unknown>): ToxicJson => parseToxicCreate(body, () => false);
const bytes = (s: string) => Buffer.from(s);

/** Open a connection (accepted + connected at t=0) and return the engine. */
function open(toxics: ToxicJson[] = [], random = () => 0.5): { e: ConnectionEngine; first: Command[] } {
  const e = new ConnectionEngine(toxics, { random });
  const a = e.handle({ type: 'accepted', now: 0 });
  assert.deepEqual(a, [{ type: 'connect-upstream' }]);
  const first = e.handle({ type: 'connected', now: 0 });
  return { e, first };
}

const kinds = (cs: Command[]) => cs.map((c) => c.type === 'close' ? `close ${c.side} ${c.mode}` : c.type === 'write' ? `write ${c.to} ${Buffer.from(c.chunk).toString()}` : c.type === 'read' ? `read ${c.side} ${c.on}` : c.type);

test('no toxics: bytes pass both ways, FINs are relayed as half-closes, then both sockets close', () => {
  const { e, first } = open();
  assert.deepEqual(kinds(first), ['read client true', 'read upstream true']);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 1, from: 'client', chunk: bytes('GET') })), ['write upstream GET']);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 2, from: 'upstream', chunk: bytes('OK') })), ['write client OK']);
  assert.deepEqual(kinds(e.handle({ type: 'end', now: 3, from: 'client' })), ['close upstream half']);
  assert.deepEqual(kinds(e.handle({ type: 'end', now: 4, from: 'upstream' })),
    ['close client half', 'close client fin', 'close upstream fin', 'finished']);
  assert.equal(e.finished, true);
});

test('a reset on one side is passed on as a reset to the other', () => {
  const { e } = open();
  assert.deepEqual(kinds(e.handle({ type: 'error', now: 1, side: 'upstream', error: 'ECONNRESET' })), ['close client rst', 'finished']);
});

test('latency delays data by a timer, keeping order', () => {
  const { e } = open([toxic({ type: 'latency', attributes: { latency: 100 } })]);
  const c1 = e.handle({ type: 'data', now: 10, from: 'upstream', chunk: bytes('a') });
  assert.deepEqual(c1, [{ type: 'set-timer', id: 1, ms: 100 }]);
  assert.deepEqual(e.handle({ type: 'data', now: 20, from: 'upstream', chunk: bytes('b') }), []);
  assert.deepEqual(kinds(e.handle({ type: 'timer', now: 110, id: 1 })), ['write client a', 'set-timer']);
  assert.deepEqual(kinds(e.handle({ type: 'timer', now: 120, id: 2 })), ['write client b']);
  // Upstream stream is untouched.
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 121, from: 'client', chunk: bytes('c') })), ['write upstream c']);
});

test('limit_data passes exactly `bytes` bytes, then closes both sockets (FIN)', () => {
  const { e } = open([toxic({ type: 'limit_data', attributes: { bytes: 5 } })]);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 1, from: 'upstream', chunk: bytes('abc') })), ['write client abc']);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 2, from: 'upstream', chunk: bytes('defgh') })),
    ['write client de', 'fault', 'close client fin', 'close upstream fin', 'finished']);
});

test('reset_after_bytes on the upstream stream: N bytes, then RST both', () => {
  const { e } = open([toxic({ type: 'reset_after_bytes', stream: 'upstream', attributes: { bytes: 4 } })]);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 1, from: 'upstream', chunk: bytes('hello') })), ['write client hello']);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 2, from: 'client', chunk: bytes('123456') })),
    ['write upstream 1234', 'fault', 'close client rst', 'close upstream rst', 'finished']);
});

test('reset_peer: the first data in the stream starts the timeout, then RST both; the data is dropped', () => {
  const { e } = open([toxic({ type: 'reset_peer', stream: 'upstream', attributes: { timeout: 50 } })]);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 5, from: 'client', chunk: bytes('x') })), ['set-timer']);
  assert.deepEqual(kinds(e.handle({ type: 'timer', now: 55, id: 1 })), ['fault', 'close client rst', 'close upstream rst', 'finished']);
});

test('reset_connect: accepted, never dialled, RST', () => {
  const e = new ConnectionEngine([toxic({ type: 'reset_connect' })]);
  assert.deepEqual(kinds(e.handle({ type: 'accepted', now: 0 })), ['fault', 'close client rst', 'finished']);
});

test('close_unread: never reads, closes the descriptor after the delay', () => {
  const e = new ConnectionEngine([toxic({ type: 'close_unread', attributes: { delay: 30 } })]);
  assert.deepEqual(kinds(e.handle({ type: 'accepted', now: 0 })), ['set-timer']);
  assert.deepEqual(kinds(e.handle({ type: 'timer', now: 30, id: 1 })), ['fault', 'close client fin', 'finished']);
});

test('fin_then_rst: both sockets closed with FIN right after the connection is set up', () => {
  const { first } = open([toxic({ type: 'fin_then_rst' })]);
  assert.deepEqual(kinds(first), ['read client true', 'read upstream true', 'fault', 'close client fin', 'close upstream fin', 'finished']);
});

test('abort_mid_response: arms on a request, passes `bytes` of the reply, then aborts', () => {
  const { e } = open([toxic({ type: 'abort_mid_response', attributes: { bytes: 3 } })]);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 1, from: 'upstream', chunk: bytes('banner') })), ['write client banner']);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 2, from: 'client', chunk: bytes('GET') })), ['write upstream GET']);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 3, from: 'upstream', chunk: bytes('HTTP/1.1') })),
    ['write client HTT', 'fault', 'close client rst', 'close upstream rst', 'finished']);
});

test('half_close on downstream: FIN to the client, the client\'s data still goes upstream, replies are dropped', () => {
  const { e, first } = open([toxic({ type: 'half_close' })]);
  assert.deepEqual(kinds(first).slice(2), ['fault', 'close client half']);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 1, from: 'client', chunk: bytes('req') })), ['write upstream req']);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 2, from: 'upstream', chunk: bytes('resp') })), []);
});

test('blackhole stops reading the stream\'s source and holds data; removing it releases the data', () => {
  const bh = toxic({ type: 'blackhole', stream: 'upstream' });
  const { e, first } = open([bh]);
  assert.deepEqual(kinds(first), ['read client true', 'read upstream true', 'read client false', 'fault']);
  assert.deepEqual(e.handle({ type: 'data', now: 1, from: 'client', chunk: bytes('lost?') }), []);
  assert.deepEqual(kinds(e.handle({ type: 'toxics', now: 2, toxics: [] })), ['write upstream lost?', 'read client true']);
});

test('timeout drops data and closes after the timeout; toxicity 0 leaves the connection alone', () => {
  const { e, first } = open([toxic({ type: 'timeout', attributes: { timeout: 10 } })]);
  assert.deepEqual(kinds(first).slice(2), ['set-timer']);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 1, from: 'upstream', chunk: bytes('x') })), ['fault']);
  assert.deepEqual(kinds(e.handle({ type: 'timer', now: 10, id: 1 })), ['fault', 'close client fin', 'close upstream fin', 'finished']);
  const spared = open([toxic({ type: 'timeout', toxicity: 0.3, attributes: { timeout: 10 } })], () => 0.9);
  assert.deepEqual(kinds(spared.e.handle({ type: 'data', now: 1, from: 'upstream', chunk: bytes('x') })), ['write client x']);
});

test('kill added to a live connection closes it like a crash (FIN both)', () => {
  const { e } = open();
  assert.deepEqual(kinds(e.handle({ type: 'toxics', now: 1, toxics: [toxic({ type: 'kill' })] })),
    ['fault', 'close client fin', 'close upstream fin', 'finished']);
});

test('bandwidth spreads a chunk over time at `rate` KB/s', () => {
  const { e } = open([toxic({ type: 'bandwidth', attributes: { rate: 1 } })]); // 1 byte per ms
  const c = e.handle({ type: 'data', now: 0, from: 'upstream', chunk: Buffer.alloc(250) });
  assert.deepEqual(c, [{ type: 'set-timer', id: 1, ms: 100 }]); // slices of 100 ms
  const next = e.handle({ type: 'timer', now: 100, id: 1 });
  assert.equal((next[0] as { chunk: Uint8Array }).chunk.length, 100);
});

test('slicer cuts a chunk into pieces near average_size', () => {
  const { e } = open([toxic({ type: 'slicer', attributes: { average_size: 10, size_variation: 0, delay: 0 } })]);
  const c = e.handle({ type: 'data', now: 0, from: 'upstream', chunk: Buffer.alloc(35) });
  assert.deepEqual(c.filter((x) => x.type === 'write').map((x) => (x as { chunk: Uint8Array }).chunk.length), [10, 10, 10, 5]);
});
