// `rstlab watch`: argument parsing and wiring only; the work is src/watch (run.ts: the sources,
// join.ts: one record per reset, metrics.ts: Prometheus). Prints each reset as it happens (text,
// or one JSON object per line with --json; nothing with --quiet, for a watch that serves metrics)
// and a summary when it ends: Ctrl-C, SIGTERM or --duration. Exit 0 then; 2 for bad arguments or when nothing can be watched.

import type { Command } from 'commander';
import { UsageError } from '../errors.js';

interface WatchCliOptions {
  interface?: string; port?: string[]; host?: string[]; pid?: string; comm?: string; netns?: string;
  json?: boolean; kernel: boolean; capture: boolean; duration?: string; metrics?: string; color?: boolean; quiet?: boolean; kernelSource?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((x) => x.trim()).filter(Boolean)];

/** `PORT`, `HOST:PORT` or `[V6]:PORT` → where to serve /metrics (loopback unless a host is given). */
export function metricsAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]:|([^:\[\]]+):)?(\d+)$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--metrics takes PORT or HOST:PORT, got ${JSON.stringify(text)}`);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description('every TCP reset on this host as it happens: the kernel\'s own reason, the process, and the packets\' explanation (root)')
    .option('--interface <name>', 'capture on this interface (default: any)')
    .option('--port <ports>', 'only connections with this local or remote port (comma-separated; repeatable)', collect)
    .option('--host <addrs>', 'only connections with this address at either end (comma-separated; repeatable)', collect)
    .option('--pid <pid>', 'only resets whose local process has this pid')
    .option('--comm <name>', 'only resets whose local process has this name')
    .option('--netns <name>', 'watch inside this network namespace (ip netns)')
    .option('--json', 'one JSON object per reset, then a summary object')
    .option('--no-kernel', 'packets only: no tracefs events')
    .option('--no-capture', 'the kernel only: no tcpdump')
    .option('--duration <seconds>', 'stop after this long')
    .option('--metrics <[host:]port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (host default 127.0.0.1)')
    .option('--quiet', 'no line per reset: only the summary at the end (and the metrics, with --metrics): for a watch left running on a host')
    .option('--kernel-source <source>', 'tracefs (the ring buffer: every event), bpftrace (counted in the kernel; with --quiet --no-capture) or auto (default: bpftrace with --quiet --no-capture where it can run, else tracefs)')
    .option('--no-color', 'no colours')
    .action(async (opts: WatchCliOptions) => {
      const ports = (opts.port ?? []).map((p) => {
        const n = Number(p);
        if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--port takes port numbers from 1 to 65535, got ${JSON.stringify(p)}`);
        return n;
      });
      const pid = opts.pid === undefined ? undefined : Number(opts.pid);
      if (pid !== undefined && (!Number.isInteger(pid) || pid < 1)) throw new UsageError(`--pid takes a process id, got ${JSON.stringify(opts.pid)}`);
      const duration = opts.duration === undefined ? undefined : Number(opts.duration);
      if (duration !== undefined && !(duration > 0)) throw new UsageError(`--duration takes a number of seconds above 0, got ${JSON.stringify(opts.duration)}`);
      if (!opts.kernel && !opts.capture) throw new UsageError('--no-kernel and --no-capture leave nothing to watch');
      for (const h of opts.host ?? []) if (!/^[0-9a-fA-F:.]+$/.test(h)) throw new UsageError(`--host takes IP addresses, got ${JSON.stringify(h)}`);
      if (opts.netns !== undefined && !/^[A-Za-z0-9_.-]+$/.test(opts.netns)) throw new UsageError(`--netns takes a namespace name (ip netns list), got ${JSON.stringify(opts.netns)}`);
      const metricsAt = opts.metrics !== undefined ? metricsAddress(opts.metrics) : undefined;
      const src = opts.kernelSource ?? 'auto';
      if (src !== 'tracefs' && src !== 'bpftrace' && src !== 'auto') throw new UsageError(`--kernel-source takes tracefs, bpftrace or auto, got ${JSON.stringify(src)}`);
      if (src === 'bpftrace' && !(opts.quiet && !opts.capture)) throw new UsageError('--kernel-source bpftrace counts the resets in the kernel and writes no record per reset: use it with --quiet --no-capture');
      // Counting in the kernel is for a watch that writes no record and sees no packet.
      const kernelSource = src === 'auto' ? (opts.quiet && !opts.capture ? 'auto' : 'tracefs') : src;
      const { runWatchCommand } = await import('./watch-run.js');
      process.exitCode = await runWatchCommand({
        ports, hosts: opts.host ?? [], kernel: opts.kernel, capture: opts.capture, kernelSource,
        ...(opts.interface !== undefined ? { iface: opts.interface } : {}),
        ...(pid !== undefined ? { pid } : {}),
        ...(opts.comm !== undefined ? { comm: opts.comm } : {}),
        ...(opts.netns !== undefined ? { netns: opts.netns } : {}),
        ...(duration !== undefined ? { durationSec: duration } : {}),
      }, { json: Boolean(opts.json), color: opts.color !== false, quiet: Boolean(opts.quiet), ...(metricsAt ? { metrics: metricsAt } : {}) });
    });
}
