// The `rstlab why` answer rendered from a hand-made match of the lab results fixture: every section
// in order, colours only through the painter, prose no wider than asked and ladders indented by 3, and the JSON record's keys.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAB_FIXTURE } from './testdata/lab-results.js';
import { renderWhyNothing, renderWhyNotTcp, renderWhyText, whyRecord, whySuggestion, wrap } from './why-text.js';
import type { WhyCause, WhyMatch } from './why-text.js';

const run = LAB_FIXTURE.runs.find((r) => r.id === 'kill-server-before-request-http--node-http')!;
const entry = { id: 'node-http|Error|ECONNRESET|socket hang up', client: 'node-http', error: 'Error', code: 'ECONNRESET', message: 'socket hang up', pattern: 'socket hang up', outcome: run.outcome! };
const matches: WhyMatch[] = [{ entry, score: 0.97, reasons: ['message 97%'] }];
const causes: WhyCause[] = [{
  cause: 'reset-after-close', title: 'data arrived after the sender had closed', meaning: 'The sender had already sent its FIN. '.repeat(4).trim(),
  share: 1, score: 0.97, scenarios: [run.scenario],
  hits: [{ entry, occurrence: { run: run.id, scenario: run.scenario, capture: run.capture, wire: { summary: 'SIGKILL server → server FIN → client data → server RST (reset-after-close) → client error' }, ladder: run.ladder, timeline: run.timeline }, score: 0.97 }],
  advice: { retry: 'safe', retryWhy: 'the data that drew the RST was never processed.', change: ['make the pool idle timeout shorter than the server\'s keep-alive timeout'] },
}];

test('the text answer: matches, then per cause its meaning, runs, wire, advice and ladder, within the width', () => {
  const out = renderWhyText('socket hang up', matches, causes, undefined, { width: 70 });
  const order = ['rstlab why "socket hang up"', 'Matching errors in the lab catalog', '   97%  node-http   Error [ECONNRESET]: socket hang up',
    '1. reset-after-close — data arrived after the sender had closed  (100% of the matching lab runs)', 'Seen in: kill-server-before-request-http (node-http)',
    'On the wire: SIGKILL server', 'Retry: safe — the data', 'What to change:', '     - make the pool', 'kill-server-before-request-http × node-http', '[lab] SIGKILL server', 'client released (go)', 'error: ECONNRESET'];
  let at = 0;
  for (const s of order) { const i = out.indexOf(s, at); assert.ok(i >= 0, `${s} after offset ${at}:\n${out}`); at = i + s.length; }
  const ladderAt = out.split('\n').findIndex((l) => l.includes(' × node-http'));
  out.split('\n').forEach((line, i) => {
    if (i > 3 && !line.includes('(100% of')) assert.ok([...line].length <= (i >= ladderAt ? 73 : 70), `too wide: ${line}`);
  });
  assert.doesNotMatch(renderWhyText('socket hang up', matches, causes, undefined, { ladders: false }), /\[lab\]/);
  const marked = { bold: (s: string) => `<b>${s}</b>`, dim: (s: string) => s, red: (s: string) => s, yellow: (s: string) => s, green: (s: string) => `<g>${s}</g>`, cyan: (s: string) => s };
  assert.match(renderWhyText('x', matches, causes, marked), /<b>Retry<\/b>: <g>safe<\/g>/);
});

test('the JSON record and the answer when nothing matched', () => {
  const j = whyRecord('socket hang up', matches, causes) as { causes: Array<Record<string, unknown>> };
  assert.deepEqual(Object.keys(j), ['query', 'matches', 'causes']);
  assert.deepEqual(Object.keys(j.causes[0]), ['cause', 'title', 'meaning', 'share', 'score', 'scenarios', 'runs', 'advice']);
  assert.deepEqual(j.causes[0].runs, [{ run: run.id, scenario: run.scenario, client: 'node-http', capture: run.capture, wire: causes[0].hits[0].occurrence.wire.summary, score: 0.97 }]);
  assert.equal(whySuggestion(matches), 'closest: "Error: socket hang up" (node-http)');
  assert.match(whySuggestion([]), /errno name \(ECONNRESET\)/);
  assert.equal(renderWhyNothing('q', { entries: [1, 2], sources: [{ runs: 3 }, { runs: 4 }] }, 'try'), 'rstlab why: nothing in the catalog (2 errors from 7 lab runs) matches "q"\n  try\n');
  assert.equal(wrap('  a b c', 4, ' '), '  a\n b c');
});

test('the pasted text\'s family and condition; a match from another software is said to be one; not-a-TCP-event plainly', () => {
  const ctx = { family: { family: 'go-net-http', shape: "Go's net.OpError / net/http" }, condition: { condition: 'closed-before-response', title: 'closed before any response', because: 'wording "EOF"' }, notTcp: null, synonyms: ['X is Y (doc)'], matchFamily: 'node', sameFamily: false };
  const out = renderWhyText('Get http://x/: EOF', matches, causes, undefined, { ladders: false, context: ctx });
  assert.match(out.replace(/\n +/g, ' '), /Pasted text: Go \(net\/http\) \(Go's net\.OpError \/ net\/http\) — closed before any response, from its wording "EOF"/);
  assert.match(out.replace(/\n +/g, ' '), /Matched: Node — no lab run of Go \(net\/http\) matches yet; the closest observation is Node's "Error \[ECONNRESET\]: socket hang up" \(same condition: closed before any response\)/);
  assert.match(out, /synonym \(documented, not observed\): X is Y \(doc\)/);
  const same = renderWhyText('socket hang up', matches, causes, undefined, { ladders: false, context: { ...ctx, family: { family: 'node', shape: "Node's error" }, sameFamily: true } });
  assert.match(same, /Matched: Node \(the same software\)/);

  const j = whyRecord('x', matches, causes, ctx);
  assert.deepEqual(Object.keys(j), ['query', 'family', 'condition', 'notTcp', 'synonyms', 'matchFamily', 'sameFamily', 'matches', 'causes']);

  const not = renderWhyNotTcp('no healthy upstream', { ...ctx, family: { family: 'envoy', shape: "Envoy's local reply" }, condition: null, notTcp: { what: 'Envoy found no healthy host', instead: 'the cluster\'s endpoints' }, synonyms: [], matchFamily: null });
  assert.match(not, /Pasted text: Envoy \(Envoy's local reply\)\n\nNot a TCP event\.\n  What it is: Envoy found no healthy host\.\n  Look at instead: the cluster's endpoints\./);
});
