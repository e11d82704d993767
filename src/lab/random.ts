// Randomized lab runs (`rstlab lab --random N [--seed S]`): the kernel grades the explainer on
// situations nobody wrote a scenario for. Contract:
// - `randomPlan(seed, i)` is pure: the same seed and index give the same plan. A plan is what each
//   end does, in order, with real sockets (tools/actor.py: send, read some, wait, SO_LINGER {1,0},
//   TCP_LINGER2 -1, TCP_USER_TIMEOUT, shutdown, close, or hold), over IPv4 or IPv6, plus what the lab does meanwhile: SIGKILL one end,
//   destroy the server's socket (ss -K) or drop the path at the router for a while. Every wait is
//   bounded; a run lasts about a second.
// - `runRandom(opts)` needs the lab's namespaces and the kernel's reasons (root, Linux ≥ 6.10). It
//   runs `lanes` plans at a time, each on its own server port (its capture filter, its firewall
//   rules, its share of the kernel's events). For
//   each plan it captures at the client, runs both ends, kills what is left, explains the capture and
//   compares every captured RST with the kernel's record of it: `agree` when the kernel's reason is
//   among the explainer's Linux reasons, `disagree` otherwise, `no-kernel-event` when the kernel
//   logged none (lost, or not matched). A disagreement is saved with its plan, capture and the
//   kernel's events (DIR/random/<seed>-<i>/), so that it can become a fixture. Everything is torn
//   down on every exit path, as in runLab.

import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LabError } from '../errors.js';
import { explainCapture } from '../explain/index.js';
import { repoFile } from '../paths.js';
import { allowsKernelReason } from '../report/kernel-table.js';
import type { WireRst } from '../report/results.js';
import { startCapture } from './capture.js';
import { installSignalCleanup } from './cleanup.js';
import { startKernelTrace, TracePool } from './kernel-trace.js';
import { parseEndpoint } from '../wire/addr.js';
import type { ChildEvent } from './proc.js';
import type { ActorStep } from './protocol.js';
import { attachKernel, kernelSendsBetween, rstSeen, wireRsts } from './run.js';
import { createTopology, SHORT_TCP_TIMERS } from './topology.js';
import { seededRandom } from '../seeded.js';


export type LabMove = { at: number } & ({ do: 'kill'; who: 'client' | 'server' } | { do: 'ss-kill' } | { do: 'drop'; ms: number });

export interface RandomPlan {
  seed: number;
  index: number;
  ipVersion: 4 | 6;
  server: ActorStep[];
  client: ActorStep[];
  /** What the lab does, `at` ms after the connection is up. */
  lab: LabMove[];
}

const BYTES = [0, 100, 4096, 200_000];

function side(r: () => number): ActorStep[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const steps: ActorStep[] = [];
  // Socket options now and then: a close() in FIN-WAIT-2 that resets (TCP_LINGER2 = -1), a short
  // TCP_USER_TIMEOUT (Linux gives up without a RST).
  const opt = r();
  if (opt < 0.1) steps.push({ op: 'linger2' });
  else if (opt < 0.15) steps.push({ op: 'user-timeout', ms: 200 });
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const k = r();
    if (k < 0.4) { const b = pick(BYTES); if (b) steps.push({ op: 'send', bytes: b }); }
    else if (k < 0.7) steps.push({ op: 'recv', bytes: pick([100, 4096, 1 << 20]) });
    else steps.push({ op: 'sleep', ms: pick([10, 50, 150]) });
  }
  // How this end finishes: close (FIN, or RST over unread data), abortively, half-closed, or not.
  const end = r();
  if (end < 0.3) steps.push({ op: 'close' });
  else if (end < 0.45) steps.push({ op: 'linger0' }, { op: 'close' });
  else if (end < 0.6) steps.push({ op: 'shutdown', how: pick(['wr', 'rdwr'] as const) }, { op: 'sleep', ms: 100 }, { op: 'close' });
  else if (end < 0.75) steps.push({ op: 'close' }, { op: 'sleep', ms: 100 });
  else steps.push({ op: 'hold' });
  return steps;
}

export function randomPlan(seed: number, index: number): RandomPlan {
  const r = seededRandom((Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  const lab: LabMove[] = [];
  const move = r();
  const at = 20 + Math.floor(r() * 200);
  if (move < 0.2) lab.push({ at, do: 'kill', who: 'server' });
  else if (move < 0.35) lab.push({ at, do: 'kill', who: 'client' });
  else if (move < 0.45) lab.push({ at, do: 'ss-kill' });
  else if (move < 0.55) lab.push({ at, do: 'drop', ms: 300 });
  return { seed, index, ipVersion: r() < 0.5 ? 4 : 6, server: side(r), client: side(r), lab };
}

export type RstOutcome = 'agree' | 'disagree' | 'no-kernel-event';

export interface RandomRunResult {
  plan: RandomPlan;
  rsts: Array<Pick<WireRst, 'frame' | 'cause' | 'from' | 'to' | 'linuxReasons' | 'kernel'> & { outcome: RstOutcome }>;
  /** Set when the run could not be carried out (it counts in no total). */
  failed?: string;
  /** Where the run was saved (disagreements only). */
  saved?: string;
}

export interface RandomSummary {
  seed: number;
  runs: RandomRunResult[];
  rsts: number;
  agree: number;
  disagree: number;
  noKernelEvent: number;
  lost: number;
  durationMs: number;
}

export interface RandomOptions {
  count: number;
  seed: number;
  outDir: string;
  /** Runs at a time (RANDOM_LANES by default), each on its own server port. */
  lanes?: number;
  /** After each run, in the order they finish: `done` runs are finished so far. */
  onRun?: (r: RandomRunResult, index: number, done: number) => void;
}

/** Runs at a time: each waits mostly on timers, so four share the lab's namespaces and this
 *  machine's two cores without changing what the kernel does (each run has its own port). */
export const RANDOM_LANES = 4;

const sleep = (ms: number) => new Promise<void>((res) => setTimeout(res, ms));

export async function runRandom(opts: RandomOptions): Promise<RandomSummary> {
  const started = Date.now();
  if (process.getuid?.() !== 0) throw new LabError('randomized runs need root: the lab\'s network namespaces and the kernel\'s reasons (tracefs)', 'run as root');
  const runId = `r${process.pid.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const topo = await createTopology({ runId, mode: 'netns', tcpTimers: { ...SHORT_TCP_TIMERS } });
  const traced = await startKernelTrace(runId);
  const removeSignalCleanup = installSignalCleanup(async () => { if (!('unavailable' in traced)) await traced.stop(); await topo.destroy(); });
  try {
    if ('unavailable' in traced) throw new LabError(`randomized runs compare with the kernel, which cannot be read here: ${traced.unavailable}`);
    if (topo.mode !== 'netns') throw new LabError(`randomized runs need the lab's namespaces: ${topo.reason}`);
    const trace = traced;
    const dir = path.join(opts.outDir, 'random');
    await mkdir(dir, { recursive: true });
    // The kernel's events of every lane, drained in turn (one reader).
    const pool = new TracePool(trace);

    const one = async (i: number): Promise<RandomRunResult> => {
      const plan = randomPlan(opts.seed, i);
      const file = path.join(dir, `run-${opts.seed}-${i}.pcap`);
      const marks = { start: `rstlab random ${runId} ${i} start`, end: `rstlab random ${runId} ${i} end` };
      pool.begin(marks.start);
      let ended = false;
      const server = topo.hosts.server;
      const host = plan.ipVersion === 6 ? server.ipv6! : server.ipv4;
      const children: Array<{ kill(s: NodeJS.Signals): void; exitStatus: unknown; exited: Promise<unknown> }> = [];
      const undo: Array<() => Promise<void>> = [];
      let live: Awaited<ReturnType<typeof startCapture>> | null = null;
      try {
        const srv = topo.spawn<ChildEvent>('server', ['python3', repoFile('src/lab/tools/actor.py'), 'server', host, JSON.stringify(plan.server)], { label: `random ${i} server` });
        children.push(srv);
        const listening = await srv.waitFor('listening', 5000);
        const port = Number(listening.port);
        // Only this run's port: other lanes run beside it in the same namespaces.
        live = await startCapture(topo, 'client', { file, filter: `tcp port ${port}` });
        const target = plan.ipVersion === 6 ? `[${host}]:${port}` : `${host}:${port}`;
        const cli = topo.spawn<ChildEvent>('client', ['python3', repoFile('src/lab/tools/actor.py'), 'client', target, JSON.stringify(plan.client)], { label: `random ${i} client` });
        children.push(cli);
        await cli.waitFor((e) => e.event === 'connected' || e.event === 'error', 5000);
        const t0 = Date.now();
        for (const m of plan.lab) {
          await sleep(Math.max(0, m.at - (Date.now() - t0)));
          if (m.do === 'kill') { const c = m.who === 'server' ? srv : cli; c.kill('SIGKILL'); await c.exited; }
          else if (m.do === 'ss-kill') await topo.exec('server', ['ss', '-K', '-t', 'sport', '=', `:${port}`]);
          else {
            for (const dirArg of ['--dport', '--sport']) {
              undo.push(await topo.firewall('router', ['-I', 'FORWARD', '-p', 'tcp', dirArg, String(port), '-j', 'DROP'], { family: plan.ipVersion }));
            }
            await sleep(m.ms);
            for (const u of undo.splice(0)) await u();
          }
        }
        // Both ends' steps take well under a second; then whatever is still open dies with its process.
        await Promise.race([Promise.all([srv.waitFor('done', 1500).catch(() => undefined), cli.waitFor('done', 1500).catch(() => undefined)]), sleep(1500)]);
        await sleep(100);
        for (const c of children) if (c.exitStatus === undefined) c.kill('SIGKILL');
        await Promise.all(children.map((c) => c.exited.catch(() => undefined)));
        await sleep(200);
        await live.stop();
        const events = await pool.end(marks.start, marks.end);
        ended = true;
        const mine = (a: string) => parseEndpoint(a).port === port;
        const sends = kernelSendsBetween(events, marks.start, marks.end).filter((e) => mine(e.src) || mine(e.dst));
        const ex = await explainCapture(file);
        const hosts = { client: topo.hosts.client.ipv4, server: server.ipv4, proxy: topo.hosts.proxy.ipv4 };
        const rsts = wireRsts(ex, hosts);
        attachKernel(rsts, rstSeen(ex), sends, trace.wallOffset, hosts);
        const result: RandomRunResult = {
          plan,
          rsts: rsts.map((r) => ({
            frame: r.frame, cause: r.cause, from: r.from, to: r.to, linuxReasons: r.linuxReasons, kernel: r.kernel ?? null,
            outcome: !r.kernel ? 'no-kernel-event' : allowsKernelReason(r) ? 'agree' : 'disagree',
          })),
        };
        if (result.rsts.some((r) => r.outcome === 'disagree')) {
          const keep = path.join(dir, `${opts.seed}-${i}`);
          await mkdir(keep, { recursive: true });
          await writeFile(path.join(keep, 'plan.json'), JSON.stringify(plan, null, 1) + '\n');
          await writeFile(path.join(keep, 'kernel.json'), JSON.stringify(sends, null, 1) + '\n');
          await writeFile(path.join(keep, 'rsts.json'), JSON.stringify(result.rsts, null, 1) + '\n');
          await rename(file, path.join(keep, 'capture.pcap'));
          result.saved = path.relative(opts.outDir, keep);
        } else {
          await rm(file, { force: true });
        }
        return result;
      } catch (err) {
        return { plan, rsts: [], failed: (err as Error).message };
      } finally {
        if (!ended) pool.abandon(marks.start);
        for (const u of undo.splice(0)) await u().catch(() => undefined);
        for (const c of children) if (c.exitStatus === undefined) c.kill('SIGKILL');
        await Promise.all(children.map((c) => c.exited.catch(() => undefined)));
        await live?.stop().catch(() => undefined);
      }
    };

    const runs: RandomRunResult[] = new Array<RandomRunResult>(opts.count);
    let next = 0;
    let finished = 0;
    const lane = async () => {
      for (let i = next++; i < opts.count; i = next++) {
        runs[i] = await one(i);
        opts.onRun?.(runs[i]!, i, ++finished);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.lanes ?? RANDOM_LANES, opts.count)) }, lane));
    const all = runs.flatMap((r) => r.rsts);
    const { lost } = await trace.stop();
    return {
      seed: opts.seed, runs, rsts: all.length,
      agree: all.filter((r) => r.outcome === 'agree').length,
      disagree: all.filter((r) => r.outcome === 'disagree').length,
      noKernelEvent: all.filter((r) => r.outcome === 'no-kernel-event').length,
      lost, durationMs: Date.now() - started,
    };
  } finally {
    if (!('unavailable' in traced)) await traced.stop();
    await topo.destroy();
    removeSignalCleanup();
  }
}
