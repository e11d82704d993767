// watch --json's records, written field by field, are the JSON that JSON.stringify writes of the
// same record (the form they had before), for every shape a record takes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WatchRecord } from './join.js';
import { watchJson } from './text.js';

/** The record as it was written before: one object, JSON.stringify. */
function reference(r: WatchRecord): string {
  return JSON.stringify({
    type: 'rst', ts: r.time, from: r.from, to: r.to, sender: r.sender, kernel: r.kernel, accepted: r.accepted,
    cause: r.cause, confidence: r.confidence, summary: r.summary, linux_reason: r.linuxReason, linux_reasons: r.linuxReasons,
    agrees: r.agrees, app: r.app, connection: r.connection ? { orig: r.connection.orig, resp: r.connection.resp, history: r.connection.history, conn_state: r.connection.connState, age: r.connection.ageSec } : null,
    process: r.process ? { pid: r.process.pid, comm: r.process.comm, via: r.process.via } : null,
  });
}

const kernelOnly: WatchRecord = {
  type: 'rst', time: 1764820000.123456, from: '127.0.0.1:9', to: '127.0.0.1:20001', sender: 'this-kernel', kernel: { reason: 'NO_SOCKET', state: 'UNKNOWN' },
  accepted: null, cause: null, confidence: null, summary: null, linuxReasons: [], linuxReason: null, agrees: null, app: null, connection: null, process: null,
};

test('watchJson: the same JSON as stringify, for kernel-only, joined, received and odd-named records', () => {
  const records: WatchRecord[] = [
    kernelOnly,
    { ...kernelOnly, from: '[fd00::1]:443', to: '[fd00::2]:50000', process: { pid: 4711, comm: 'java', via: 'event' } },
    {
      ...kernelOnly, kernel: { reason: 'TCP_ABORT_ON_CLOSE', state: 'TCP_CLOSE' }, cause: 'abort', confidence: 'high',
      summary: '10.0.0.1:8080 closed with 3 KB unread ("data loss"), so Linux reset', linuxReasons: ['TCP_ABORT_ON_CLOSE', 'TCP_STATE'], linuxReason: 'TCP_ABORT_ON_CLOSE',
      agrees: true, app: 'ECONNRESET (read: Connection reset by peer)', connection: { orig: '192.0.2.7:50000', resp: '10.0.0.1:8080', history: 'ShADadR', connState: 'RSTO', ageSec: 0.25 },
      process: { pid: 1, comm: 'my "app"\\\n\u0001 é', via: 'socket' },
    },
    { ...kernelOnly, sender: 'unknown', kernel: null, accepted: true, agrees: false, process: { pid: 2, comm: '<...>', via: 'listener' } },
    { ...kernelOnly, sender: 'remote', time: 0, connection: { orig: 'a', resp: 'b', history: '', connState: 'S0', ageSec: Number.NaN } },
  ];
  // Times: whole microseconds (as watch rounds the kernel's) take the short path; all print as String() does.
  for (const time of [1764820000.000001, 1764820000.1, 1764820000, 1764820000.12345, 0.000001, 12.5, 1764820000.1234567, 5e9, -1]) records.push({ ...kernelOnly, time });
  for (let i = 0; i < 2000; i++) records.push({ ...kernelOnly, time: Math.round((1764820000 + Math.random() * 1e6) * 1e6) / 1e6 });
  for (const r of records) {
    assert.equal(watchJson(r), reference(r));
    assert.deepEqual(JSON.parse(watchJson(r)), JSON.parse(reference(r)));
  }
});
