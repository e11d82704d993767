// shortOutcome for the database CLIs: the matrix cell shows the line that tells cases apart (the
// texts are the CLIs' own, as the lab's database runs recorded them).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shortOutcome } from './lab-text.js';

const err = (error: string, code: string, message: string) => ({ kind: 'error' as const, error, code, message, causes: [] });

test('database CLIs: MariaDB\'s ERROR line, psql\'s and redis-cli\'s first line', () => {
  assert.equal(shortOutcome(err('mariadb', '1', 'ERROR 2013 (HY000) at line 2: Lost connection to server during query'), 80),
    'ERROR 2013 (HY000): Lost connection to server during query');
  assert.equal(shortOutcome(err('psql', '2', 'server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n\tbefore or while processing the request.\nconnection to server was lost'), 80),
    'server closed the connection unexpectedly');
  assert.equal(shortOutcome(err('psql', '2', 'psql: error: connection to server at "203.0.113.2", port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?'), 30),
    'connection to server at "203.…');
  assert.equal(shortOutcome(err('redis-cli', '0', 'Error: Server closed the connection'), 80), 'Error: Server closed the connection');
});
