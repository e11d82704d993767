// Entry points to the lab's server program (server.ts) for the code that runs it: where the compiled
// program is, and a small handle to start one as a child process, read its ServerEvent lines,
// send it ServerCommand lines and kill it. The server exits by itself when its stdin closes, so a
// handle that is dropped (or a lab that dies) leaves no server behind.

import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import readline from 'node:readline';
import type { ServerCommand, ServerConfig, ServerEvent } from '../protocol.js';
import { LabError } from '../../errors.js';

/** The compiled server program, next to this module (works from dist/ or any other outDir). */
export function serverProgramPath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'server.js');
}

/** The argv to run a server: `[process.execPath, serverProgramPath(), JSON.stringify(config)]`. */
export function serverCommand(config: ServerConfig): string[] {
  return [process.execPath, serverProgramPath(), JSON.stringify(config)];
}

export type ServerEventOf<E extends ServerEvent['event']> = Extract<ServerEvent, { event: E }>;

export interface StartServerOptions {
  /** Put in front of the command, e.g. `['ip', 'netns', 'exec', 'lab-srv']` (must exec the program
   *  so that the child's pid is the server's). */
  prefix?: string[];
  /** How long to wait for `listening` (default 10 s). */
  timeoutMs?: number;
}

/** A running server program. */
export class ServerProcess {
  readonly child: ChildProcess;
  readonly config: ServerConfig;
  /** Every event so far, in order. */
  readonly events: ServerEvent[] = [];
  /** What it printed on stderr (diagnosis only). */
  stderr = '';
  /** Settles when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Set once `listening` arrived. */
  port = 0;
  private readonly taken = new Set<number>();
  private readonly waiters = new Set<() => void>();
  private hasExited = false;

  constructor(config: ServerConfig, options: StartServerOptions = {}) {
    this.config = config;
    const [cmd, ...args] = [...(options.prefix ?? []), ...serverCommand(config)];
    this.child = spawn(cmd as string, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin?.on('error', () => {});
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (d: string) => {
      if (this.stderr.length < 64 * 1024) this.stderr += d;
    });
    readline.createInterface({ input: this.child.stdout!, terminal: false }).on('line', (line) => {
      let ev: ServerEvent;
      try {
        ev = JSON.parse(line) as ServerEvent;
      } catch {
        this.stderr += `[stdout] ${line}\n`;
        return;
      }
      this.events.push(ev);
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.stderr += `spawn ${cmd}: ${err.message}\n`;
        this.hasExited = true;
        this.notify();
        resolve({ code: null, signal: null });
      });
      this.child.once('exit', (code, signal) => {
        this.hasExited = true;
        this.notify();
        resolve({ code, signal });
      });
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /**
   * The first event of this kind (and matching `match`) that no earlier waitFor returned, waiting
   * for it if needed. Rejects with LabError after `timeoutMs` or when the process exits first.
   */
  waitFor<E extends ServerEvent['event']>(
    event: E,
    match: (e: ServerEventOf<E>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<ServerEventOf<E>> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = 0; i < this.events.length; i++) {
          const e = this.events[i] as ServerEvent;
          if (this.taken.has(i) || e.event !== event || !match(e as ServerEventOf<E>)) continue;
          this.taken.add(i);
          done();
          resolve(e as ServerEventOf<E>);
          return true;
        }
        if (this.hasExited) {
          done();
          reject(new LabError(`server (${this.config.kind}) exited before '${event}'${this.diagnosis()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new LabError(`server (${this.config.kind}): no '${event}' within ${timeoutMs} ms${this.diagnosis()}`));
      }, timeoutMs);
      const waiter = (): void => void check();
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      if (!check()) this.waiters.add(waiter);
    });
  }

  private diagnosis(): string {
    const errors = this.events.filter((e) => e.event === 'error').map((e) => (e as ServerEventOf<'error'>).message);
    const text = [...errors, this.stderr.trim()].filter(Boolean).join('; ');
    return text ? `: ${text.slice(0, 2000)}` : '';
  }

  /** Writes one command line on the server's stdin. */
  send(command: ServerCommand): void {
    this.child.stdin?.write(JSON.stringify(command) + '\n');
  }

  /** Sends `signal` (default SIGKILL) unless it has exited, and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.hasExited) this.child.kill(signal);
    return this.exited;
  }

  /** Closes its stdin (the server then exits by itself) and waits for the exit. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.stdin?.end();
    return this.exited;
  }
}

/** Starts a server program and resolves once it reports `listening` (ServerProcess.port is set). */
export async function startServer(config: ServerConfig, options: StartServerOptions = {}): Promise<ServerProcess> {
  const server = new ServerProcess(config, options);
  try {
    const ev = await server.waitFor('listening', () => true, options.timeoutMs ?? 10_000);
    server.port = ev.port;
  } catch (err) {
    await server.kill();
    throw err;
  }
  return server;
}
