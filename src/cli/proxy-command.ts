// `rstlab proxy`: run the Toxiproxy-compatible fault-injection proxy until SIGINT/SIGTERM.
// Options: --config FILE (Toxiproxy's populate format: an array of proxies), --host (control API
// host, 127.0.0.1 unless told), --port (control API port, 8474; anything but 0-65535 is a
// UsageError), --events FILE (JSON-lines log), --toxiproxy (the compatibility mode: Toxiproxy
// 2.12's behaviour where rstlab deliberately differs). Prints the API address, the proxies and every fault.

import type { Command } from 'commander';
import { UsageError } from '../errors.js';

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be a port number (0-65535), got ${JSON.stringify(v)}`);
  return n;
}

export function registerProxyCommand(program: Command): void {
  program
    .command('proxy')
    .description('run a Toxiproxy-compatible proxy that injects every reset scenario (control API on 127.0.0.1:8474)')
    .option('--config <file>', 'create these proxies at start (Toxiproxy populate format: a JSON array of {name, listen, upstream, enabled})')
    .option('--host <host>', 'control API host (loopback unless told)', '127.0.0.1')
    .option('--port <port>', 'control API port', '8474')
    .option('--events <file>', 'append the event log (faults, connections) to this file as JSON lines')
    .option('--toxiproxy', 'compatibility mode: behave as Toxiproxy 2.12 where rstlab deliberately differs (FIN closes the connection, empty listen host = all interfaces, reset_peer\'s SO_LINGER quirks)')
    .action(async (opts: { config?: string; host: string; port: string; events?: string; toxiproxy?: boolean }) => {
      const port = parsePort(opts.port);
      const { startProxy } = await import('../proxy/index.js'); // loaded only when the proxy runs
      const rp = await startProxy({ host: opts.host, port, config: opts.config, eventsFile: opts.events, toxiproxy: opts.toxiproxy === true });
      process.stdout.write(`rstlab proxy: control API on ${rp.url} (Toxiproxy API 2.12${opts.toxiproxy ? ', compatibility mode' : ''}); docs/proxy.md lists the toxics\n`);
      for (const p of Object.values(rp.collection.list())) {
        process.stdout.write(`  ${p.name}: ${p.listen} -> ${p.upstream}${p.enabled ? '' : ' (disabled)'}\n`);
      }
      rp.events.on((e) => {
        if (e.event === 'fault' && e.fault) {
          process.stdout.write(`${e.time} ${e.proxy} conn ${e.conn} ${e.client}: ${e.fault.toxic} (${e.fault.toxicType}) ${e.fault.action}\n`);
        }
      });
      await new Promise<void>((resolve) => {
        const done = () => { process.off('SIGINT', done); process.off('SIGTERM', done); resolve(); };
        process.on('SIGINT', done);
        process.on('SIGTERM', done);
      });
      await rp.stop();
    });
}
