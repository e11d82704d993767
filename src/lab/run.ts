// The lab runner: every selected scenario × client, one at a time, each with its own capture.
// Contract: `runLab(opts)` sets up the topology (namespaces when root, else loopback), starts real
// server/proxy/client processes, performs the scenario's actions (SIGKILL, firewall, abort), waits
// for the client's result, stops the capture, explains it, and checks every RST against what the
// scenario constructs. It always tears everything down (finally + signal handlers), and returns
// the runs; claims.ts turns them into verdicts.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { readCapture } from '../capture/reader.js';
import { CaptureFormatError } from '../errors.js';
import { repoFile } from '../paths.js';
import { explainCapture } from '../explain/index.js';
import type { ExplainResult } from '../explain/index.js';
import { flagString, LINUX_ACTIVE_RESET_REASONS } from '../explain/index.js';
import { allowsKernelReason } from '../report/kernel-table.js';
import { relativeNumbers } from '../report/ladder.js';
import type { KernelOnlyRst, LabResults, LadderSegment, Role, RunRecord, TimelineEvent, WireFin, WireRst } from '../report/results.js';
import { parseEndpoint } from '../wire/addr.js';
import { decodeFrame } from '../wire/decode.js';
import { seqAdd } from '../wire/seq.js';
import { TcpFlag } from '../wire/types.js';
import { startCapture } from './capture.js';
import { makeLabCertificates } from './certs.js';
import { installSignalCleanup } from './cleanup.js';
import { hopAvailable, startHop } from './hops.js';
import type { Hop, HopKind } from './hops.js';
import { startKernelTrace, TracePool } from './kernel-trace.js';
import type { KernelSend, KernelTraceEvent } from './kernel-trace.js';
import { driverAvailable, driverCommand } from './drivers/index.js';
import type { ClientName, DriverConfig, DriverEvent, ServerConfig, ServerEvent } from './protocol.js';
import type { Child } from './proc.js';
import { REASONS_NOT_CONSTRUCTED } from './scenarios.js';
import type { Scenario, ScenarioActions } from './scenarios.js';
import { serverProgramPath } from './servers/index.js';
import { databaseUnavailable, disposeDatabases, isDatabaseKind, prepareDatabase } from './servers/databases.js';
import type { DatabaseServer } from './servers/databases.js';
import { createTopology, SHORT_TCP_TIMERS } from './topology.js';
import type { Topology } from './topology.js';

export interface LabOptions {
  outDir: string;
  scenarios: Scenario[];
  clients: ClientName[];
  /** `all`: each scenario with every client that can show it (Scenario.allClients); `default`: its default clients. */
  matrix?: 'default' | 'all';
  mode: 'auto' | 'netns' | 'loopback';
  /** Runs at a time, each lane on its own topology (netns mode; loopback runs one at a time). Default LAB_LANES. */
  lanes?: number;
  /** Progress callback for the live view. */
  onProgress?: (p: Progress) => void;
}

export type Progress =
  | { kind: 'setup'; message: string }
  | { kind: 'run-start'; index: number; total: number; scenario: string; client: ClientName }
  | { kind: 'run-end'; index: number; total: number; run: RunRecord };

export interface LabRun {
  mode: 'netns' | 'loopback';
  modeReason: string;
  capture: boolean;
  kernelTrace: LabResults['host']['kernelTrace'];
  reasonsNotConstructed: Record<string, string>;
  runs: RunRecord[];
  /** Runs that went on at a time. */
  lanes: number;
  startedAt: string;
  durationMs: number;
}

/** Lanes by default: the lab's runs mostly wait on timers and on the processes they killed, so
 *  four topologies share this machine's cores without changing what any kernel does. */
export const LAB_LANES = 4;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function roleOf(addr: string, hosts: { client: string; server: string; proxy: string }): Role | 'unknown' {
  const ip = parseEndpoint(addr).addr;
  if (ip === hosts.server) return 'server';
  if (ip === hosts.proxy) return 'proxy';
  if (ip === hosts.client) return 'client';
  return 'unknown';
}

/** Compare what the capture shows with what the scenario constructs. */
export function checkExpectation(s: Scenario, rsts: WireRst[], fins: WireFin[]): string[] {
  const problems: string[] = [];
  for (const r of rsts) {
    const allowed = r.role === 'unknown' ? undefined : s.expect.allow[r.role];
    if (!allowed) problems.push(`unexpected RST from ${r.role} ${r.from} (frame ${r.frame}, ${r.cause})`);
    else if (!allowed.includes(r.cause)) problems.push(`RST in frame ${r.frame} from ${r.role}: explained as ${r.cause}, the scenario constructs ${allowed.join(' or ')}`);
  }
  for (const [role, cause] of s.expect.must ?? []) {
    if (!rsts.some((r) => r.role === role && r.cause === cause)) problems.push(`no ${cause} RST from ${role} in the capture`);
  }
  for (const role of s.expect.fin ?? []) {
    if (!fins.some((f) => f.role === role)) problems.push(`no FIN from ${role} in the capture`);
  }
  return problems;
}

export async function runLab(opts: LabOptions): Promise<LabRun> {
  const started = Date.now();
  const progress = opts.onProgress ?? (() => undefined);
  const runId = `${process.pid.toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  await mkdir(path.join(opts.outDir, 'captures'), { recursive: true });

  progress({ kind: 'setup', message: 'creating the topology' });
  const timers = { ...SHORT_TCP_TIMERS, 'net.ipv4.tcp_retries2': 3 };
  // Short timers inside the lab's namespaces only: retransmissions give up after ~3 s (RTO 200 ms × (2^4 − 1)).
  const first = await createTopology({ runId, mode: opts.mode, tcpTimers: timers });
  const topos: Topology[] = [first];
  const destroyAll = async () => { for (const t of topos) await t.destroy(); };
  // The kernel's own reasons for the RSTs of every run (one tracefs instance for the lab).
  const traced = await startKernelTrace(runId);
  const trace = 'unavailable' in traced ? null : traced;
  const pool = trace ? new TracePool(trace) : null;
  if ('unavailable' in traced) progress({ kind: 'setup', message: `no kernel reasons: ${traced.unavailable}` });
  let lost = 0;
  const removeSignalCleanup = installSignalCleanup(async () => { await trace?.stop(); await destroyAll(); await disposeDatabases(); });
  try {
    // Lanes: more topologies beside the first (netns only: loopback is the host's one stack), each
    // with its own addresses, so that the kernel's events tell them apart.
    const lanes = first.mode === 'netns' ? Math.max(1, Math.min(opts.lanes ?? LAB_LANES, 32)) : 1;
    if (lanes > 1) progress({ kind: 'setup', message: `creating ${lanes - 1} more topologies` });
    for (let k = 1; k < lanes; k++) topos.push(await createTopology({ runId: `${runId}l${k}`, mode: 'netns', tcpTimers: timers, hostOctet: 2 + k }));
    const hostsOf = (topo: Topology, family?: 6) => family === 6
      // IPv6 runs (netns only: on loopback every host is ::1).
      ? { client: topo.hosts.client.ipv6 ?? '', server: topo.hosts.server.ipv6 ?? '', proxy: topo.hosts.proxy.ipv6 ?? '' }
      : { client: topo.hosts.client.ipv4, server: topo.hosts.server.ipv4, proxy: topo.hosts.proxy.ipv4 };
    let captureOk = true;
    let captureWhy = '';
    if (first.mode === 'loopback' && process.getuid?.() !== 0) { captureOk = false; captureWhy = 'capturing needs root (tcpdump)'; }
    progress({ kind: 'setup', message: 'making certificates' });
    const certIps = [...new Set(topos.flatMap((t) => [t.hosts.server.ipv4, t.hosts.proxy.ipv4])), '127.0.0.1'];
    const certs = await makeLabCertificates(path.join(opts.outDir, 'certs'), { ips: certIps, dnsNames: ['localhost', 'server.rstlab.test'] });

    const plan: Array<{ scenario: Scenario; client: ClientName }> = [];
    for (const scenario of opts.scenarios) {
      const candidates = opts.matrix === 'all' ? (scenario.allClients ?? scenario.clients) : scenario.clients;
      for (const client of candidates) if (opts.clients.includes(client)) plan.push({ scenario, client });
    }
    const availability = new Map<ClientName, { ok: true } | { ok: false; why: string }>();
    for (const c of new Set(plan.map((p) => p.client))) availability.set(c, await driverAvailable(c));
    /** Why a run's server cannot run here (a database server's package missing), or null. */
    const serverMissing = async (scenario: Scenario, client: ClientName): Promise<string | null> => {
      const kind = scenario.server(client)?.kind;
      return kind && isDatabaseKind(kind) ? databaseUnavailable(kind) : null;
    };

    const runs: RunRecord[] = new Array<RunRecord>(plan.length);
    const runAt = async (i: number, topo: Topology): Promise<RunRecord> => {
      const { scenario, client } = plan[i]!;
      progress({ kind: 'run-start', index: i, total: plan.length, scenario: scenario.id, client });
      const base: RunRecord = {
        id: `${scenario.id}--${client}`, scenario: scenario.id, client, status: 'skipped', outcome: null,
        capture: null, rsts: [], fins: [], connections: [], ladder: [], timeline: [], serverEvents: [], problems: [], durationMs: 0,
      };
      const avail = availability.get(client)!;
      if (!avail.ok) return { ...base, reason: avail.why };
      if (scenario.pause && !(await canPause(client, scenario.reuse))) {
        return { ...base, reason: scenario.reuse
          ? `${client} cannot hold at the idle point between two requests, so it cannot show this scenario`
          : `${client} cannot hold at the pause point (the seed's breakpoint), so it cannot show this scenario` };
      }
      if ((scenario.needs === 'netns' || scenario.family === 6) && topo.mode !== 'netns') return { ...base, reason: 'needs the lab\'s network namespaces (run as root, without --loopback)' };
      const missing = await serverMissing(scenario, client);
      if (missing) return { ...base, reason: missing };
      const hop = hopOf(scenario);
      if (hop) {
        const ready = await hopAvailable(hop);
        if (!ready.ok) return { ...base, reason: ready.why };
      }
      let run: RunRecord;
      try {
        run = await runOne(topo, scenario, client, base, { outDir: opts.outDir, certs, hosts: hostsOf(topo, scenario.family), capture: captureOk, pool });
      } catch (err) {
        run = { ...base, status: 'failed', reason: (err as Error).message };
      }
      if (!captureOk && run.status !== 'failed') run.problems.push(`no capture: ${captureWhy}`);
      return run;
    };
    let next = 0;
    await Promise.all(topos.map(async (topo) => {
      for (let i = next++; i < plan.length; i = next++) {
        runs[i] = await runAt(i, topo);
        progress({ kind: 'run-end', index: i, total: plan.length, run: runs[i]! });
      }
    }));
    if (trace) lost = (await trace.stop()).lost;
    return {
      mode: first.mode, modeReason: first.reason, capture: captureOk, runs, lanes,
      kernelTrace: trace ? { available: true, lost } : { available: false, why: (traced as { unavailable: string }).unavailable },
      reasonsNotConstructed: REASONS_NOT_CONSTRUCTED,
      startedAt: new Date(started).toISOString(), durationMs: Date.now() - started,
    };
  } finally {
    await trace?.stop();
    await destroyAll();
    await disposeDatabases();
    removeSignalCleanup();
  }
}

/** The real proxy program a scenario runs (hops.ts), if any. */
function hopOf(s: Scenario): HopKind | undefined {
  return s.reverseProxy ?? (s.viaProxy ? s.forwardProxy : undefined);
}

/** Whether a client's driver can hold right after connecting (curl cannot), or with `reuse` at the idle point. */
async function canPause(client: ClientName, reuse?: DriverConfig['reuse']): Promise<boolean> {
  const probe: DriverConfig = { client, scheme: 'http', target: { host: '127.0.0.1', port: 1 }, path: '/', pause: true, timeoutMs: 1000, ...(reuse ? { reuse } : {}) };
  return (await driverCommand(probe)).canPause;
}

interface RunEnv {
  outDir: string;
  certs: { caFile: string; certFile: string; keyFile: string };
  hosts: { client: string; server: string; proxy: string };
  capture: boolean;
  /** The kernel's reset reasons, when they can be read (shared by the lanes). */
  pool: TracePool | null;
}

async function runOne(topo: Topology, scenario: Scenario, client: ClientName, base: RunRecord, env: RunEnv): Promise<RunRecord> {
  const t0 = Date.now();
  const timeline = base.timeline;
  const now = () => Date.now() - t0;
  /** A lab action, on the host it acts on (none: the router). */
  const act = (text: string, host?: Role) => timeline.push({ ms: now(), who: 'lab', kind: 'action', ...(host ? { host } : {}), text });
  const reported = (who: TimelineEvent['who'], text: string) => timeline.push({ ms: now(), who, kind: 'event', text });
  const children: Array<Child<ServerEvent> | Child<DriverEvent>> = [];
  const removers: Array<() => Promise<void>> = [];
  /** The sysctls a scenario changed, to put back (last changed first). */
  const restores: Array<() => Promise<void>> = [];
  const serverEvents: Array<Record<string, unknown>> = [];
  /** A database server of the run (servers/databases.ts): its own directory, cgroup and log. */
  let db: DatabaseServer | null = null;
  let serverSoftware: RunRecord['software'];
  const file = path.join(env.outDir, 'captures', `${base.id}.pcap`);
  // On loopback the interface is shared with the host: keep only the lab's own addresses.
  const filter = topo.mode === 'loopback' ? `tcp and (host ${env.hosts.server} or host ${env.hosts.proxy})` : undefined;
  const marks = { start: `rstlab ${base.id} start ${t0}`, end: `rstlab ${base.id} end ${t0}` };
  env.pool?.begin(marks.start);
  let traceEnded = false;
  // Behind a reverse proxy both connections (client↔proxy, proxy↔origin) cross the proxy's link.
  const live = env.capture ? await startCapture(topo, scenario.reverseProxy ? 'proxy' : 'client', { file, ...(filter ? { filter } : {}), ...(scenario.reverseProxy ? { bufferKiB: 32768 } : {}) }) : null;
  const hops: Hop[] = [];
  try {
    // Servers: the origin (unless nothing must listen) and, through a proxy, the proxy.
    const serverSpec = scenario.server(client);
    let serverPort: number;
    let server: Child<ServerEvent> | null = null;
    if (serverSpec && isDatabaseKind(serverSpec.kind)) {
      db = await prepareDatabase(serverSpec.kind, { host: env.hosts.server, clientHost: env.hosts.client, ...(serverSpec.idleTimeoutMs ? { idleTimeoutMs: serverSpec.idleTimeoutMs } : {}) });
    }
    if (serverSpec) {
      const cfg: ServerConfig = { ...serverSpec, listen: { host: env.hosts.server, port: 0 }, certFile: env.certs.certFile, keyFile: env.certs.keyFile };
      const argv = db ? db.argv : serverSpec.tcp?.noAccept
        ? ['python3', repoFile('src/lab/tools/listen-only.py'), env.hosts.server, String(serverSpec.tcp.backlog ?? 16)]
        : serverSpec.tcp?.actor
          ? ['python3', repoFile('src/lab/tools/actor.py'), 'server', env.hosts.server, JSON.stringify(serverSpec.tcp.actor)]
          : [process.execPath, serverProgramPath(), JSON.stringify(cfg)];
      server = topo.spawn<ServerEvent>('server', argv, { label: `${base.id} server` });
      children.push(server);
      db?.adopt(server.pid);
      server.on('event', (e: ServerEvent) => { serverEvents.push(e as unknown as Record<string, unknown>); if (e.event !== 'listening') reported('server', describeServerEvent(e)); });
      // A database daemon's start takes longer (MariaDB: its InnoDB; the first run: its template).
      const ev = await server.waitFor((e) => e.event === 'listening', db ? 25_000 : 5000);
      serverPort = ev.event === 'listening' ? ev.port : 0;
      if (ev.event === 'listening') serverSoftware = ev.software;
    } else {
      serverPort = await unusedPort(topo, env.hosts.server);
    }
    let proxyPort: number | null = null;
    let proxy: Child<ServerEvent> | null = null;
    let hop: Hop | null = null;
    const kind = hopOf(scenario);
    if (kind) {
      act(`start ${kind}`, 'proxy');
      hop = await startHop(topo, kind, {
        dir: path.join(env.outDir, 'hops', base.id), host: env.hosts.proxy,
        ...(scenario.reverseProxy ? { upstream: { host: env.hosts.server, port: serverPort } } : {}),
        ...(scenario.healthCheckMs ? { healthCheckMs: scenario.healthCheckMs } : {}),
        ca: { certFile: env.certs.caFile, keyFile: path.join(path.dirname(env.certs.caFile), 'ca.key') },
      });
      hops.push(hop);
      children.push(hop.child as unknown as Child<ServerEvent>);
      if (scenario.viaProxy) proxyPort = hop.port;
    } else if (scenario.viaProxy) {
      const cfg: ServerConfig = { kind: 'proxy', listen: { host: env.hosts.proxy, port: 0 } };
      proxy = topo.spawn<ServerEvent>('proxy', [process.execPath, serverProgramPath(), JSON.stringify(cfg)], { label: `${base.id} proxy` });
      children.push(proxy);
      proxy.on('event', (e: ServerEvent) => { if (e.event !== 'listening') reported('proxy', describeServerEvent(e)); });
      const pe = await proxy.waitFor((e) => e.event === 'listening', 5000);
      proxyPort = pe.event === 'listening' ? pe.port : 0;
    }

    const config: DriverConfig = {
      client,
      scheme: scenario.scheme(client),
      target: scenario.reverseProxy && hop ? { host: env.hosts.proxy, port: hop.port } : { host: env.hosts.server, port: serverPort },
      path: scenario.path ?? '/',
      ...(proxyPort !== null ? { proxy: { host: env.hosts.proxy, port: proxyPort } } : {}),
      pause: scenario.pause,
      caFile: env.certs.caFile,
      ...(scenario.tcp ? { tcp: scenario.tcp } : {}),
      ...(scenario.reuse ? { reuse: scenario.reuse } : {}),
      ...(scenario.db ? { db: scenario.db } : {}),
      timeoutMs: scenario.clientTimeoutMs ?? 8000,
    };
    const { argv } = await driverCommand(config);
    const driver = topo.spawn<DriverEvent>('client', argv, { label: `${base.id} client` });
    children.push(driver);
    let result: Extract<DriverEvent, { event: 'result' }> | null = null;
    let clientLocal: string | null = null;
    let software: RunRecord['software'];
    driver.on('event', (e: DriverEvent) => {
      if (e.event === 'ready') software = e.software;
      else if (e.event === 'result') result = e;
      else if (e.event === 'connected') { clientLocal = e.local; reported('client', `connected ${e.local}`); }
      else if (e.event === 'response-started') reported('client', `response ${e.status ?? ''}`.trim());
      else if (e.event === 'idle') reported('client', 'idle (connection back in the pool)');
    });
    const actions: ScenarioActions = {
      async kill(who) {
        if (who === 'proxy' && hop) {
          act(`SIGKILL ${hop.kind}${hop.kind === 'nginx' ? ' (master and worker: the process group)' : ''}`, 'proxy');
          await hop.kill();
          return;
        }
        const c = who === 'server' ? server : proxy;
        if (!c) throw new Error(`no ${who} to kill`);
        act(`SIGKILL ${who}`, who);
        // A database server is the wrapper, the daemon and its backends: all of its cgroup at once.
        if (who === 'server' && db) await db.kill();
        else c.kill('SIGKILL');
        await c.exited;
      },
      async killClient() { act('SIGKILL client', 'client'); driver.kill('SIGKILL'); await driver.exited; },
      command(cmd) { if (!server) throw new Error('no server'); act(`server: ${String(cmd.cmd)}`, 'server'); server.send(cmd); },
      async serverEvent(event, timeoutMs = 5000, who = 'server') {
        const c = who === 'server' ? server : proxy;
        if (!c) throw new Error(`no ${who}`);
        const seen = c.history.find((e) => e.event === event);
        if (seen) return seen as unknown as Record<string, unknown>;
        return (await c.waitFor((e) => e.event === event, timeoutMs)) as unknown as Record<string, unknown>;
      },
      async firewall(host, args) {
        const remove = await topo.firewall(host, args);
        let removed = false;
        const once = async () => { if (!removed) { removed = true; await remove(); } };
        removers.push(once);
        return once;
      },
      async healFirewall() { for (const r of removers.splice(0)) await r(); },
      async sysctl(host, key, value) {
        if (topo.mode !== 'netns') throw new Error(`sysctl ${key} needs the lab's namespaces: not on this machine's own stack`);
        const old = await topo.exec(host, ['sysctl', '-n', key]);
        if (old.code !== 0) throw new Error(`sysctl ${key}: ${old.stderr.trim()}`);
        const set = await topo.exec(host, ['sysctl', '-q', '-w', `${key}=${value}`]);
        if (set.code !== 0) throw new Error(`sysctl -w ${key}=${value}: ${set.stderr.trim()}`);
        act(`${host}: ${key} = ${value}`, host === 'router' ? undefined : host);
        restores.unshift(async () => { await topo.exec(host, ['sysctl', '-q', '-w', `${key}=${old.stdout.trim()}`]); });
      },
      exec: (host, argv) => topo.exec(host, argv),
      async nextSeq(from) {
        if (!live) throw new Error('needs a capture');
        if (!clientLocal) throw new Error('client address unknown');
        await sleep(50);
        const client = parseEndpoint(clientLocal);
        const next = from === 'server'
          ? await nextSeqFrom(file, env.hosts.server, serverPort, client.port)
          : await nextSeqFrom(file, client.addr, client.port, serverPort);
        if (next === null) throw new Error(`no segment from the ${from} in the capture yet`);
        return next;
      },
      async inject(seg) {
        if (!clientLocal) throw new Error('client address unknown');
        const { addr: cip, port: cport } = parseEndpoint(clientLocal);
        const extra = seg.flags ? [String(seg.ack ?? 0), seg.flags, String(seg.payload ?? 0)] : [];
        const r = await topo.exec('server', ['python3', repoFile('src/lab/tools/inject-rst.py'), env.hosts.server, String(serverPort), cip, String(cport), String(seg.seq), ...extra]);
        if (r.code !== 0) throw new Error(`inject-rst failed: ${r.stderr.trim()}`);
        act(seg.flags ? `forged ${seg.flags} segment seq ${seg.seq}${seg.payload ? `, ${seg.payload} bytes` : ''}` : `forged RST seq ${seg.seq}`, 'server');
      },
      sleep,
      proxyLog: (re, timeoutMs = 3000) => (hop ? hop.line(re, timeoutMs) : Promise.resolve(null)),
      note: (text, host) => act(text, host),
      serverPort,
      proxyPort: hop?.port ?? proxyPort,
      get clientLocal() { return clientLocal; },
      hosts: env.hosts,
    };

    // A browser takes seconds to start: act only once the driver is up (or gone).
    await Promise.race([driver.waitFor('ready', 60_000).catch(() => undefined), driver.exited]);
    if (scenario.pause) {
      // The pause point: after connect, or with `reuse` the idle point between the two requests.
      const at = scenario.reuse ? 'idle' : 'connected';
      const ev = await driver.waitFor((e) => e.event === at || e.event === 'result', 15000);
      if (ev.event === at) {
        if (ev.event === 'connected') clientLocal = ev.local;
        await scenario.atPause?.(actions);
        if ((driver.exitStatus === undefined)) { timeline.push({ ms: now(), who: 'lab', kind: 'release' }); driver.send('go'); }
      }
    }
    await scenario.afterGo?.(actions);
    if ((driver.exitStatus === undefined) || !result) {
      await Promise.race([
        driver.waitFor((e) => e.event === 'result', config.timeoutMs + 5000).catch((err) => { if ((driver.exitStatus === undefined)) throw err; }),
        driver.exited,
      ]);
    }
    const res = result as Extract<DriverEvent, { event: 'result' }> | null;
    if (res) timeline.push({ ms: now(), who: 'client', kind: 'result' });
    await scenario.afterResult?.(actions);
    await sleep(150);
    const hopReports = await Promise.all(hops.map((h) => h.report()));
    if (live) await live.stop();
    // Every lane's events between this run's marks: attachKernel keeps those of this lane's hosts.
    const kernelEvents = env.pool ? kernelSendsBetween(await env.pool.end(marks.start, marks.end), marks.start, marks.end) : null;
    traceEnded = true;

    // Explain the run's capture.
    let rsts: WireRst[] = [];
    let fins: WireFin[] = [];
    let connections: RunRecord['connections'] = [];
    let ladder: LadderSegment[] = [];
    let seenRsts: RstSeen[] = [];
    if (live) {
      const ex = await explainCapture(file);
      seenRsts = rstSeen(ex);
      rsts = wireRsts(ex, env.hosts);
      fins = ex.connections.flatMap((c) => c.segments.filter((s) => (s.flags & TcpFlag.FIN) !== 0).map((s) => {
        const from = s.fromOrig ? c.orig : c.resp;
        return { frame: s.frame, from, role: roleOf(from, env.hosts) };
      })).sort((a, b) => a.frame - b.frame);
      connections = ex.connections.map((c) => ({ id: c.id, orig: c.orig, resp: c.resp, history: c.history, connState: c.connState }));
      const causeOf = new Map(ex.rsts.map((r) => [r.frame, r.cause]));
      ladder = ex.connections.flatMap((c) => {
        const relative = relativeNumbers(c.segments);
        return c.segments.map((x): LadderSegment => {
          const from = roleOf(x.fromOrig ? c.orig : c.resp, env.hosts);
          const to = roleOf(x.fromOrig ? c.resp : c.orig, env.hosts);
          const cause = causeOf.get(x.frame);
          return {
            frame: x.frame, ms: Math.round((x.time * 1000 - t0) * 10) / 10, from, to, flags: flagString(x.flags),
            ...relative(x), len: x.payloadLength,
            ...(cause ? { cause } : {}),
          };
        });
      }).sort((a, b) => a.frame - b.frame);
    }
    const kernelOnly = kernelEvents && live && env.pool ? attachKernel(rsts, seenRsts, kernelEvents, env.pool.trace.wallOffset, env.hosts) : undefined;
    const problems = live ? [...checkExpectation(scenario, rsts, fins), ...(kernelEvents ? checkKernel(rsts) : [])] : [];
    if (!res && !scenario.clientKilled) problems.push('the client reported no result');
    return {
      ...base,
      status: problems.length ? 'mismatch' : 'ok',
      outcome: res ? (res.outcome as RunRecord['outcome'])
        : scenario.clientKilled ? { kind: 'error', error: 'SIGKILL', message: 'the client process was killed by the lab', causes: [] } : null,
      ...(res?.cannotPause ? { cannotPause: true } : {}),
      ...(software ? { software } : {}),
      ...(db || hopReports.length ? { hops: [...(db ? db.hops(serverSoftware) : []), ...hopReports] } : {}),
      capture: live ? path.relative(env.outDir, file) : null,
      rsts, fins, connections, ladder, timeline, serverEvents, ...(kernelOnly ? { kernelOnly } : {}), problems,
      durationMs: Date.now() - t0,
    };
  } finally {
    if (!traceEnded) env.pool?.abandon(marks.start);
    for (const h of hops) await h.stop().catch(() => undefined);
    for (const r of removers.splice(0)) await r().catch(() => undefined);
    for (const r of restores.splice(0)) await r().catch(() => undefined);
    for (const c of children) if (c.exitStatus === undefined) c.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited.catch(() => undefined)));
    if (live) await live.stop().catch(() => undefined);
    await db?.dispose();
  }
}

/** The kernel's send events between two marks. */
export function kernelSendsBetween(events: KernelTraceEvent[], start: string, end: string): KernelSend[] {
  const i = events.findIndex((e) => e.kind === 'mark' && e.text === start);
  const j = events.findIndex((e) => e.kind === 'mark' && e.text === end);
  return events.slice(i < 0 ? 0 : i, j < 0 ? events.length : j).filter((e): e is KernelSend => e.kind === 'send');
}

/** The RST verdicts of an explained capture as results.json records them (no `kernel` yet). */
export function wireRsts(ex: ExplainResult, hosts: { client: string; server: string; proxy: string }): WireRst[] {
  return ex.rsts.map((r) => ({
    frame: r.frame, cause: r.cause, confidence: r.confidence, from: r.from, to: r.to, role: roleOf(r.from, hosts), summary: r.summary,
    linuxReasons: r.linuxReasons, linuxReason: r.linuxReason,
  }));
}

/** A captured RST as the matching sees it: its time, and whether it carries ACK (null: unknown). */
export interface RstSeen { time: number; ack: boolean | null }

/** Each RST verdict of an explained capture as the matching sees it (flags from the segments kept). */
export function rstSeen(ex: ExplainResult): RstSeen[] {
  const flags = new Map<number, number>();
  for (const c of ex.connections) for (const x of c.segments) if (x.flags & TcpFlag.RST) flags.set(x.frame, x.flags);
  return ex.rsts.map((r) => {
    const f = flags.get(r.frame);
    return { time: r.time, ack: f === undefined ? null : (f & TcpFlag.ACK) !== 0 };
  });
}

/** How far apart (seconds) a captured RST and the kernel's event for it may be. */
const KERNEL_MATCH_SEC = 0.25;
/** How well the trace clock and the capture's timestamps line up (wallOffset is read once). */
const CLOCK_SLACK_SEC = 0.005;

/**
 * Gives each captured RST the kernel's record of it: the send event from the same address and port
 * to the same one (a listener's names no destination: 0.0.0.0:0, matched by its source) nearest in
 * time, within KERNEL_MATCH_SEC, each event used once. A RST with none gets `kernel: null`: no TCP
 * stack of this kernel sent it. Returns the kernel's RSTs from the lab's hosts that the capture
 * does not show (dropped on the way, or sent on a link the capture does not see). `times`: each
 * RST's capture time; `wallOffset`: KernelTrace.wallOffset.
 */
export function attachKernel(rsts: WireRst[], seen: RstSeen[], sends: KernelSend[], wallOffset: number, hosts: { client: string; server: string; proxy: string }): KernelOnlyRst[] {
  const used = new Set<KernelSend>();
  const unspecified = /^(0\.0\.0\.0|\[::\]):0$/;
  rsts.forEach((r, i) => {
    const gaps = new Map<KernelSend, number>();
    for (const x of sends) {
      if (used.has(x) || x.src !== r.from || (x.dst !== r.to && !unspecified.test(x.dst))) continue;
      const gap = Math.abs(x.ts + wallOffset - seen[i]!.time);
      if (gap <= KERNEL_MATCH_SEC) gaps.set(x, gap);
    }
    // The nearest, but among events as near as the two clocks can tell apart (a burst of RSTs
    // within a millisecond, logged on different CPUs) the first, in the kernel's order, that the
    // kernel function which logs it most likely built: a RST without ACK is never a live socket's
    // own (tcp_send_active_reset always sets ACK); one with ACK is, unless it answers a SYN.
    const nearest = Math.min(...gaps.values());
    const near = [...gaps].filter(([, gap]) => gap <= nearest + CLOCK_SLACK_SEC).map(([x]) => x);
    const ack = seen[i]!.ack;
    const fits = (x: KernelSend) => ack === null || ack === LINUX_ACTIVE_RESET_REASONS.has(x.reason);
    const best: KernelSend | null = near.find(fits) ?? near[0] ?? null;
    if (best) used.add(best);
    r.kernel = best ? { reason: best.reason, state: best.state } : null;
  });
  const labHost = (ep: string) => roleOf(ep, hosts) !== 'unknown';
  return sends.filter((x) => !used.has(x) && labHost(x.src)).map((x) => ({ from: x.src, to: x.dst, reason: x.reason, state: x.state }));
}

/** Where the explainer contradicts the kernel: a reason it rules out, or a cause no TCP stack sends. */
export function checkKernel(rsts: WireRst[]): string[] {
  const problems: string[] = [];
  for (const r of rsts) {
    if (!r.kernel) continue;
    if (r.linuxReasons.length === 0) problems.push(`RST in frame ${r.frame}: explained as ${r.cause}, not a Linux TCP reset, but the kernel sent it (${r.kernel.reason}, ${r.kernel.state})`);
    else if (!allowsKernelReason(r)) problems.push(`RST in frame ${r.frame}: the kernel's reason is ${r.kernel.reason} (${r.kernel.state}); the explainer (${r.cause}) allows ${r.linuxReasons.join(', ')}`);
  }
  return problems;
}

/** SND.NXT of `fromIp:fromPort` towards port `toPort`, from a capture still being written (a cut-off last record is fine). */
async function nextSeqFrom(file: string, fromIp: string, fromPort: number, toPort: number): Promise<number | null> {
  let next: number | null = null;
  await readCapture(file, {
    packet(rec) {
      const d = decodeFrame(rec.linkType, rec.data, rec.origLen);
      if (d.kind !== 'tcp' || d.ip.src !== fromIp || d.tcp.srcPort !== fromPort || d.tcp.dstPort !== toPort) return;
      if (d.tcp.rst) return;
      next = seqAdd(d.tcp.seqNumber, d.payloadLength + (d.tcp.syn ? 1 : 0) + (d.tcp.fin ? 1 : 0));
    },
  }).catch((err: unknown) => { if (!(err instanceof CaptureFormatError)) throw err; });
  return next;
}

function describeServerEvent(e: ServerEvent): string {
  switch (e.event) {
    case 'accepted': return `accepted ${e.peer}`;
    case 'request': return `request ${e.method} ${e.path}`;
    case 'mid-response': return `mid-response (${e.bytes} bytes sent)`;
    case 'tunnel': return `tunnel to ${e.target}`;
    case 'closed': return `closed: ${e.how}${e.error ? ` (${e.error})` : ''}`;
    case 'sent': return `sent ${e.bytes} bytes`;
    case 'error': return `error: ${e.message}`;
    case 'listening': return 'listening';
    case 'step': return `did ${e.op}`;
    case 'done': return 'done';
    default: return JSON.stringify(e);
  }
}

/** A port on the server host where nothing listens (for `refused`): bind one, note it, release it. */
async function unusedPort(topo: Topology, host: string): Promise<number> {
  const r = await topo.exec('server', [process.execPath, '-e',
    `const s=require('net').createServer();s.listen(0,${JSON.stringify(host)},()=>{console.log(s.address().port);s.close()})`]);
  const port = Number(r.stdout.trim());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`could not pick an unused port: ${r.stderr.trim()}`);
  return port;
}
