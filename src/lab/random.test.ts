// Randomized lab runs: plans are repeatable and bounded (pure, no root needed), and captured RSTs
// are matched to the kernel's events as the kernel logged them (attachKernel, on recorded events).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WireRst } from '../report/results.js';
import type { KernelSend } from './kernel-trace.js';
import { randomPlan } from './random.js';
import { attachKernel, checkKernel } from './run.js';

test('randomPlan: the same seed and index give the same plan; other seeds other plans; every wait is bounded', () => {
  assert.deepEqual(randomPlan(1, 5), randomPlan(1, 5));
  const a = Array.from({ length: 50 }, (_, i) => JSON.stringify(randomPlan(1, i)));
  const b = Array.from({ length: 50 }, (_, i) => JSON.stringify(randomPlan(2, i)));
  assert.notDeepEqual(a, b);
  assert.ok(new Set(a).size > 40, 'plans vary');
  for (let i = 0; i < 500; i++) {
    const p = randomPlan(1, i);
    const waits = [...p.server, ...p.client].reduce((ms, s) => ms + (s.op === 'sleep' ? s.ms : 0), 0);
    assert.ok(waits <= 1000, `plan ${i} waits ${waits} ms`);
    for (const m of p.lab) assert.ok(m.at <= 250 && (m.do !== 'drop' || m.ms <= 300), JSON.stringify(m));
    assert.ok(p.ipVersion === 4 || p.ipVersion === 6);
  }
  // Both families and every kind of lab move occur.
  const plans = Array.from({ length: 200 }, (_, i) => randomPlan(1, i));
  assert.deepEqual(new Set(plans.map((p) => p.ipVersion)), new Set([4, 6]));
  assert.deepEqual(new Set(plans.flatMap((p) => p.lab.map((m) => m.do))), new Set(['kill', 'ss-kill', 'drop']));
});

const rst = (frame: number, from: string, to: string, linuxReasons: string[]): WireRst => ({
  frame, cause: 'abort', confidence: 'high', from, to, role: 'server', summary: '', linuxReasons: linuxReasons as WireRst['linuxReasons'], linuxReason: null,
});
const send = (ts: number, src: string, dst: string, reason: string, state = 'TCP_CLOSE'): KernelSend => ({ kind: 'send', ts, cpu: 0, pid: 1, comm: 'x', inIrq: true, src, dst, state, reason });
const hosts = { client: '198.51.100.2', server: '203.0.113.2', proxy: '192.0.2.2' };
const S = '203.0.113.2:80';
const C = '198.51.100.2:40000';

test('attachKernel: nearest in time; within a burst, the event its kernel function could have built; listener events by source; the rest kernel-only', () => {
  // A burst 14 µs apart whose events the kernel logged the other way round (two CPUs): the RST
  // with ACK is the live socket's (ABORT_ON_CLOSE), the one without is NO_SOCKET.
  const rsts = [rst(9, S, C, []), rst(10, S, C, [])];
  attachKernel(rsts, [{ time: 100.000010, ack: true }, { time: 100.000024, ack: false }],
    [send(0.000010, S, C, 'NO_SOCKET', 'UNKNOWN'), send(0.000013, S, C, 'TCP_ABORT_ON_CLOSE')], 100, hosts);
  assert.deepEqual(rsts.map((r) => r.kernel?.reason), ['TCP_ABORT_ON_CLOSE', 'NO_SOCKET']);
  // A RST the router dropped (ss -K's, 300 ms earlier) is kernel-only; a listener's event names
  // no destination; a RST with no event at all gets null.
  const more = [rst(6, S, C, []), rst(7, '203.0.113.2:81', C, [])];
  const only = attachKernel(more, [{ time: 50.3, ack: false }, { time: 50.4, ack: true }],
    [send(0, S, C, 'TCP_STATE', 'TCP_ESTABLISHED'), send(0.3001, S, '0.0.0.0:0', 'TCP_FLAGS', 'TCP_LISTEN')], 50, hosts);
  assert.deepEqual(more.map((r) => r.kernel), [{ reason: 'TCP_FLAGS', state: 'TCP_LISTEN' }, null]);
  assert.deepEqual(only, [{ from: S, to: C, reason: 'TCP_STATE', state: 'TCP_ESTABLISHED' }]);
});

test('checkKernel: a reason the explainer rules out, and a RST the kernel sent that the explainer gives to no TCP stack, are problems', () => {
  const ok = { ...rst(1, S, C, ['NO_SOCKET']), kernel: { reason: 'NO_SOCKET', state: 'UNKNOWN' } };
  const wrong = { ...rst(2, S, C, ['TCP_STATE']), kernel: { reason: 'NO_SOCKET', state: 'UNKNOWN' } };
  const forged = { ...rst(3, S, C, []), cause: 'middlebox' as const, kernel: { reason: 'TCP_STATE', state: 'TCP_ESTABLISHED' } };
  const notKernel = { ...rst(4, S, C, []), cause: 'middlebox' as const, kernel: null };
  const problems = checkKernel([ok, wrong, forged, notKernel]);
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems[0]!, /frame 2: the kernel's reason is NO_SOCKET \(UNKNOWN\); the explainer \(abort\) allows TCP_STATE/);
  assert.match(problems[1]!, /frame 3: explained as middlebox, not a Linux TCP reset, but the kernel sent it \(TCP_STATE, TCP_ESTABLISHED\)/);
});
