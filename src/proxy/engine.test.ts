// The fault engine, step by step, without sockets: events in, commands out. Every toxic type has
// a step test here, so a change in what a toxic does shows as a changed command list.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionEngine } from './engine.js';
import { makeToxic } from './toxic-impl.js';
import { parseToxicCreate, TOXICS } from './toxics.js';
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

test('timeout drops data and closes once no data came for `timeout` ms (each chunk restarts the wait); toxicity 0 leaves the connection alone', () => {
  const { e, first } = open([toxic({ type: 'timeout', attributes: { timeout: 10 } })]);
  assert.deepEqual(first.slice(2), [{ type: 'set-timer', id: 1, ms: 10 }]);
  // A chunk at t=6 drops and starts the wait again: the first timer is void, a new one is set.
  assert.deepEqual(e.handle({ type: 'data', now: 6, from: 'upstream', chunk: bytes('x') }).map((c) => c.type === 'set-timer' ? `timer ${c.id} ${c.ms}` : c.type),
    ['timer 2 10', 'fault']);
  assert.deepEqual(kinds(e.handle({ type: 'timer', now: 10, id: 1 })), []);
  assert.deepEqual(kinds(e.handle({ type: 'timer', now: 16, id: 2 })), ['fault', 'close client fin', 'close upstream fin', 'finished']);
  const spared = open([toxic({ type: 'timeout', toxicity: 0.3, attributes: { timeout: 10 } })], () => 0.9);
  assert.deepEqual(kinds(spared.e.handle({ type: 'data', now: 1, from: 'upstream', chunk: bytes('x') })), ['write client x']);
});

test('Toxiproxy restart rules: adding a toxic re-draws the one last in its stream, removing re-draws the one before, an update re-draws itself', () => {
  const draws = [0.1, 0.9, 0.1];
  const rand = () => draws.shift() ?? 0.1;
  const lat = toxic({ name: 'lat', type: 'latency', toxicity: 0.5, attributes: { latency: 100 } });
  const { e } = open([lat], rand); // draw 0.1: on
  const on = () => e.handle({ type: 'data', now: 0, from: 'upstream', chunk: bytes('a') }).some((c) => c.type === 'set-timer');
  const up = toxic({ name: 'up', type: 'noop', stream: 'upstream' });
  // An upstream toxic is no neighbour of the downstream latency: nothing is drawn again.
  e.handle({ type: 'toxics', now: 0, toxics: [lat, up], change: { kind: 'add', name: 'up' } });
  const n2 = toxic({ name: 'n2', type: 'noop' });
  // A downstream toxic after it: latency draws again (0.9: off).
  e.handle({ type: 'toxics', now: 0, toxics: [lat, up, n2], change: { kind: 'add', name: 'n2' } });
  assert.equal(on(), false, 'the latency toxic was re-drawn off when a toxic was added after it');
  // Removing n2 restarts the toxic before it: latency draws 0.1 (on again).
  e.handle({ type: 'toxics', now: 0, toxics: [lat, up], change: { kind: 'remove', name: 'n2' } });
  assert.equal(on(), true, 'the latency toxic was re-drawn on when the toxic after it was removed');
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

// Step tests for the behaviours above that the first set leaves out, with the fault records in full.

const faults = (cs: Command[]) => cs.flatMap((c) => (c.type === 'fault' ? [c.fault] : []));

test('latency with jitter: latency + round((2r - 1) * jitter)', () => {
  const { e } = open([toxic({ type: 'latency', attributes: { latency: 100, jitter: 20 } })], () => 0.75);
  assert.deepEqual(e.handle({ type: 'data', now: 0, from: 'upstream', chunk: bytes('a') }), [{ type: 'set-timer', id: 1, ms: 110 }]);
});

test('slow_close holds the FIN back by `delay`; data is not delayed', () => {
  const { e } = open([toxic({ type: 'slow_close', attributes: { delay: 50 } })]);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 0, from: 'upstream', chunk: bytes('x') })), ['write client x']);
  assert.deepEqual(e.handle({ type: 'end', now: 1, from: 'upstream' }), [{ type: 'set-timer', id: 1, ms: 50 }]);
  assert.deepEqual(kinds(e.handle({ type: 'timer', now: 51, id: 1 })), ['close client half']);
});

test('bandwidth with rate 0 and slicer with average_size 0 pass chunks unchanged', () => {
  const { e } = open([toxic({ type: 'bandwidth', attributes: { rate: 0 } }), toxic({ type: 'slicer', attributes: { average_size: 0 } })]);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 0, from: 'upstream', chunk: bytes('whole') })), ['write client whole']);
});

test('timeout 0 never fires by itself; removing the toxic closes the connection (Toxiproxy\'s Cleanup)', () => {
  const spec = toxic({ type: 'timeout', attributes: { timeout: 0 } });
  const { e, first } = open([spec]);
  assert.deepEqual(kinds(first), ['read client true', 'read upstream true']);
  const dropped = e.handle({ type: 'data', now: 1, from: 'upstream', chunk: bytes('x') });
  assert.deepEqual(faults(dropped), [{ toxic: 'timeout_downstream', toxicType: 'timeout', stream: 'downstream', action: 'drop', detail: '1 chunk(s)' }]);
  const removed = e.handle({ type: 'toxics', now: 2, toxics: [] });
  assert.deepEqual(kinds(removed), ['fault', 'close client fin', 'close upstream fin', 'finished']);
  assert.deepEqual(faults(removed), [{ toxic: 'timeout_downstream', toxicType: 'timeout', stream: 'downstream', action: 'fin client+upstream', detail: 'timeout toxic removed' }]);
});

test('reset_peer with timeout 0 resets at once on the first data', () => {
  const { e } = open([toxic({ type: 'reset_peer', stream: 'upstream' })]);
  const cs = e.handle({ type: 'data', now: 1, from: 'client', chunk: bytes('x') });
  assert.deepEqual(kinds(cs), ['fault', 'close client rst', 'close upstream rst', 'finished']);
  assert.deepEqual(faults(cs), [{ toxic: 'reset_peer_upstream', toxicType: 'reset_peer', stream: 'upstream', action: 'rst client+upstream', claim: 'C5.1' }]);
});

test('limit_data relays a FIN before the limit; with bytes 0 the first data closes the connection', () => {
  const { e } = open([toxic({ type: 'limit_data', attributes: { bytes: 5 } })]);
  assert.deepEqual(kinds(e.handle({ type: 'end', now: 1, from: 'upstream' })), ['close client half']);
  const zero = open([toxic({ type: 'limit_data', attributes: { bytes: 0 } })]);
  const cs = zero.e.handle({ type: 'data', now: 1, from: 'upstream', chunk: bytes('x') });
  assert.deepEqual(kinds(cs), ['fault', 'close client fin', 'close upstream fin', 'finished']);
  assert.deepEqual(faults(cs), [{ toxic: 'limit_data_downstream', toxicType: 'limit_data', stream: 'downstream', action: 'fin client+upstream', detail: 'after 0 bytes' }]);
});

test('limit_data and reset_after_bytes count across chunks and name the count in the fault', () => {
  const { e } = open([toxic({ type: 'limit_data', attributes: { bytes: 5 } })]);
  e.handle({ type: 'data', now: 1, from: 'upstream', chunk: bytes('abc') });
  assert.deepEqual(faults(e.handle({ type: 'data', now: 2, from: 'upstream', chunk: bytes('defgh') })),
    [{ toxic: 'limit_data_downstream', toxicType: 'limit_data', stream: 'downstream', action: 'fin client+upstream', detail: 'after 5 bytes' }]);
  const r = open([toxic({ type: 'reset_after_bytes', attributes: { bytes: 4 } })]);
  assert.deepEqual(kinds(r.e.handle({ type: 'data', now: 1, from: 'upstream', chunk: bytes('ab') })), ['write client ab']);
  const cs = r.e.handle({ type: 'data', now: 2, from: 'upstream', chunk: bytes('cdef') });
  assert.deepEqual(kinds(cs), ['write client cd', 'fault', 'close client rst', 'close upstream rst', 'finished']);
  assert.deepEqual(faults(cs), [{ toxic: 'reset_after_bytes_downstream', toxicType: 'reset_after_bytes', stream: 'downstream', action: 'rst client+upstream', claim: 'C5.1', detail: 'after 4 bytes downstream' }]);
});

test('abort_mid_response: each request re-arms the count; mode fin closes the client with FIN and resets upstream', () => {
  const { e } = open([toxic({ type: 'abort_mid_response', attributes: { bytes: 3, mode: 'fin' } })]);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 1, from: 'client', chunk: bytes('a') })), ['write upstream a']);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 2, from: 'upstream', chunk: bytes('xy') })), ['write client xy']);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 3, from: 'client', chunk: bytes('b') })), ['write upstream b']);
  const cs = e.handle({ type: 'data', now: 4, from: 'upstream', chunk: bytes('zzzz') });
  assert.deepEqual(kinds(cs), ['write client zzz', 'fault', 'close client fin', 'close upstream rst', 'finished']);
  assert.deepEqual(faults(cs), [{ toxic: 'abort_mid_response_downstream', toxicType: 'abort_mid_response', stream: 'downstream', action: 'fin client, rst upstream', claim: 'C2b.3 C2b.4 C5.1', detail: 'after 3 reply bytes' }]);
});

test('reset_connect with a delay: RST when the timer fires', () => {
  const e = new ConnectionEngine([toxic({ type: 'reset_connect', attributes: { delay: 20 } })]);
  assert.deepEqual(e.handle({ type: 'accepted', now: 0 }), [{ type: 'set-timer', id: 1, ms: 20 }]);
  const cs = e.handle({ type: 'timer', now: 20, id: 1 });
  assert.deepEqual(kinds(cs), ['fault', 'close client rst', 'finished']);
  assert.deepEqual(faults(cs), [{ toxic: 'reset_connect_downstream', toxicType: 'reset_connect', stream: 'downstream', action: 'rst client', claim: 'C3.1 C5.1', detail: 'accepted, never dialled upstream' }]);
});

test('fin_then_rst with a delay closes when the timer fires; added to a live connection it does nothing', () => {
  const { e, first } = open([toxic({ type: 'fin_then_rst', attributes: { delay: 20 } })]);
  assert.deepEqual(kinds(first), ['read client true', 'read upstream true', 'set-timer']);
  assert.deepEqual(kinds(e.handle({ type: 'timer', now: 20, id: 1 })), ['fault', 'close client fin', 'close upstream fin', 'finished']);
  const live = open();
  assert.deepEqual(live.e.handle({ type: 'toxics', now: 1, toxics: [toxic({ type: 'fin_then_rst' })] }), []);
  assert.deepEqual(kinds(live.e.handle({ type: 'data', now: 2, from: 'client', chunk: bytes('ok') })), ['write upstream ok']);
});

test('half_close on upstream after a delay: FIN to the server, its replies still reach the client, the client\'s data is dropped', () => {
  const { e, first } = open([toxic({ type: 'half_close', stream: 'upstream', attributes: { delay: 10 } })]);
  assert.deepEqual(kinds(first).slice(2), ['set-timer']);
  const cs = e.handle({ type: 'timer', now: 10, id: 1 });
  assert.deepEqual(kinds(cs), ['fault', 'close upstream half']);
  assert.deepEqual(faults(cs), [{ toxic: 'half_close_upstream', toxicType: 'half_close', stream: 'upstream', action: 'fin upstream (half-close)', claim: 'C2a.5 C2a.6', detail: 'shutdown(SHUT_WR) toward the upstream; reading goes on' }]);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 11, from: 'upstream', chunk: bytes('resp') })), ['write client resp']);
  assert.deepEqual(e.handle({ type: 'data', now: 12, from: 'client', chunk: bytes('req') }), []);
  const live = open();
  assert.deepEqual(live.e.handle({ type: 'toxics', now: 1, toxics: [toxic({ type: 'half_close' })] }), []);
});

test('blackhole added to a live connection pauses the source; removed with nothing held, it resumes reading', () => {
  const { e } = open();
  const bh = toxic({ type: 'blackhole' });
  const added = e.handle({ type: 'toxics', now: 1, toxics: [bh] });
  assert.deepEqual(kinds(added), ['read upstream false', 'fault']);
  assert.deepEqual(faults(added), [{ toxic: 'blackhole_downstream', toxicType: 'blackhole', stream: 'downstream', action: 'stop reading upstream', claim: 'C4.1' }]);
  assert.deepEqual(kinds(e.handle({ type: 'toxics', now: 2, toxics: [] })), ['read upstream true']);
});

test('kill present when a connection is set up leaves that connection alone', () => {
  const { e, first } = open([toxic({ type: 'kill' })]);
  assert.deepEqual(kinds(first), ['read client true', 'read upstream true']);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 1, from: 'upstream', chunk: bytes('x') })), ['write client x']);
  const live = open();
  assert.deepEqual(faults(live.e.handle({ type: 'toxics', now: 1, toxics: [toxic({ type: 'kill' })] })),
    [{ toxic: 'kill_downstream', toxicType: 'kill', stream: 'downstream', action: 'fin client+upstream', claim: 'C2.0 C2a.6', detail: 'crashed proxy: every live connection closed at once' }]);
});

test('close_unread\'s fault record', () => {
  const e = new ConnectionEngine([toxic({ type: 'close_unread' })]);
  assert.deepEqual(e.handle({ type: 'accepted', now: 0 }), [{ type: 'set-timer', id: 1, ms: 100 }]);
  assert.deepEqual(faults(e.handle({ type: 'timer', now: 100, id: 1 })),
    [{ toxic: 'close_unread_downstream', toxicType: 'close_unread', stream: 'downstream', action: 'close client unread', claim: 'C2 open question: FIN or RST', detail: 'close(2) without reading: RST if data was queued, else FIN' }]);
});

test('every toxic type in the catalogue has an implementation with at least one hook', () => {
  for (const def of TOXICS) {
    const impl = makeToxic(toxic({ type: def.type }), true);
    assert.ok(impl.onAccept || impl.onStart || impl.onItems || impl.onRemove, def.type);
  }
});

test('compatibility mode (Toxiproxy): a FIN closes the whole connection, a reset reaches the other side as FIN', () => {
  const e = new ConnectionEngine([], { toxiproxy: true });
  e.handle({ type: 'accepted', now: 0 });
  e.handle({ type: 'connected', now: 0 });
  assert.deepEqual(kinds(e.handle({ type: 'end', now: 1, from: 'client' })), ['close upstream fin', 'close client fin', 'finished']);
  const r = new ConnectionEngine([], { toxiproxy: true });
  r.handle({ type: 'accepted', now: 0 });
  r.handle({ type: 'connected', now: 0 });
  assert.deepEqual(kinds(r.handle({ type: 'error', now: 1, side: 'upstream', error: 'ECONNRESET' })), ['close client fin', 'finished']);
});

test('compatibility mode: a reset_peer on the proxy when the connection starts makes every close a RST (toxicity 0 too); one added later closes with FIN', () => {
  const e = new ConnectionEngine([toxic({ type: 'reset_peer', toxicity: 0 })], { toxiproxy: true, random: () => 0.5 });
  e.handle({ type: 'accepted', now: 0 });
  e.handle({ type: 'connected', now: 0 });
  assert.deepEqual(kinds(e.handle({ type: 'end', now: 1, from: 'client' })), ['close upstream rst', 'close client rst', 'finished']);
  // Upstream unreachable: no link was started, no SO_LINGER: the client gets a FIN.
  const dead = new ConnectionEngine([toxic({ type: 'reset_peer' })], { toxiproxy: true });
  dead.handle({ type: 'accepted', now: 0 });
  // (The upstream socket, still connecting, is just destroyed: the shell's rst of a pending socket.)
  assert.deepEqual(kinds(dead.handle({ type: 'connect-failed', now: 1, error: 'ECONNREFUSED' })), ['close client fin', 'close upstream rst', 'finished']);
  const live = new ConnectionEngine([], { toxiproxy: true });
  live.handle({ type: 'accepted', now: 0 });
  live.handle({ type: 'connected', now: 0 });
  const rp = toxic({ type: 'reset_peer', stream: 'upstream' });
  live.handle({ type: 'toxics', now: 1, toxics: [rp], change: { kind: 'add', name: rp.name } });
  assert.deepEqual(kinds(live.handle({ type: 'data', now: 2, from: 'client', chunk: bytes('x') })), ['fault', 'close client fin', 'close upstream fin', 'finished']);
  // The default mode resets in both cases.
  const plain = open();
  plain.e.handle({ type: 'toxics', now: 1, toxics: [rp], change: { kind: 'add', name: rp.name } });
  assert.deepEqual(kinds(plain.e.handle({ type: 'data', now: 2, from: 'client', chunk: bytes('x') })), ['fault', 'close client rst', 'close upstream rst', 'finished']);
});

test('noop passes every chunk and the FIN unchanged', () => {
  const { e } = open([toxic({ type: 'noop' }), toxic({ name: 'up', type: 'noop', stream: 'upstream' })]);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 1, from: 'upstream', chunk: bytes('a') })), ['write client a']);
  assert.deepEqual(kinds(e.handle({ type: 'data', now: 1, from: 'client', chunk: bytes('b') })), ['write upstream b']);
  assert.deepEqual(kinds(e.handle({ type: 'end', now: 2, from: 'client' })), ['close upstream half']);
});

test('removing a latency toxic lets what it still holds go at once; data past it keeps the delays after it (Toxiproxy\'s RemoveToxic)', () => {
  const a = toxic({ name: 'a', type: 'latency', attributes: { latency: 100 } });
  const b = toxic({ name: 'b', type: 'latency', attributes: { latency: 100 } });
  const { e } = open([a, b]);
  e.handle({ type: 'data', now: 0, from: 'upstream', chunk: bytes('x') }); // leaves a at 100, b at 200
  e.handle({ type: 'data', now: 150, from: 'upstream', chunk: bytes('y') }); // leaves a at 250, b at 350
  // At 160, remove a: y (still in a) loses a's 100 ms and leaves at 250; x (past a) keeps b's: 200.
  const cmds = e.handle({ type: 'toxics', now: 160, toxics: [b], change: { kind: 'remove', name: 'a' } });
  assert.deepEqual(kinds(cmds), ['set-timer']);
  assert.deepEqual(cmds[0], { type: 'set-timer', id: (cmds[0] as { id: number }).id, ms: 40 });
  const atX = e.handle({ type: 'timer', now: 200, id: (cmds[0] as { id: number }).id });
  // x leaves; y is due 50 ms later (at 250), not 150 (at 350).
  assert.deepEqual(atX.map((c) => c.type === 'set-timer' ? `timer ${c.ms}` : kinds([c])[0]), ['write client x', 'timer 50']);
});
