// The child-side half of the driver protocol (see ../protocol.ts), shared by the Node programs
// (node-driver, curl-driver): read the DriverConfig from argv[2], print DriverEvent JSON lines,
// wait for the line `go` on stdin (exit when stdin closes first), arm the `timeoutMs` safety net,
// and turn a thrown JS value into an Outcome without normalising it: name, code, message and the
// whole `cause` chain (plus AggregateError's `errors`) exactly as the library built them.
// Exactly one `result` is printed; the process exits right after it.

import { formatEndpoint } from '../../wire/addr.js';
import { lines } from '../lines.js';
import type { DriverConfig, DriverEvent, Outcome } from '../protocol.js';

type Cause = Outcome['causes'][number];

export function readConfig(argv: string[] = process.argv): DriverConfig {
  const raw = argv[2];
  if (raw === undefined) {
    process.stderr.write('usage: <driver> \'<DriverConfig JSON>\'\n');
    process.exit(2);
  }
  return JSON.parse(raw) as DriverConfig;
}

export function emit(event: DriverEvent): void {
  process.stdout.write(JSON.stringify(event) + '\n');
}

/** `host:port` (IPv6 in brackets), `?` for what the socket does not know (yet). */
export function formatAddress(host: string | undefined, port: number | undefined): string {
  if (host === undefined) return '?';
  return formatEndpoint(host, port ?? '?');
}

/** Timing and the one-result guard for a driver run. */
export class Run {
  readonly started = performance.now();
  connectMs: number | undefined;
  cannotPause = false;
  cannotReuse = false;
  private done = false;
  private stdinLines: string[] = [];
  private stdinEnded = false;
  private lineWaiters: Array<(line: string | null) => void> = [];

  constructor(readonly config: DriverConfig) {
    const timer = setTimeout(() => {
      this.finish({ kind: 'timeout-internal', message: `no outcome within ${config.timeoutMs} ms`, causes: [] });
    }, config.timeoutMs);
    timer.unref();
    lines(process.stdin, (line) => this.pushLine(line), () => {
      this.stdinEnded = true;
      for (const w of this.lineWaiters.splice(0)) w(null);
    });
    // Not reading stdin must not keep the process alive once a result is out.
    process.stdin.unref?.();
    // A library that drops a request without any callback lets the event loop run empty.
    process.on('beforeExit', () => {
      this.finish({
        kind: 'timeout-internal',
        message: 'the event loop ran empty before the client library reported an outcome (an application would wait forever)',
        causes: [],
        notes: ['event-loop-empty'],
      });
    });
  }

  private pushLine(line: string): void {
    const w = this.lineWaiters.shift();
    if (w) w(line);
    else this.stdinLines.push(line);
  }

  private nextLine(): Promise<string | null> {
    const line = this.stdinLines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.stdinEnded) return Promise.resolve(null);
    return new Promise((resolve) => this.lineWaiters.push(resolve));
  }

  /** Mark the TCP connection as set up (for timings). */
  markConnected(): void {
    this.connectMs ??= performance.now() - this.started;
  }

  /**
   * The pause point: print `connected` and wait for `go`. Without `pause`, prints `connected` and
   * returns at once. When stdin closes before `go`, the driver exits (status 3) without a result.
   */
  async holdIfPaused(local: string, remote: string): Promise<void> {
    this.markConnected();
    emit({ event: 'connected', local, remote });
    // With `reuse` the pause point is the idle one (idle()), not the connect.
    if (!this.config.pause || this.config.reuse) return;
    await this.waitGo();
  }

  /** `reuse`: the first response is read and its connection is pooled; print `idle`, then wait
   *  for `go` when paused, else for `idleMs`. */
  async idle(): Promise<void> {
    emit({ event: 'idle' });
    if (this.config.pause) await this.waitGo();
    else if (this.config.reuse?.idleMs) await new Promise((r) => setTimeout(r, this.config.reuse?.idleMs));
  }

  private async waitGo(): Promise<void> {
    process.stdin.ref?.();
    for (;;) {
      const line = await this.nextLine();
      if (line === null) {
        process.stderr.write('stdin closed while waiting for go\n');
        process.exit(3);
      }
      if (line.trim() === 'go') break;
    }
    process.stdin.unref?.();
  }

  get finished(): boolean {
    return this.done;
  }

  finish(outcome: Outcome): void {
    if (this.done) return;
    this.done = true;
    const timings: { connectMs?: number; totalMs: number } = { totalMs: round(performance.now() - this.started) };
    if (this.connectMs !== undefined) timings.connectMs = round(this.connectMs);
    const event: DriverEvent = { event: 'result', outcome, timings };
    if (this.cannotPause) event.cannotPause = true;
    if (this.cannotReuse) event.cannotReuse = true;
    process.stdout.write(JSON.stringify(event) + '\n', () => process.exit(0));
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function describe(value: unknown): Cause {
  if (value instanceof Error || (typeof value === 'object' && value !== null && 'message' in value)) {
    const e = value as Error & { code?: unknown };
    const cause: Cause = { error: errorName(e), message: String(e.message) };
    if (e.code !== undefined && e.code !== null) cause.code = String(e.code);
    return cause;
  }
  return { error: typeof value, message: String(value) };
}

function errorName(e: Error): string {
  // `name` is what the library chose to show (`TypeError`, `SocketError`); fall back to the class.
  const name = typeof e.name === 'string' && e.name !== '' ? e.name : e.constructor?.name;
  return name ?? 'Error';
}

/** The Outcome for a thrown value: the top error, then its causes outermost first. */
export function errorOutcome(err: unknown, extra: Partial<Outcome> = {}): Outcome {
  const top = describe(err);
  const causes: Cause[] = [];
  const seen = new Set<unknown>([err]);
  const walk = (value: unknown, depth: number): void => {
    if (typeof value !== 'object' || value === null || depth > 16) return;
    const v = value as { cause?: unknown; errors?: unknown };
    if (Array.isArray(v.errors)) {
      for (const inner of v.errors) {
        if (seen.has(inner)) continue;
        seen.add(inner);
        causes.push({ ...describe(inner), relation: 'aggregate' });
        walk(inner, depth + 1);
      }
    }
    if (v.cause !== undefined && !seen.has(v.cause)) {
      seen.add(v.cause);
      causes.push(describe(v.cause));
      walk(v.cause, depth + 1);
    }
  };
  walk(err, 0);
  const outcome: Outcome = { kind: 'error', error: top.error, message: top.message, causes, ...extra };
  if (top.code !== undefined) outcome.code = top.code;
  return outcome;
}
