import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionReport } from './engine.js';
import { RstGroups } from './groups.js';
import { parseEndpoint } from '../wire/addr.js';

let id = 0;
/** A report with one RST, from its responder, enough of it for grouping. */
function report(cause: 'refused' | 'abort', from: string, to: string, resp: string): ConnectionReport {
  id += 1;
  return {
    id, firstFrame: id * 2 - 1, lastFrame: id * 2, orig: to, resp,
    origAddr: parseEndpoint(to).addr, respAddr: parseEndpoint(from).addr, respPort: parseEndpoint(resp).port,
    rsts: [{ cause, from, to, sender: 'resp' }],
  } as unknown as ConnectionReport;
}

test('the first N of a key are listed, the rest counted in its pattern', () => {
  const g = new RstGroups(3);
  const admitted = Array.from({ length: 8 }, (_, i) => g.admit(report('refused', `10.0.0.${i}:${80 + i}`, '192.0.2.66:40000', `10.0.0.${i}:${80 + i}`)));
  assert.deepEqual(admitted, [true, true, true, false, false, false, false, false]);
  const [p, ...rest] = g.patterns();
  assert.equal(rest.length, 0);
  assert.deepEqual({ ...p, examples: p!.examples.length }, {
    cause: 'refused', host: '192.0.2.66', role: 'receiver', count: 5, peers: 5, ports: 5, capped: false,
    firstFrame: p!.firstFrame, lastFrame: p!.lastFrame, examples: 3,
  });
});

test('keys are per cause and per host; a RST of another cause or host is listed', () => {
  const g = new RstGroups(1);
  assert.equal(g.admit(report('abort', '10.0.0.1:80', '10.0.0.9:5000', '10.0.0.1:80')), true);
  assert.equal(g.admit(report('abort', '10.0.0.1:80', '10.0.0.8:5001', '10.0.0.1:80')), false, 'same sender, same cause');
  assert.equal(g.admit(report('refused', '10.0.0.2:81', '10.0.0.7:5002', '10.0.0.2:81')), true, 'another cause and hosts');
  assert.equal(g.admit(report('abort', '[2001:db8::1]:80', '[2001:db8::2]:5003', '[2001:db8::1]:80')), true, 'IPv6 hosts');
  const [p] = g.patterns();
  assert.equal(p!.host, '10.0.0.1');
  assert.equal(p!.role, 'sender');
  assert.equal(p!.count, 1);
});

test('0 lists every report; reports without a RST are always listed', () => {
  const g = new RstGroups(0);
  for (let i = 0; i < 50; i++) assert.equal(g.admit(report('refused', '10.0.0.1:80', '10.0.0.2:1', '10.0.0.1:80')), true);
  assert.deepEqual(g.patterns(), []);
  const h = new RstGroups(1);
  for (let i = 0; i < 5; i++) assert.equal(h.admit({ id: i, firstFrame: i, lastFrame: i, resp: '10.0.0.1:80', rsts: [] } as unknown as ConnectionReport), true);
});
