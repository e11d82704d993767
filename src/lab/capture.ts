// Live packet capture for the lab with tcpdump.
//
// Contract:
// - `startCapture(topology, host, { file, filter?, snaplen?, bufferKiB?, iface? })` runs
//   `tcpdump -i IFACE -n -U --immediate-mode -s SNAPLEN [-B KiB] -w FILE [filter]` on `host` (inside its
//   namespace; in loopback mode on `lo`, which needs root or CAP_NET_RAW). As root it adds `-Z root`
//   so tcpdump keeps writing FILE as root instead of dropping to the `tcpdump` user.
// - It resolves only once tcpdump has printed `listening on …` (packets from then on are captured);
//   it rejects with LabError (tcpdump's own words: permission, interface, filter syntax) if tcpdump
//   exits first or stays silent for `startTimeoutMs`, and with MissingToolError when tcpdump is absent.
// - `stop()` waits `settleMs` (default 150 ms) for packets still in flight, sends SIGINT, waits for
//   tcpdump to exit (SIGKILL after 3 s) and returns the file and tcpdump's "N packets captured".
//   Idempotent. The capture process is a lab child (proc.ts), so it never outlives the lab.

import { LabError, MissingToolError } from '../errors.js';
import { findExecutable, withTimeout, type Child } from './proc.js';
import type { HostName, Topology } from './topology.js';

export interface CaptureOptions {
  /** pcap file to write. */
  file: string;
  /** A pcap-filter expression, e.g. `tcp port 8080`. */
  filter?: string;
  /** Bytes per packet to keep (default 262144 = whole packets). */
  snaplen?: number;
  /** The kernel's capture buffer in KiB (tcpdump -B); default tcpdump's own (2 MiB). A link that
   *  carries two hops' bursts (a reverse proxy's) needs more, or a starved tcpdump loses packets. */
  bufferKiB?: number;
  /** Interface override; default `topology.captureInterface(host)`. */
  iface?: string;
  startTimeoutMs?: number;
  /** Wait before SIGINT in stop() for packets in flight. */
  settleMs?: number;
}

export interface CaptureResult {
  file: string;
  /** tcpdump's "N packets captured" (-1 if it printed no count). */
  packets: number;
}

export interface LiveCapture {
  readonly file: string;
  readonly iface: string;
  readonly pid: number;
  stop(): Promise<CaptureResult>;
}

export async function startCapture(topology: Topology, host: HostName, opts: CaptureOptions): Promise<LiveCapture> {
  if (findExecutable('tcpdump') === undefined) {
    throw new MissingToolError('tcpdump', 'tcpdump', 'the lab captures every scenario with it');
  }
  const iface = opts.iface ?? topology.captureInterface(host);
  const snaplen = opts.snaplen ?? 262144;
  if (!Number.isInteger(snaplen) || snaplen < 1) throw new LabError(`capture: invalid snaplen ${snaplen}`);
  const argv = ['tcpdump', '-i', iface, '-n', '-U', '--immediate-mode', '-s', String(snaplen)];
  if (opts.bufferKiB !== undefined) argv.push('-B', String(opts.bufferKiB));
  if (typeof process.getuid === 'function' && process.getuid() === 0) argv.push('-Z', 'root');
  argv.push('-w', opts.file);
  if (opts.filter !== undefined && opts.filter.trim() !== '') argv.push(opts.filter);

  const label = `tcpdump@${host}:${iface}`;
  const child = topology.spawn(host, argv, { label });
  const listening = await waitListening(child, opts.startTimeoutMs ?? 5000);
  if (!listening.ok) {
    child.killGroup('SIGKILL');
    await withTimeout(child.exited, 3000).catch(() => undefined);
    const words = child.stderrTail(5).join(' | ') || 'no output';
    const perm = /permission|not permitted|cap_net_raw/i.test(words);
    throw new LabError(
      `${label}: tcpdump did not start capturing (${listening.why}): ${words}`,
      perm ? 'capturing needs root (or CAP_NET_RAW): run the lab as root' : undefined,
    );
  }

  let stopping: Promise<CaptureResult> | undefined;
  return {
    file: opts.file,
    iface,
    pid: child.pid,
    stop(): Promise<CaptureResult> {
      stopping ??= (async () => {
        if (child.exitStatus === undefined) {
          await new Promise((r) => setTimeout(r, opts.settleMs ?? 150));
          child.kill('SIGINT');
          try {
            await withTimeout(child.exited, 3000, 'tcpdump exit');
          } catch {
            child.killGroup('SIGKILL');
            await withTimeout(child.exited, 3000).catch(() => undefined);
          }
        }
        const text = child.stderrTail(40).join('\n');
        const m = /(\d+) packets? captured/.exec(text);
        return { file: opts.file, packets: m ? Number(m[1]) : -1 };
      })();
      return stopping;
    },
  };
}

/** Waits for tcpdump's `listening on` line on stderr (it exits on any start-up error). */
function waitListening(child: Child<{ event: string }>, timeoutMs: number): Promise<{ ok: true } | { ok: false; why: string }> {
  return new Promise((resolve) => {
    const done = (v: { ok: true } | { ok: false; why: string }): void => {
      clearTimeout(timer);
      child.off('stderr', onLine);
      child.off('exit', onExit);
      resolve(v);
    };
    const onLine = (line: string): void => {
      if (/listening on /.test(line)) done({ ok: true });
    };
    const onExit = (): void => {
      const x = child.exitStatus;
      done({ ok: false, why: x?.signal ? `killed by ${x.signal}` : `exited with code ${x?.code}` });
    };
    const timer = setTimeout(() => done({ ok: false, why: `no "listening on" within ${timeoutMs} ms` }), timeoutMs);
    if (child.stderrTail(40).some((l) => /listening on /.test(l))) {
      done({ ok: true });
      return;
    }
    if (child.exitStatus !== undefined) {
      onExit();
      return;
    }
    child.on('stderr', onLine);
    child.on('exit', onExit);
  });
}
