// Child processes of the lab, speaking JSON lines (see protocol.ts).
//
// Contract:
// - `spawnChild` starts `argv` (inside network namespace `netns` via `ip netns exec NS argv…`, which
//   execs, so `pid` is the program's own pid and `kill('SIGKILL')` hits the real process).
// - Every stdout line that parses as a JSON object with a string `event` becomes an event; other
//   stdout lines and all stderr lines are kept in a bounded tail for diagnosis (`stderrTail()`) and
//   emitted as `stdout` / `stderr` (a real program's own log, e.g. HAProxy's `log stdout`).
// - `waitFor(what, timeoutMs)` resolves with the first event not yet taken by an earlier `waitFor`
//   that matches (`what` is an event name or a predicate), looking at events that already arrived
//   first. It rejects with LabError naming the child's label, the awaited event and the child's
//   last stderr lines when the time runs out or the child exits without sending it.
// - No orphans. Each child (1) runs in its own process group (`detached`), so a Ctrl-C on the
//   terminal reaches only the lab, which then decides; (2) gets PR_SET_PDEATHSIG=SIGKILL through
//   `setpriv --pdeathsig KILL` (util-linux) when setpriv exists, so the kernel kills it when the lab
//   dies, even by SIGKILL; (3) is in a global registry, and the lab SIGKILLs every live child's
//   process group synchronously on `process.on('exit')`; `killAllChildren()` does it on demand.
//   PDEATHSIG is not inherited by grandchildren: those die with the group kill, or (in a
//   namespace) with topology.destroy / cleanupLeftovers, which kill every pid in the namespace.
//   PDEATHSIG fires when the *thread* that spawned the child exits: spawn from the main thread.

import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LabError, MissingToolError } from '../errors.js';
import { lines } from './lines.js';

/** A parsed JSON line from a child's stdout. */
export interface ChildEvent { event: string; [key: string]: unknown }

export interface ChildExit { code: number | null; signal: NodeJS.Signals | null }

export interface SpawnOptions {
  argv: string[];
  /** Network namespace to run in (`ip netns exec`); must be a lab namespace (`rstlab-…`). */
  netns?: string;
  /** Extra environment variables (added to the lab's own environment). */
  env?: Record<string, string>;
  /** Human name used in errors and logs, e.g. `server:http` or `client:curl`. */
  label: string;
  cwd?: string;
}

const TAIL_LINES = 40;

/** Finds an executable on PATH (or checks an absolute path); undefined when absent. */
export function findExecutable(name: string, pathEnv = process.env.PATH ?? ''): string | undefined {
  const candidates = name.includes('/') ? [name] : pathEnv.split(delimiter).filter(Boolean).map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here
    }
  }
  return undefined;
}

let setprivPath: string | undefined | null = null;
/** The setpriv used for PDEATHSIG, or undefined when the system has none. */
function setpriv(): string | undefined {
  if (setprivPath === null) setprivPath = findExecutable('setpriv');
  return setprivPath;
}

/** Whether children get PR_SET_PDEATHSIG (die with the lab even when it is SIGKILLed). */
export function hasParentDeathSignal(): boolean {
  return setpriv() !== undefined;
}

const registry = new Set<Child<{ event: string }>>();

/** The children started by this process that have not exited yet. */
export function liveChildren(): Array<Child<{ event: string }>> {
  return [...registry];
}

/** SIGKILLs every live child's process group and waits (bounded) for them to exit. */
export async function killAllChildren(timeoutMs = 3000): Promise<void> {
  const all = liveChildren();
  for (const c of all) c.killGroup('SIGKILL');
  await Promise.all(all.map((c) => withTimeout(c.exited, timeoutMs).catch(() => undefined)));
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of registry) c.killGroup('SIGKILL');
  });
}

type Matcher<E> = string | ((event: E) => boolean);

interface Waiter<E> {
  match: (e: E) => boolean;
  what: string;
  resolve: (e: E) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** One child process; events are JSON lines from its stdout. `E` is the protocol's event type (unchecked). */
export class Child<E extends { event: string } = ChildEvent> extends EventEmitter {
  readonly label: string;
  readonly pid: number;
  readonly argv: readonly string[];
  readonly netns: string | undefined;
  /** Resolves once the process has exited and its stdout is drained. Never rejects. */
  readonly exited: Promise<ChildExit>;
  /** Every event received so far, in order. */
  readonly history: E[] = [];
  private readonly taken = new Set<number>();
  private readonly tail: string[] = [];
  private readonly waiters = new Set<Waiter<E>>();
  private readonly proc: ChildProcess;
  private exitInfo: ChildExit | undefined;

  constructor(opts: SpawnOptions) {
    super();
    if (opts.argv.length === 0) throw new LabError(`${opts.label}: empty argv`);
    if (opts.netns !== undefined && !/^rstlab-[A-Za-z0-9_.-]+$/.test(opts.netns)) {
      throw new LabError(`${opts.label}: refusing to run in namespace ${JSON.stringify(opts.netns)} (not a lab namespace)`);
    }
    this.label = opts.label;
    this.argv = opts.argv;
    this.netns = opts.netns;
    const program = opts.argv[0]!;
    if (findExecutable(program) === undefined) {
      throw new MissingToolError(program, debianPackageOf(program), `${opts.label} needs it`);
    }
    let full = opts.argv.slice();
    if (opts.netns !== undefined) {
      if (findExecutable('ip') === undefined) throw new MissingToolError('ip', 'iproute2', 'the lab runs processes in network namespaces with `ip netns exec`');
      full = ['ip', 'netns', 'exec', opts.netns, ...full];
    }
    const sp = setpriv();
    if (sp !== undefined) full = [sp, '--pdeathsig', 'KILL', '--', ...full];

    installExitHook();
    this.proc = spawn(full[0]!, full.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd,
    });
    if (this.proc.pid === undefined) {
      // spawn failed synchronously-ish (ENOENT etc.); the 'error' event follows.
      this.pid = -1;
    } else {
      this.pid = this.proc.pid;
    }
    registry.add(this as unknown as Child<{ event: string }>);

    let resolveExit!: (x: ChildExit) => void;
    this.exited = new Promise<ChildExit>((r) => (resolveExit = r));
    let exitSeen: ChildExit | undefined;
    let stdoutDone = false;
    const finish = (): void => {
      if (this.exitInfo !== undefined || exitSeen === undefined) return;
      this.exitInfo = exitSeen;
      registry.delete(this as unknown as Child<{ event: string }>);
      const desc = exitSeen.signal !== null ? `killed by ${exitSeen.signal}` : `exited with code ${exitSeen.code}`;
      for (const w of [...this.waiters]) this.failWaiter(w, `${desc} before sending ${w.what}`);
      this.emit('exit', exitSeen);
      resolveExit(exitSeen);
    };

    this.proc.on('error', (err) => {
      this.pushTail(`spawn error: ${err.message}`);
      exitSeen ??= { code: null, signal: null };
      stdoutDone = true;
      finish();
    });
    this.proc.on('exit', (code, signal) => {
      exitSeen = { code, signal };
      if (stdoutDone) finish();
      // A grandchild may keep stdout open: do not wait for it forever.
      else setTimeout(finish, 200).unref();
    });
    this.proc.stdin!.on('error', () => undefined); // EPIPE after the child died: reported via `exited`.
    lines(this.proc.stdout!, (line) => this.onStdout(line), () => {
      stdoutDone = true;
      finish();
    });
    lines(this.proc.stderr!, (line) => {
      this.pushTail(line);
      this.emit('stderr', line);
    }, () => undefined);
  }

  /** Exit status once exited, else undefined. */
  get exitStatus(): ChildExit | undefined {
    return this.exitInfo;
  }

  /** The last lines of stderr (and of non-JSON stdout), oldest first. */
  stderrTail(n = 15): string[] {
    return this.tail.slice(-n);
  }

  /** Async iteration over all events: those already received, then new ones until the child exits. */
  get events(): AsyncIterable<E> {
    return { [Symbol.asyncIterator]: () => this.iterate() };
  }

  private async *iterate(): AsyncGenerator<E> {
    let i = 0;
    for (;;) {
      while (i < this.history.length) yield this.history[i++]!;
      if (this.exitInfo !== undefined) return;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.off('event', done);
          this.off('exit', done);
          resolve();
        };
        this.on('event', done);
        this.on('exit', done);
      });
    }
  }

  /**
   * Waits for an event: `what` is an event name (`'listening'`) or a predicate. Each event satisfies
   * at most one waitFor; events that arrived before the call count. `description` names a predicate
   * in error messages.
   */
  waitFor<T extends E = E>(what: Matcher<E>, timeoutMs: number, description?: string): Promise<T> {
    const match = typeof what === 'string' ? (e: E) => e.event === what : what;
    const desc = description ?? (typeof what === 'string' ? `event "${what}"` : `an event matching ${what.toString().slice(0, 80)}`);
    const safe = (e: E): boolean => {
      try {
        return match(e);
      } catch {
        return false;
      }
    };
    for (let i = 0; i < this.history.length; i++) {
      if (!this.taken.has(i) && safe(this.history[i]!)) {
        this.taken.add(i);
        return Promise.resolve(this.history[i]! as T);
      }
    }
    return new Promise<T>((resolve, reject) => {
      const w: Waiter<E> = {
        match: safe,
        what: desc,
        resolve: resolve as (e: E) => void,
        reject,
        timer: setTimeout(() => this.failWaiter(w, `no ${desc} within ${timeoutMs} ms`), timeoutMs),
      };
      if (this.exitInfo !== undefined) {
        clearTimeout(w.timer);
        const x = this.exitInfo;
        reject(this.waitError(desc, x.signal !== null ? `killed by ${x.signal} before sending ${desc}` : `exited with code ${x.code} before sending ${desc}`));
        return;
      }
      this.waiters.add(w);
    });
  }

  /** Writes one line to the child's stdin: a string as is, anything else as JSON. */
  send(lineOrObject: string | object): void {
    const stdin = this.proc.stdin;
    if (this.exitInfo !== undefined || stdin === null || !stdin.writable) {
      throw new LabError(`${this.label}: cannot send to a child that has exited`, tailHint(this.stderrTail()));
    }
    const line = typeof lineOrObject === 'string' ? lineOrObject : JSON.stringify(lineOrObject);
    stdin.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  /** Closes the child's stdin (EOF). */
  endInput(): void {
    this.proc.stdin?.end();
  }

  /** Sends `signal` to the child process itself (not its group). False when it has already exited. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): boolean {
    if (this.exitInfo !== undefined || this.pid <= 0) return false;
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Sends `signal` to the child's whole process group (it and anything it forked). */
  killGroup(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.pid <= 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // group already gone
    }
  }

  private onStdout(line: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || typeof (parsed as { event?: unknown }).event !== 'string') {
      if (line.trim() !== '') {
        this.pushTail(`stdout: ${line}`);
        this.emit('stdout', line);
      }
      return;
    }
    const ev = parsed as E;
    const index = this.history.length;
    this.history.push(ev);
    for (const w of this.waiters) {
      if (w.match(ev)) {
        this.taken.add(index);
        this.waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(ev);
        break;
      }
    }
    this.emit('event', ev);
  }

  private failWaiter(w: Waiter<E>, why: string): void {
    if (!this.waiters.delete(w)) return;
    clearTimeout(w.timer);
    w.reject(this.waitError(w.what, why));
  }

  private waitError(what: string, why: string): LabError {
    const tail = this.stderrTail(10);
    const detail = tail.length > 0 ? `; last stderr: ${tail.join(' | ')}` : '; no stderr output';
    return new LabError(`${this.label} (pid ${this.pid}): waiting for ${what}: ${why}${detail}`);
  }

  private pushTail(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.splice(0, this.tail.length - TAIL_LINES);
  }
}

/** Starts a child; see the module header. Throws MissingToolError when argv[0] is not installed. */
export function spawnChild<E extends { event: string } = ChildEvent>(opts: SpawnOptions): Child<E> {
  return new Child<E>(opts);
}

function tailHint(tail: string[]): string | undefined {
  return tail.length > 0 ? `last stderr: ${tail.join(' | ')}` : undefined;
}

/** Debian package names for the programs the lab starts (for MissingToolError hints). */
export function debianPackageOf(program: string): string {
  const base = program.split('/').pop() ?? program;
  const known: Record<string, string> = {
    ip: 'iproute2', tcpdump: 'tcpdump', tshark: 'tshark', iptables: 'iptables', ip6tables: 'iptables',
    curl: 'curl', python3: 'python3', java: 'default-jre-headless', javac: 'default-jdk-headless',
    openssl: 'openssl', sysctl: 'procps', node: 'nodejs', setpriv: 'util-linux', socat: 'socat',
  };
  return known[base] ?? base;
}

/** Rejects with LabError after `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new LabError(`${what} did not finish within ${ms} ms`)), ms);
    p.then((v) => {
      clearTimeout(t);
      resolve(v);
    }, (e: unknown) => {
      clearTimeout(t);
      reject(e);
    });
  });
}
