// The keep-alive scenarios as data: in SCENARIOS, held at the idle point of `reuse` (not at
// connect), in the lab's namespaces (a router rule), the POST variant without retries; and over
// every scenario, a default matrix that --all only extends.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIOS, scenarioById } from './scenarios.js';

test('keepalive-race and keepalive-race-post: pause at the idle point, the router drops the FIN (netns)', () => {
  const get = scenarioById('keepalive-race');
  const post = scenarioById('keepalive-race-post');
  assert.ok(get && post);
  for (const s of [get, post]) {
    assert.equal(s.pause, true);
    assert.equal(s.needs, 'netns');
    assert.ok(s.reuse);
    assert.deepEqual([...s.clients], ['node-http', 'node-fetch', 'okhttp', 'go', 'python-requests']);
    assert.ok(s.allClients?.includes('java-httpclient'));
    assert.deepEqual(s.expect.must, [['server', 'no-connection']]);
  }
  assert.equal(get.reuse?.method, 'GET');
  assert.deepEqual(post.reuse, { method: 'POST', noRetry: true });
});

test('every scenario\'s allClients contains its default clients', () => {
  for (const s of SCENARIOS) {
    if (!s.allClients) continue;
    for (const c of s.clients) assert.ok(s.allClients.includes(c), `${s.id}: ${c} in clients but not in allClients`);
  }
});
