// Helpers for rstlab proxy's tests (loopback only): an echo server, a scripted server, a one-shot
// client that reports how its connection ended, tshark field extraction, a bounded wait for a
// condition, and the skip rule for tests that need tools (skipped with the reason when one is
// missing, never under CI=true).

import net from 'node:net';
import { execFile, spawnSync } from 'node:child_process';
import { skipOutsideCi } from '../testkit.js';

export interface Served { server: net.Server; port: number; close(): Promise<void> }

/** A TCP server on 127.0.0.1:0 running `onConn` for each connection. */
export async function serve(onConn: (s: net.Socket) => void, opts: net.ServerOpts = {}): Promise<Served> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer(opts, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConn(s);
  });
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => r()));
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

/** Echo server: writes back what it reads; half-closes when the client does. */
export const echoServer = (): Promise<Served> => serve((s) => s.pipe(s), { allowHalfOpen: true });

export interface Outcome {
  /** Everything the client read. */
  data: Buffer;
  /** How it ended: `end` (FIN read), an errno code (ECONNRESET, EPIPE…), or `timeout`. */
  ending: string;
  connected: boolean;
}

/**
 * Connect to port, send each of `sends` (a pause of `gapMs` before each one), and wait at most
 * `timeoutMs` for the connection to end; reports what was read and how it ended.
 */
export function talk(port: number, sends: Array<string | Buffer>, opts: { gapMs?: number; timeoutMs?: number; endAfterSend?: boolean } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const parts: Buffer[] = [];
    let connected = false;
    let firstError = '';
    let done = false;
    let ended = false;
    let sent = sends.length === 0;
    const finish = (ending: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ data: Buffer.concat(parts), ending: firstError || ending, connected });
    };
    // After EOF, finish once every send was attempted (data after a FIN is part of many scenarios).
    const maybeEnd = () => { if (ended && sent) setTimeout(() => finish('end'), 50); };
    const timer = setTimeout(() => finish('timeout'), opts.timeoutMs ?? 3000);
    s.on('data', (b) => parts.push(b));
    s.on('end', () => { ended = true; maybeEnd(); });
    s.on('error', (e: NodeJS.ErrnoException) => { firstError ||= e.code ?? e.message; finish(firstError); });
    s.on('connect', async () => {
      connected = true;
      for (const m of sends) {
        await new Promise((r) => setTimeout(r, opts.gapMs ?? 0));
        if (s.destroyed || done) return;
        s.write(m);
      }
      if (opts.endAfterSend) s.end();
      sent = true;
      maybeEnd();
    });
  });
}

export interface Frame { frame: number; flags: string; srcport: number; dstport: number; len: number }

/** Read a capture with tshark: frame number, TCP flags (as `tcp.flags.str`), ports, payload length. */
export function tsharkFrames(file: string): Promise<Frame[]> {
  return new Promise((resolve, reject) => {
    execFile('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number', '-e', 'tcp.flags.str', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.len'],
      { maxBuffer: 64 << 20 }, (err, stdout) => {
        if (err) { reject(err); return; }
        resolve(stdout.trim().split('\n').filter(Boolean).map((line) => {
          const [frame, flags, src, dst, len] = line.split('\t');
          return { frame: Number(frame), flags: flags.replace(/·/g, '.'), srcport: Number(src), dstport: Number(dst), len: Number(len) };
        }));
      });
  });
}

/** `R` set, `A` set… from tshark's flag string (e.g. "·······A·R··"). */
export const hasFlag = (f: Frame, flag: 'S' | 'A' | 'R' | 'F' | 'P'): boolean => f.flags.includes(flag);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wait until `cond` holds, checking every `everyMs`; throws "timed out waiting for WHAT" after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string, everyMs = 50): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * The `skip` option of tests that need these programs: the reason when one is not on PATH, else
 * false. Under CI it is always false (testkit.skipOutsideCi), so a missing tool fails the tests there instead.
 */
export function missingToolsSkip(tools: readonly string[]): string | false {
  const missing = tools.filter((t) => (spawnSync(t, ['--version'], { stdio: 'ignore' }).error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT');
  return skipOutsideCi(missing.length === 0 ? false : `needs ${missing.join(' and ')} (apt-get install ${missing.join(' ')})`);
}
