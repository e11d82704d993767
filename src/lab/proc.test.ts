// Tests for proc.ts with real child processes (no root needed): JSON-line events, waitFor's
// consume-once semantics and its errors, stdin commands, signals, the registry, and that a child
// dies with a lab that is SIGKILLed (PDEATHSIG).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LabError, MissingToolError } from '../errors.js';
import { hasParentDeathSignal, liveChildren, spawnChild, killAllChildren } from './proc.js';
import { isAlive, waitGone } from './testkit.js';

const NODE = process.execPath;

/** Alive and not a zombie. */

// Prints two events at once, answers each stdin line with an `echo` event, exits on `quit`.
const ECHO_CHILD = `
const out = (o) => console.log(JSON.stringify(o));
out({ event: 'ready' });
console.log('not json, kept as diagnostics');
console.error('hello from stderr');
out({ event: 'tick', n: 1 });
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i); buf = buf.slice(i + 1);
    if (line === 'quit') process.exit(3);
    out({ event: 'echo', line });
  }
});
setTimeout(() => process.exit(9), 20000);
`;

test('events, waitFor (earlier events count, each taken once), send and exit code', async (t) => {
  const c = spawnChild({ argv: [NODE, '-e', ECHO_CHILD], label: 'echo-child' });
  t.after(() => c.killGroup('SIGKILL'));
  assert.ok(c.pid > 0);
  assert.ok(liveChildren().includes(c as never));
  const ready = await c.waitFor('ready', 5000);
  assert.deepEqual(ready, { event: 'ready' });
  // `tick` was printed right after `ready`; it counts although it arrived before this waitFor.
  await new Promise((r) => setTimeout(r, 100));
  const tick = await c.waitFor((e) => e.event === 'tick', 1000);
  assert.equal(tick.n, 1);
  c.send('hello');
  c.send({ cmd: 'close' });
  const e1 = await c.waitFor('echo', 5000);
  const e2 = await c.waitFor('echo', 5000);
  assert.equal(e1.line, 'hello');
  assert.equal(e2.line, '{"cmd":"close"}');
  assert.ok(c.stderrTail().includes('hello from stderr'));
  assert.ok(c.stderrTail().includes('stdout: not json, kept as diagnostics'));
  c.send('quit');
  assert.deepEqual(await c.exited, { code: 3, signal: null });
  assert.ok(!liveChildren().includes(c as never));
  const all: string[] = [];
  for await (const e of c.events) all.push(e.event);
  assert.deepEqual(all, ['ready', 'tick', 'echo', 'echo']);
  assert.throws(() => c.send('late'), LabError);
});

test('waitFor times out with a LabError naming the label, the event and the stderr tail', async (t) => {
  const c = spawnChild({ argv: [NODE, '-e', ECHO_CHILD], label: 'slow-child' });
  t.after(() => c.killGroup('SIGKILL'));
  await c.waitFor('ready', 5000);
  await assert.rejects(c.waitFor('listening', 200), (err: unknown) => {
    assert.ok(err instanceof LabError);
    assert.match(err.message, /slow-child/);
    assert.match(err.message, /event "listening"/);
    assert.match(err.message, /within 200 ms/);
    assert.match(err.message, /hello from stderr/);
    return true;
  });
  // The same event name: already consumed `ready` is not handed out twice.
  await assert.rejects(c.waitFor('ready', 100), LabError);
});

test('waitFor rejects when the child exits or is killed first; kill hits the program itself', async (t) => {
  const dying = spawnChild({ argv: [NODE, '-e', 'console.error("boom: bad config"); process.exit(4)'], label: 'dying-child' });
  t.after(() => dying.killGroup('SIGKILL'));
  await assert.rejects(dying.waitFor('listening', 5000), (err: unknown) => {
    assert.ok(err instanceof LabError);
    assert.match(err.message, /dying-child.*exited with code 4.*boom: bad config/);
    return true;
  });

  const victim = spawnChild({ argv: [NODE, '-e', ECHO_CHILD], label: 'victim' });
  t.after(() => victim.killGroup('SIGKILL'));
  await victim.waitFor('ready', 5000);
  // With setpriv in front, the pid must still be node's own (setpriv execs).
  assert.equal(readFileSync(`/proc/${victim.pid}/comm`, 'utf8').trim(), 'node');
  const pending = victim.waitFor('never', 5000);
  assert.equal(victim.kill('SIGKILL'), true);
  await assert.rejects(pending, /killed by SIGKILL/);
  assert.deepEqual(await victim.exited, { code: null, signal: 'SIGKILL' });
  assert.equal(victim.kill('SIGKILL'), false);
});

test('a missing program is a MissingToolError', () => {
  assert.throws(() => spawnChild({ argv: ['rstlab-no-such-program'], label: 'x' }), MissingToolError);
});

test('killAllChildren kills every live child and its group', async () => {
  const a = spawnChild({ argv: [NODE, '-e', ECHO_CHILD], label: 'a' });
  // A grandchild in the same process group.
  const b = spawnChild({ argv: ['sh', '-c', 'sleep 30 & echo "{\\"event\\":\\"forked\\",\\"pid\\":$!}"; wait'], label: 'b' });
  const forked = await b.waitFor('forked', 5000);
  await a.waitFor('ready', 5000);
  await killAllChildren();
  assert.equal((await a.exited).signal, 'SIGKILL');
  assert.equal((await b.exited).signal, 'SIGKILL');
  assert.ok(await waitGone(Number(forked.pid), 2000), 'grandchild in the group is gone');
});

test('children die with a lab process that is SIGKILLed (PDEATHSIG)', { skip: hasParentDeathSignal() ? false : 'setpriv (util-linux) is not installed' }, async (t) => {
  const procUrl = new URL('./proc.js', import.meta.url).href;
  const lab = `
    import { spawnChild } from ${JSON.stringify(procUrl)};
    const c = spawnChild({ argv: ['sleep', '30'], label: 'sleeper' });
    console.log(JSON.stringify({ event: 'spawned', pid: c.pid }));
    setTimeout(() => {}, 30000);
  `;
  const parent = spawnChild({ argv: [NODE, '--input-type=module', '-e', lab], label: 'fake-lab' });
  t.after(() => parent.killGroup('SIGKILL'));
  const { pid } = await parent.waitFor('spawned', 5000);
  assert.ok(isAlive(Number(pid)));
  parent.kill('SIGKILL'); // no exit handler can run
  await parent.exited;
  // The sleeper is in its own process group, so only PDEATHSIG can have killed it.
  assert.ok(await waitGone(Number(pid), 3000), 'the grandchild died with its lab');
});
