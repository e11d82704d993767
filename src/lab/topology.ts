// The lab's network: four hosts (client, router, server, proxy) either in network namespaces joined
// by veth pairs through a router, or, without root, all on the loopback interface.
//
// Contract:
// - netns mode (root): namespaces `rstlab-<runId>-{client,router,server,proxy}`. The router holds one
//   veth per endpoint (`rstlab-r-client`, `rstlab-r-server`, `rstlab-r-proxy`); each endpoint holds
//   the peer, named `rstlab-eth0`. Veths are created directly inside the namespaces, so nothing is
//   ever added to the host's namespace. Addresses: client 198.51.100.2/24 + 2001:db8:1::2/64,
//   server 203.0.113.2/24 + 2001:db8:2::2/64, proxy 192.0.2.2/24 + 2001:db8:3::2/64 (`.N` / `::N`
//   with TopologyOptions.hostOctet N, for labs running several topologies at once); the router is
//   .1 / ::1 on each link and forwards (net.ipv4.ip_forward, net.ipv6.conf.all.forwarding set in
//   its namespace only). Endpoints route everything to the router; the router has no other
//   interface, so nothing leaves. IPv6 addresses are `nodad` (usable at once). Every namespace's
//   `lo` is up and carries the owner (lab pid + start time) in its alias, for cleanupLeftovers.
//   The endpoint namespaces get SHORT_TCP_TIMERS unless `tcpTimers: false`.
// - loopback mode: client 127.0.0.1, server 127.0.0.2, proxy 127.0.0.3 (router: 127.0.0.1, not a
//   separate hop), IPv6 ::1 for all. No namespaces, so `firewall` and `setSysctl` throw LabError.
// - Every command inside a namespace runs as `ip netns exec rstlab-… CMD`; the host's sysctls and
//   firewall are never touched. iptables: whichever `iptables` the system selects (Debian 12:
//   iptables-nft, which works per namespace); falls back to iptables-legacy if that one fails.
// - `destroy()` SIGKILLs this topology's children and every process left inside its namespaces,
//   then deletes the namespaces (veths, rules and sysctls go with them). Idempotent. A lab that
//   exits without destroying (a bug) still deletes them synchronously on `process.on('exit')`.

import { execFile, execFileSync } from 'node:child_process';
import { isIPv4, isIPv6 } from 'node:net';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { LabError, MissingToolError, assertNever } from '../errors.js';
import { Child, findExecutable, spawnChild, withTimeout, type ChildEvent } from './proc.js';

export const HOST_NAMES = ['client', 'router', 'server', 'proxy'] as const;
export type HostName = (typeof HOST_NAMES)[number];
export type EndpointName = Exclude<HostName, 'router'>;
export const ENDPOINTS: readonly EndpointName[] = ['client', 'server', 'proxy'];

export interface HostInfo {
  name: HostName;
  /** The network namespace (netns mode only). */
  netns?: string;
  ipv4: string;
  ipv6?: string;
}

export type TopologyMode = 'netns' | 'loopback';

export interface ExecResult { code: number; stdout: string; stderr: string }

export interface HostSpawnOptions { env?: Record<string, string>; label?: string; cwd?: string }

export interface FirewallOptions {
  /** 4: iptables, 6: ip6tables, 'both'. Default: inferred from addresses in the rule, else 'both'. */
  family?: 4 | 6 | 'both';
}

export interface Topology {
  readonly runId: string;
  readonly mode: TopologyMode;
  /** One line: why this mode was chosen. */
  readonly reason: string;
  readonly hosts: Record<HostName, HostInfo>;
  /** Starts a JSON-lines child on `host` (see proc.ts); killed by destroy(). */
  spawn<E extends { event: string } = ChildEvent>(host: HostName, argv: string[], opts?: HostSpawnOptions): Child<E>;
  /** Runs a command on `host` to completion (never throws for a non-zero exit). */
  exec(host: HostName, argv: string[], opts?: { timeoutMs?: number; input?: string }): Promise<ExecResult>;
  /** Adds an iptables rule (`-A …` or `-I …`) in `host`'s namespace; resolves to its remover. */
  firewall(host: HostName, iptablesArgs: string[], opts?: FirewallOptions): Promise<() => Promise<void>>;
  /** `sysctl -w key=value` inside `host`'s namespace, verified by reading it back. */
  setSysctl(host: HostName, key: string, value: string | number): Promise<void>;
  getSysctl(host: HostName, key: string): Promise<string>;
  /** The interface tcpdump should listen on for `host` (router: the side facing `toward`, default client). */
  captureInterface(host: HostName, toward?: EndpointName): string;
  destroy(): Promise<void>;
}

export interface TopologyOptions {
  runId: string;
  mode: 'auto' | 'netns' | 'loopback';
  /** Sysctls for the endpoint namespaces (netns mode); default SHORT_TCP_TIMERS; false: kernel defaults. */
  tcpTimers?: Record<string, string | number> | false;
  /** netns mode: the endpoints' last address byte (IPv4 `.N`, IPv6 `::N`), 2–254, default 2. Labs
   *  running several topologies at once give each its own, so that the kernel's events (one trace
   *  for all of them) name which topology sent each RST. */
  hostOctet?: number;
}

/**
 * Short TCP timers for the endpoint namespaces, so failure scenarios end in seconds. All are
 * per-namespace on Linux ≥ 4.x: changing them inside never changes the host's.
 */
export const SHORT_TCP_TIMERS: Readonly<Record<string, number>> = {
  'net.ipv4.tcp_syn_retries': 2, // connect() to a black hole gives up after ~7 s (1+2+4)
  'net.ipv4.tcp_synack_retries': 2,
  'net.ipv4.tcp_retries2': 5, // established + unanswered: ETIMEDOUT after ~12 s at RTO 200 ms
  'net.ipv4.tcp_keepalive_time': 2,
  'net.ipv4.tcp_keepalive_intvl': 1,
  'net.ipv4.tcp_keepalive_probes': 3,
  'net.ipv4.tcp_fin_timeout': 5,
};

interface Link { endpoint: EndpointName; v4net: string; v6net: string }
const LINKS: readonly Link[] = [
  { endpoint: 'client', v4net: '198.51.100', v6net: '2001:db8:1' },
  { endpoint: 'server', v4net: '203.0.113', v6net: '2001:db8:2' },
  { endpoint: 'proxy', v4net: '192.0.2', v6net: '2001:db8:3' },
];
/** Interface names (≤ 15 characters, prefixed `rstlab-`). */
export const ENDPOINT_IFACE = 'rstlab-eth0';
export function routerIface(endpoint: EndpointName): string {
  return `rstlab-r-${endpoint}`;
}

export const NETNS_PREFIX = 'rstlab-';
/** Namespace name of `host` in run `runId`. */
export function netnsName(runId: string, host: HostName): string {
  return `${NETNS_PREFIX}${runId}-${host}`;
}

/** A fresh run id: short, lowercase, safe in namespace names. */
export function newRunId(): string {
  return `${Date.now().toString(36).slice(-5)}${Math.floor(Math.random() * 36 ** 3).toString(36).padStart(3, '0')}`;
}

const live = new Set<Topology>();
const syncCleanup = new Map<Topology, string[]>();

/** Destroys every topology of this process not yet destroyed (for signal handlers). */
export async function destroyAllTopologies(): Promise<void> {
  await Promise.all([...live].map((t) => t.destroy().catch(() => undefined)));
}

let exitHook = false;
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const names of syncCleanup.values()) deleteNamespacesSync(names);
  });
}

/** Kills the processes in the namespaces and deletes them, synchronously (exit path only). */
function deleteNamespacesSync(names: string[]): void {
  for (const ns of names) {
    try {
      const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      for (const p of pids.split(/\s+/).filter(Boolean)) {
        try {
          process.kill(Number(p), 'SIGKILL');
        } catch {
          // gone
        }
      }
    } catch {
      // namespace already gone
    }
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

/** Runs a program; resolves with its exit code and output (code -1 and the error on spawn failure). */
export function run(argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(argv[0]!, argv.slice(1), { timeout: opts.timeoutMs ?? 15000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
        resolve({ code: -1, stdout: String(stdout ?? ''), stderr: `${String(stderr ?? '')}${err.message}` });
        return;
      }
      const code = err ? ((err as { code?: number }).code ?? -1) : 0;
      resolve({ code: typeof code === 'number' ? code : -1, stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Like run, but throws LabError (naming `what`) on a non-zero exit. */
async function must(argv: string[], what: string): Promise<string> {
  const r = await run(argv);
  if (r.code !== 0) throw new LabError(`${what}: \`${argv.join(' ')}\` failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** `pid start=…` identifying this process (start time in clock ticks since boot, /proc/PID/stat field 22). */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22 overall; fields[0] is field 3
  } catch {
    return undefined;
  }
}

/** The alias written on `lo` of each lab namespace. */
export function ownerAlias(): string {
  return `rstlab owner pid=${process.pid} start=${processStartTime(process.pid) ?? '?'}`;
}

/** Why netns mode cannot be used here, or undefined when it can. */
async function netnsUnavailable(): Promise<string | undefined> {
  if (!isRoot()) return 'not root: network namespaces need root';
  if (findExecutable('ip') === undefined) return '`ip` (iproute2) is not installed';
  const r = await run(['ip', 'netns', 'list']);
  if (r.code !== 0) return `\`ip netns\` does not work: ${r.stderr.trim()}`;
  return undefined;
}

/** Creates the lab network. `mode: 'auto'` picks netns when root and `ip netns` works, else loopback. */
export async function createTopology(opts: TopologyOptions): Promise<Topology> {
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(opts.runId)) {
    throw new LabError(`invalid run id ${JSON.stringify(opts.runId)}: use 1-31 characters a-z, 0-9 and -`);
  }
  switch (opts.mode) {
    case 'loopback':
      return new LoopbackTopology(opts.runId, 'loopback mode requested');
    case 'netns': {
      const why = await netnsUnavailable();
      if (why !== undefined) {
        if (findExecutable('ip') === undefined) throw new MissingToolError('ip', 'iproute2', 'the lab needs it for network namespaces');
        throw new LabError(`cannot use network namespaces: ${why}`, 'run as root, or use loopback mode');
      }
      return NetnsTopology.create(opts, 'network namespaces requested');
    }
    case 'auto': {
      const why = await netnsUnavailable();
      if (why !== undefined) return new LoopbackTopology(opts.runId, `loopback: ${why}`);
      return NetnsTopology.create(opts, 'netns: running as root and `ip netns` works');
    }
    default:
      return assertNever(opts.mode, 'topology mode');
  }
}

abstract class BaseTopology implements Topology {
  abstract readonly mode: TopologyMode;
  abstract readonly hosts: Record<HostName, HostInfo>;
  protected readonly children = new Set<Child<{ event: string }>>();
  protected destroying: Promise<void> | undefined;

  constructor(readonly runId: string, readonly reason: string) {}

  protected abstract prefix(host: HostName): string[];
  abstract firewall(host: HostName, iptablesArgs: string[], opts?: FirewallOptions): Promise<() => Promise<void>>;
  abstract setSysctl(host: HostName, key: string, value: string | number): Promise<void>;
  abstract getSysctl(host: HostName, key: string): Promise<string>;
  abstract captureInterface(host: HostName, toward?: EndpointName): string;
  protected abstract teardown(): Promise<void>;

  protected checkHost(host: HostName): HostInfo {
    const h = this.hosts[host];
    if (h === undefined) throw new LabError(`unknown lab host ${JSON.stringify(host)}`);
    if (this.destroying !== undefined) throw new LabError(`topology ${this.runId} is destroyed`);
    return h;
  }

  spawn<E extends { event: string } = ChildEvent>(host: HostName, argv: string[], opts: HostSpawnOptions = {}): Child<E> {
    const h = this.checkHost(host);
    const child = spawnChild<E>({
      argv,
      netns: h.netns,
      env: opts.env,
      cwd: opts.cwd,
      label: opts.label ?? `${host}:${basename(argv[0] ?? '?')}`,
    });
    const c = child as unknown as Child<{ event: string }>;
    this.children.add(c);
    void child.exited.then(() => this.children.delete(c));
    return child;
  }

  async exec(host: HostName, argv: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    this.checkHost(host);
    if (argv.length === 0) throw new LabError('exec: empty argv');
    return run([...this.prefix(host), ...argv], opts);
  }

  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      const kids = [...this.children];
      for (const c of kids) c.killGroup('SIGKILL');
      await Promise.all(kids.map((c) => withTimeout(c.exited, 3000).catch(() => undefined)));
      await this.teardown();
      live.delete(this);
      syncCleanup.delete(this);
    })();
    return this.destroying;
  }
}

class LoopbackTopology extends BaseTopology {
  readonly mode = 'loopback' as const;
  readonly hosts: Record<HostName, HostInfo> = {
    client: { name: 'client', ipv4: '127.0.0.1', ipv6: '::1' },
    router: { name: 'router', ipv4: '127.0.0.1', ipv6: '::1' },
    server: { name: 'server', ipv4: '127.0.0.2', ipv6: '::1' },
    proxy: { name: 'proxy', ipv4: '127.0.0.3', ipv6: '::1' },
  };

  constructor(runId: string, reason: string) {
    super(runId, reason);
    live.add(this);
  }

  protected prefix(): string[] {
    return [];
  }

  firewall(): Promise<() => Promise<void>> {
    return Promise.reject(new LabError('firewall: needs network namespaces (run as root)'));
  }

  setSysctl(): Promise<void> {
    return Promise.reject(new LabError('setSysctl: needs network namespaces (run as root)'));
  }

  getSysctl(): Promise<string> {
    return Promise.reject(new LabError('getSysctl: needs network namespaces (run as root)'));
  }

  captureInterface(): string {
    return 'lo';
  }

  protected async teardown(): Promise<void> {
    // nothing but the children, killed by destroy()
  }
}

type IptablesFlavour = { v4: string; v6: string };
let iptablesFlavour: IptablesFlavour | undefined;

class NetnsTopology extends BaseTopology {
  readonly mode = 'netns' as const;
  readonly hosts: Record<HostName, HostInfo>;
  private readonly namespaces: string[];

  private constructor(runId: string, reason: string, octet: number) {
    super(runId, reason);
    const host = (name: HostName, ipv4: string, ipv6: string): HostInfo => ({ name, netns: netnsName(runId, name), ipv4, ipv6 });
    const at = (endpoint: EndpointName, n: number) => {
      const l = LINKS.find((x) => x.endpoint === endpoint)!;
      return [`${l.v4net}.${n}`, `${l.v6net}::${n.toString(16)}`] as const;
    };
    this.hosts = {
      client: host('client', ...at('client', octet)),
      router: host('router', ...at('client', 1)),
      server: host('server', ...at('server', octet)),
      proxy: host('proxy', ...at('proxy', octet)),
    };
    this.namespaces = HOST_NAMES.map((h) => netnsName(runId, h));
  }

  static async create(opts: TopologyOptions, reason: string): Promise<NetnsTopology> {
    const octet = opts.hostOctet ?? 2;
    if (!Number.isInteger(octet) || octet < 2 || octet > 254) throw new LabError(`hostOctet ${octet} is not 2–254`);
    const t = new NetnsTopology(opts.runId, reason, octet);
    const existing = (await must(['ip', 'netns', 'list'], 'listing namespaces')).split('\n').map((l) => l.split(' ')[0]);
    const clash = t.namespaces.find((n) => existing.includes(n));
    if (clash !== undefined) throw new LabError(`namespace ${clash} already exists`, 'choose another run id, or run `rstlab lab --cleanup`');
    installExitHook();
    live.add(t);
    syncCleanup.set(t, t.namespaces);
    try {
      await t.build(opts.tcpTimers === undefined ? SHORT_TCP_TIMERS : opts.tcpTimers);
    } catch (err) {
      await t.destroy();
      throw err;
    }
    return t;
  }

  private async build(timers: Record<string, string | number> | false): Promise<void> {
    const alias = ownerAlias();
    for (const ns of this.namespaces) {
      await must(['ip', 'netns', 'add', ns], 'creating the lab namespaces');
      await must(['ip', '-n', ns, 'link', 'set', 'lo', 'alias', alias], 'marking the namespace owner');
      await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up'], 'bringing lo up');
    }
    // No duplicate address detection on the lab links (link-local addresses included): every IPv6
    // address is usable at once instead of ~1 s later.
    await Promise.all(HOST_NAMES.map((h) => this.sysctlW(h, { 'net.ipv6.conf.all.accept_dad': 0, 'net.ipv6.conf.default.accept_dad': 0 })));
    const router = this.hosts.router.netns!;
    await Promise.all(LINKS.map(async (l) => {
      const ns = this.hosts[l.endpoint].netns!;
      const rif = routerIface(l.endpoint);
      const step = `linking ${l.endpoint} to the router`;
      await must(['ip', '-n', router, 'link', 'add', rif, 'type', 'veth', 'peer', 'name', ENDPOINT_IFACE, 'netns', ns], step);
      await must(['ip', '-n', router, 'addr', 'add', `${l.v4net}.1/24`, 'dev', rif], step);
      await must(['ip', '-n', router, '-6', 'addr', 'add', `${l.v6net}::1/64`, 'dev', rif, 'nodad'], step);
      await must(['ip', '-n', router, 'link', 'set', rif, 'up'], step);
      await must(['ip', '-n', ns, 'addr', 'add', `${this.hosts[l.endpoint].ipv4}/24`, 'dev', ENDPOINT_IFACE], step);
      await must(['ip', '-n', ns, '-6', 'addr', 'add', `${this.hosts[l.endpoint].ipv6}/64`, 'dev', ENDPOINT_IFACE, 'nodad'], step);
      await must(['ip', '-n', ns, 'link', 'set', ENDPOINT_IFACE, 'up'], step);
      await must(['ip', '-n', ns, 'route', 'add', 'default', 'via', `${l.v4net}.1`], step);
      await must(['ip', '-n', ns, '-6', 'route', 'add', 'default', 'via', `${l.v6net}::1`], step);
    }));
    await this.sysctlW('router', { 'net.ipv4.ip_forward': 1, 'net.ipv6.conf.all.forwarding': 1 });
    if (timers !== false && Object.keys(timers).length > 0) {
      await Promise.all(ENDPOINTS.map((h) => this.sysctlW(h, timers)));
    }
  }

  protected prefix(host: HostName): string[] {
    return ['ip', 'netns', 'exec', this.hosts[host].netns!];
  }

  private async sysctlW(host: HostName, kv: Record<string, string | number>): Promise<void> {
    for (const key of Object.keys(kv)) checkSysctlKey(key);
    const args = Object.entries(kv).map(([k, v]) => `${k}=${v}`);
    await must([...this.prefix(host), 'sysctl', '-q', '-w', ...args], `setting sysctls in ${host}`);
  }

  async getSysctl(host: HostName, key: string): Promise<string> {
    this.checkHost(host);
    checkSysctlKey(key);
    const out = await must([...this.prefix(host), 'sysctl', '-n', key], `reading ${key} in ${host}`);
    return out.trim().split(/\s+/).join(' ');
  }

  async setSysctl(host: HostName, key: string, value: string | number): Promise<void> {
    this.checkHost(host);
    await this.sysctlW(host, { [key]: value });
    const got = await this.getSysctl(host, key);
    const want = String(value).trim().split(/\s+/).join(' ');
    if (got !== want) throw new LabError(`${key} in ${host} reads back as ${JSON.stringify(got)}, not ${JSON.stringify(want)}`);
  }

  captureInterface(host: HostName, toward: EndpointName = 'client'): string {
    this.checkHost(host);
    return host === 'router' ? routerIface(toward) : ENDPOINT_IFACE;
  }

  async firewall(host: HostName, iptablesArgs: string[], opts: FirewallOptions = {}): Promise<() => Promise<void>> {
    this.checkHost(host);
    const del = deleteArgs(iptablesArgs);
    const family = opts.family ?? inferFamily(iptablesArgs);
    const families: Array<4 | 6> = family === 'both' ? [4, 6] : [family];
    const flavour = await this.iptables();
    const added: Array<4 | 6> = [];
    const tool = (f: 4 | 6): string => (f === 4 ? flavour.v4 : flavour.v6);
    try {
      for (const f of families) {
        await must([...this.prefix(host), tool(f), '-w', ...iptablesArgs], `adding a firewall rule on ${host}`);
        added.push(f);
      }
    } catch (err) {
      for (const f of added) await run([...this.prefix(host), tool(f), '-w', ...del]);
      throw err;
    }
    let removed = false;
    return async () => {
      if (removed || this.destroying !== undefined) return;
      removed = true;
      for (const f of added) await must([...this.prefix(host), tool(f), '-w', ...del], `removing a firewall rule on ${host}`);
    };
  }

  /** Picks iptables (system default, nft on Debian 12) or iptables-legacy: the first that works here. */
  private async iptables(): Promise<IptablesFlavour> {
    if (iptablesFlavour !== undefined) return iptablesFlavour;
    const candidates: IptablesFlavour[] = [{ v4: 'iptables', v6: 'ip6tables' }, { v4: 'iptables-legacy', v6: 'ip6tables-legacy' }];
    const errors: string[] = [];
    for (const c of candidates) {
      if (findExecutable(c.v4) === undefined || findExecutable(c.v6) === undefined) continue;
      const r4 = await run([...this.prefix('router'), c.v4, '-w', '-S', 'FORWARD']);
      const r6 = await run([...this.prefix('router'), c.v6, '-w', '-S', 'FORWARD']);
      if (r4.code === 0 && r6.code === 0) return (iptablesFlavour = c);
      errors.push(`${c.v4}: ${(r4.stderr || r6.stderr).trim()}`);
    }
    if (errors.length === 0) throw new MissingToolError('iptables', 'iptables', 'the lab\'s firewall scenarios need it');
    throw new LabError(`no working iptables in the lab namespaces: ${errors.join('; ')}`);
  }

  protected async teardown(): Promise<void> {
    for (let round = 0; round < 3; round++) {
      let killed = 0;
      for (const ns of this.namespaces) {
        const r = await run(['ip', 'netns', 'pids', ns]);
        if (r.code !== 0) continue;
        for (const p of r.stdout.split(/\s+/).filter(Boolean)) {
          try {
            process.kill(Number(p), 'SIGKILL');
            killed++;
          } catch {
            // gone
          }
        }
      }
      if (killed === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const errors: string[] = [];
    for (const ns of this.namespaces) {
      const r = await run(['ip', 'netns', 'del', ns]);
      if (r.code !== 0 && !/No such file|not found|Invalid argument/i.test(r.stderr)) errors.push(`${ns}: ${r.stderr.trim()}`);
    }
    if (errors.length > 0) throw new LabError(`could not delete lab namespaces: ${errors.join('; ')}`);
  }
}

function checkSysctlKey(key: string): void {
  if (!/^[a-z0-9_]+(\.[a-zA-Z0-9_-]+)+$/.test(key)) throw new LabError(`invalid sysctl key ${JSON.stringify(key)}`);
}

/** The `-D` form of an `-A`/`-I` rule (the position number after `-I CHAIN` is dropped). */
export function deleteArgs(args: string[]): string[] {
  const i = args.findIndex((a) => a === '-A' || a === '--append' || a === '-I' || a === '--insert');
  if (i < 0 || i + 1 >= args.length) throw new LabError(`firewall: the rule must add to a chain with -A or -I: ${args.join(' ')}`);
  if (args.some((a, j) => j !== i && /^(-[ADIRFZNXPE]|--(append|delete|insert|replace|flush|zero|new-chain|delete-chain|policy|rename-chain))$/.test(a))) {
    throw new LabError(`firewall: one -A/-I command per rule: ${args.join(' ')}`);
  }
  const out = args.slice();
  const insert = out[i] === '-I' || out[i] === '--insert';
  out[i] = '-D';
  if (insert && /^\d+$/.test(out[i + 2] ?? '')) out.splice(i + 2, 1);
  return out;
}

/** 4 or 6 from the addresses in a rule; 'both' when it names none. */
export function inferFamily(args: string[]): 4 | 6 | 'both' {
  let v4 = false;
  let v6 = false;
  for (const a of args) {
    for (const part of a.split(',')) {
      const addr = part.replace(/\/\d+$/, '').replace(/^!/, '');
      if (isIPv4(addr)) v4 = true;
      else if (isIPv6(addr)) v6 = true;
    }
  }
  if (v4 && v6) throw new LabError(`firewall: rule mixes IPv4 and IPv6 addresses: ${args.join(' ')}`);
  return v4 ? 4 : v6 ? 6 : 'both';
}
