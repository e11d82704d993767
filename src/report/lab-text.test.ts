// shortOutcome: the matrix cell keeps what tells outcomes apart, also for Go's error types.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shortOutcome } from './lab-text.js';

test('errno codes, Go\'s io.EOF / io.ErrUnexpectedEOF, Java classes', () => {
  assert.equal(shortOutcome({ kind: 'error', error: '*url.Error', code: 'ECONNRESET', message: 'Get "http://a/": read tcp …: read: connection reset by peer', causes: [] }), 'ECONNRESET');
  assert.equal(shortOutcome({ kind: 'error', error: '*url.Error', code: 'io.EOF', message: 'Get "http://a/": EOF', causes: [] }), 'io.EOF');
  assert.equal(shortOutcome({ kind: 'error', error: '*errors.errorString', code: 'io.ErrUnexpectedEOF', message: 'unexpected EOF', causes: [] }), 'io.ErrUnexpectedEOF');
  assert.equal(shortOutcome({ kind: 'error', error: 'java.net.SocketException', message: 'Connection reset', causes: [] }), 'SocketException: Connection r…');
  assert.equal(shortOutcome({ kind: 'ok', status: 200, causes: [] }), 'ok 200');
});
