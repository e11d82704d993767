// SVG ladders: one element per event with its data attributes, RSTs marked with their cause,
// text escaped, finite coordinates only, no ids or external references (many ladders share a page).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ladderFromRun } from './ladder.js';
import type { LadderModel } from './ladder.js';
import { escapeXml, renderLadderSvg } from './svg.js';
import { LAB_FIXTURE } from './testdata/lab-results.js';

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

test('every segment, note and host of a run becomes an SVG element; RSTs carry their cause', () => {
  for (const run of LAB_FIXTURE.runs) {
    const model = ladderFromRun(run);
    const svg = renderLadderSvg(model);
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"') && svg.endsWith('</svg>'), run.id);
    assert.equal(count(svg, /data-kind="segment"/g), run.ladder.length, `${run.id}: segments`);
    assert.equal(count(svg, /data-kind="note"/g), run.timeline.length, `${run.id}: notes`);
    assert.equal(count(svg, /data-kind="host"/g), model.hosts.length, `${run.id}: hosts`);
    for (const s of run.ladder.filter((x) => x.flags.includes('R'))) {
      assert.match(svg, new RegExp(`data-frame="${s.frame}" data-flags="\\[R\\.?\\]" data-cause="${s.cause}"`), `${run.id}: RST frame ${s.frame}`);
    }
    assert.doesNotMatch(svg, /NaN|undefined|Infinity/, `${run.id}: every coordinate is a number`);
    assert.doesNotMatch(svg, /\sid="|href=|url\(|@import/, `${run.id}: no ids, no references`);
  }
});

test('text is escaped and the SVG is balanced', () => {
  const model: LadderModel = {
    title: 'a <b> & "c"', origin: 'ms', hosts: [{ label: '<client>' }, { label: 'server & co' }],
    events: [
      { kind: 'segment', ms: 1, frame: 1, from: 0, to: 1, flags: '[S]', seq: 0, ack: null, len: 0 },
      { kind: 'note', ms: 2, host: 0, who: 'client', text: 'error: <script>alert(1)</script>', tone: 'error' },
      { kind: 'gap', ms: null, segments: 3 },
      { kind: 'segment', ms: 3, frame: 9, from: 1, to: 0, flags: '[R]', seq: 1, ack: null, len: 0, cause: 'no-connection' },
    ],
  };
  const svg = renderLadderSvg(model);
  assert.doesNotMatch(svg, /<script>|<client>|<b>/);
  assert.match(svg, /&lt;script&gt;/);
  assert.match(svg, /segments not kept/);
  assert.equal(count(svg, /<g[\s>]/g), count(svg, /<\/g>/g));
  assert.equal(escapeXml(`<&>"'`), '&lt;&amp;&gt;&quot;&#39;');
});

test('an empty ladder still renders a valid, labelled SVG', () => {
  const svg = renderLadderSvg({ title: 't', origin: 'ms', hosts: [{ label: 'client' }, { label: 'server' }], events: [] });
  assert.match(svg, /no packets captured/);
});
