// shortOutcome: the matrix cell keeps what tells outcomes apart, also for Go's error types.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderMatrix, shortOutcome } from './lab-text.js';

test('errno codes, Go\'s io.EOF / io.ErrUnexpectedEOF, Java classes', () => {
  assert.equal(shortOutcome({ kind: 'error', error: '*url.Error', code: 'ECONNRESET', message: 'Get "http://a/": read tcp …: read: connection reset by peer', causes: [] }), 'ECONNRESET');
  assert.equal(shortOutcome({ kind: 'error', error: '*url.Error', code: 'io.EOF', message: 'Get "http://a/": EOF', causes: [] }), 'io.EOF');
  assert.equal(shortOutcome({ kind: 'error', error: '*errors.errorString', code: 'io.ErrUnexpectedEOF', message: 'unexpected EOF', causes: [] }), 'io.ErrUnexpectedEOF');
  assert.equal(shortOutcome({ kind: 'error', error: 'java.net.SocketException', message: 'Connection reset', causes: [] }), 'SocketException: Connection r…');
  assert.equal(shortOutcome({ kind: 'ok', status: 200, causes: [] }), 'ok 200');
});

test('the matrix comes in blocks of the client columns that fit the width, each with only the scenarios its clients ran', () => {
  const run = (scenario: string, client: string, code: string) => ({
    id: `${scenario}--${client}`, scenario, client, status: 'ok' as const, outcome: { kind: 'error' as const, error: 'Error', code, message: code, causes: [] },
    capture: null, rsts: [], fins: [], connections: [], ladder: [], timeline: [], serverEvents: [], problems: [], durationMs: 1,
  });
  const res = {
    clients: ['node-net', 'node-http', 'okhttp', 'psql'],
    scenarios: ['refused', 'db-refused'].map((id) => ({ id, title: id, description: '', claims: [] })),
    runs: [run('refused', 'node-net', 'E1'), run('refused', 'node-http', 'E2'), run('refused', 'okhttp', 'E3'), run('db-refused', 'psql', 'E4')],
  } as unknown as Parameters<typeof renderMatrix>[0];
  const blocks = renderMatrix(res, undefined, 20, 12 + 2 * 20).split('\n\n');
  assert.equal(blocks.length, 2);
  assert.deepEqual(blocks[0]!.split('\n').map((l) => l.split(/\s+/).filter(Boolean)), [['scenario', 'node-net', 'node-http'], ['refused', 'E1', 'E2']]);
  // The second block: okhttp ran refused, psql only db-refused; a scenario none of its clients ran is left out.
  assert.deepEqual(blocks[1]!.split('\n').map((l) => l.split(/\s+/).filter(Boolean)), [['scenario', 'okhttp', 'psql'], ['refused', 'E3', '·'], ['db-refused', '·', 'E4']]);
  assert.equal(renderMatrix(res).split('\n\n').length, 1, 'at 132 columns all four fit');
});
