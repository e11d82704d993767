// The metrics' labels stay bounded, and the text is Prometheus'.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WatchRecord } from './join.js';
import { LABEL_VALUES_MAX, WatchMetrics } from './metrics.js';

const rec = (port: number, comm: string | null, over: Partial<WatchRecord> = {}): WatchRecord => ({
  type: 'rst', time: 1, from: `10.0.0.1:${port}`, to: '192.0.2.9:4000', sender: 'this-kernel', kernel: { reason: 'NO_SOCKET', state: 'UNKNOWN' },
  accepted: null, cause: 'refused', confidence: 'high', summary: null, linuxReasons: ['NO_SOCKET'], linuxReason: 'NO_SOCKET', agrees: true, app: null,
  connection: { orig: '192.0.2.9:4000', resp: `10.0.0.1:${port}`, history: 'Sr', connState: 'REJ', ageSec: 0.001 },
  process: comm ? { pid: 1, comm, via: 'socket' } : null, ...over,
});

test('local ports and process names beyond the first LABEL_VALUES_MAX count as "other"; missing values as "none"', async () => {
  const m = new WatchMetrics();
  const isLocal = (a: string) => a === '10.0.0.1';
  for (let p = 1; p <= LABEL_VALUES_MAX + 20; p++) m.observe(rec(p, `proc${p}`), isLocal);
  m.observe(rec(1, null, { kernel: null, cause: null, sender: 'remote', accepted: true, from: '192.0.2.9:4000', to: '10.0.0.1:1' }), isLocal);
  m.lost(3);
  m.lost(5);
  const text = await m.registry.metrics();
  const ports = new Set([...text.matchAll(/local_port="([^"]+)"/g)].map((x) => x[1]));
  assert.equal(ports.size, LABEL_VALUES_MAX + 1);
  assert.ok(ports.has('other'));
  assert.match(text, /rstlab_watch_resets_total\{direction="sent",kernel_reason="NO_SOCKET",cause="refused",local_port="other",process="other"\} 20/);
  assert.match(text, /rstlab_watch_resets_total\{direction="received",kernel_reason="none",cause="none",local_port="1",process="none"\} 1/);
  assert.match(text, /rstlab_watch_kernel_events_lost_total 5/);
  assert.match(text, /rstlab_watch_reset_connection_age_seconds_count 71/);
});
