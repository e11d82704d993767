// Tests for cleanup.ts with real lab processes (child Node processes that build a topology):
// leftovers of a SIGKILLed lab are found and removed with the processes inside; a live lab's
// namespaces are left alone; SIGINT/SIGTERM/uncaught errors run the cleanup and exit 130/143/1,
// and a Ctrl-C in the middle of a run leaves nothing. Every test passes its own namespace prefix,
// so it never touches another run's namespaces.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupLeftovers, parseOwner } from './cleanup.js';
import { listLabInstances } from './kernel-trace.js';
import { spawnChild } from './proc.js';
import { HOST_NAMES, netnsName, newRunId } from './topology.js';
import { isAlive, waitGone, netnsList } from './testkit.js';

const NODE = process.execPath;
const NOT_ROOT = process.getuid?.() === 0 ? false : 'needs root (network namespaces)';
const topoUrl = new URL('./topology.js', import.meta.url).href;
const cleanupUrl = new URL('./cleanup.js', import.meta.url).href;
const traceUrl = new URL('./kernel-trace.js', import.meta.url).href;
/** The lab's tracefs instance, as `rstlab lab` makes it (kernel-trace.ts). */
const instanceOf = (runId: string) => listLabInstances().filter((i) => i.name.endsWith(`-${runId}`));



/**
 * A lab process: builds a topology, starts a lab child in the server namespace and a process that
 * escaped the lab (double fork) in the proxy namespace, reports their pids, then waits.
 */
function labScript(runId: string, withSignalCleanup: boolean): string {
  return `
    import { createTopology } from ${JSON.stringify(topoUrl)};
    import { installSignalCleanup } from ${JSON.stringify(cleanupUrl)};
    import { startKernelTrace } from ${JSON.stringify(traceUrl)};
    const topo = await createTopology({ runId: ${JSON.stringify(runId)}, mode: 'netns' });
    const trace = await startKernelTrace(${JSON.stringify(runId)});
    if ('unavailable' in trace) throw new Error(trace.unavailable);
    ${withSignalCleanup ? 'installSignalCleanup(async () => { await trace.stop(); await topo.destroy(); });' : ''}
    const child = topo.spawn('server', ['sleep', '30']);
    const { stdout } = await topo.exec('proxy', ['sh', '-c', 'sleep 30 >/dev/null 2>&1 & echo $!']);
    console.log(JSON.stringify({ event: 'ready', child: child.pid, escaped: Number(stdout.trim()) }));
    setTimeout(() => {}, 30000);
  `;
}

test('parseOwner reads the alias topology.ts writes', () => {
  assert.deepEqual(parseOwner('rstlab owner pid=42 start=1234'), { pid: 42, start: '1234' });
  assert.equal(parseOwner(undefined), undefined);
  assert.equal(parseOwner('something else'), undefined);
});

test('cleanupLeftovers refuses a prefix outside rstlab-', async () => {
  await assert.rejects(cleanupLeftovers({ prefix: 'docker' }), /must start with rstlab-/);
});

test('the leftovers of a SIGKILLed lab are removed, with the processes inside', { skip: NOT_ROOT }, async (t) => {
  const runId = `k${newRunId()}`;
  const prefix = `rstlab-${runId}-`;
  const lab = spawnChild({ argv: [NODE, '--input-type=module', '-e', labScript(runId, false)], label: 'lab-to-kill' });
  t.after(async () => {
    lab.killGroup('SIGKILL');
    await cleanupLeftovers({ prefix, force: true });
  });
  const ready = await lab.waitFor('ready', 10000);
  const escaped = Number(ready.escaped);
  assert.ok(escaped > 0 && isAlive(escaped));
  lab.kill('SIGKILL');
  await lab.exited;
  // Leftovers: the namespaces and the escaped process (the lab's own child died by PDEATHSIG).
  for (const h of HOST_NAMES) assert.ok(netnsList().includes(netnsName(runId, h)), `${h} namespace left over`);
  assert.equal(instanceOf(runId).length, 1, 'its tracefs instance left over');
  assert.ok(isAlive(escaped), 'the escaped process survived the lab');
  assert.ok(await waitGone(Number(ready.child), 2000), 'the lab child died with the lab');

  const removed = await cleanupLeftovers({ prefix });
  assert.equal(removed.length, 5, removed.join('; '));
  assert.ok(removed.some((r) => r.startsWith('tracefs instance rstlab-p')), removed.join('; '));
  assert.equal(instanceOf(runId).length, 0, 'the instance is removed');
  assert.ok(removed.some((r) => r.startsWith(`netns ${netnsName(runId, 'proxy')} (killed 1 process: ${escaped})`)), removed.join('; '));
  for (const h of HOST_NAMES) assert.ok(!netnsList().includes(netnsName(runId, h)));
  assert.ok(await waitGone(escaped, 2000), 'the escaped process was killed');
  assert.deepEqual(await cleanupLeftovers({ prefix }), [], 'nothing left the second time');
});

test('a live lab is left alone; a SIGINT mid-run makes it clean up and exit 130, leaving nothing', { skip: NOT_ROOT }, async (t) => {
  const runId = `i${newRunId()}`;
  const prefix = `rstlab-${runId}-`;
  const lab = spawnChild({ argv: [NODE, '--input-type=module', '-e', labScript(runId, true)], label: 'lab-to-interrupt' });
  t.after(async () => {
    lab.killGroup('SIGKILL');
    await cleanupLeftovers({ prefix, force: true });
  });
  const ready = await lab.waitFor('ready', 10000);

  const skipped: string[] = [];
  assert.deepEqual(await cleanupLeftovers({ prefix, onSkip: (ns, why) => skipped.push(`${ns}: ${why}`) }), []);
  assert.equal(skipped.length, 5, skipped.join('; '));
  assert.match(skipped[0]!, new RegExp(`still running.*${lab.pid}|${lab.pid}.*still running`));

  lab.kill('SIGINT');
  assert.deepEqual(await lab.exited, { code: 130, signal: null });
  assert.ok(lab.stderrTail().some((l) => /interrupted \(SIGINT\); cleaning up/.test(l)), lab.stderrTail().join('\n'));
  for (const h of HOST_NAMES) assert.ok(!netnsList().includes(netnsName(runId, h)), `${h} namespace removed`);
  assert.equal(instanceOf(runId).length, 0, 'its tracefs instance removed');
  assert.ok(await waitGone(Number(ready.child), 2000), 'the lab child is gone');
  assert.ok(await waitGone(Number(ready.escaped), 2000), 'the escaped process is gone');
});

test('installSignalCleanup: SIGTERM exits 143 and an uncaught error exits 1, each after one cleanup', async (t) => {
  const script = (trigger: string): string => `
    import { installSignalCleanup } from ${JSON.stringify(cleanupUrl)};
    let runs = 0;
    installSignalCleanup(async () => { runs++; await new Promise((r) => setTimeout(r, 50)); console.log(JSON.stringify({ event: 'cleaned', runs })); });
    console.log(JSON.stringify({ event: 'ready' }));
    ${trigger}
    setTimeout(() => {}, 10000);
  `;
  const term = spawnChild({ argv: [NODE, '--input-type=module', '-e', script('')], label: 'term' });
  const boom = spawnChild({ argv: [NODE, '--input-type=module', '-e', script("setTimeout(() => { throw new Error('boom'); }, 50);")], label: 'boom' });
  t.after(() => {
    term.killGroup('SIGKILL');
    boom.killGroup('SIGKILL');
  });
  await term.waitFor('ready', 5000);
  term.kill('SIGTERM');
  term.kill('SIGTERM'); // a second signal during the cleanup does not run it twice
  assert.deepEqual(await term.exited, { code: 143, signal: null });
  assert.deepEqual(term.history.filter((e) => e.event === 'cleaned'), [{ event: 'cleaned', runs: 1 }]);
  assert.deepEqual(await boom.exited, { code: 1, signal: null });
  assert.equal((await boom.waitFor('cleaned', 100)).runs, 1);
  assert.ok(boom.stderrTail(40).some((l) => /internal error: Error: boom/.test(l)));
});
