// Capturing the proxy's own traffic. startTcpdump resolves once tcpdump on the loopback interface
// reports "listening on" (so no later packet is missed); it rejects with MissingToolError when
// tcpdump is not installed and with InputError (tcpdump's own words) when it exits before
// listening. Its stop() sends SIGINT and resolves when tcpdump has flushed its file and exited.
// explainCaptureFile runs rstlab's explainer (src/explain) on a capture, loading it at run time so
// the proxy builds and runs without it, and throws InputError when it is not built.

import { spawn, type ChildProcess } from 'node:child_process';
import { InputError, MissingToolError } from '../errors.js';

export interface Tcpdump {
  file: string;
  stop(): Promise<void>;
}

/** Start `tcpdump -i IFACE -n -U --immediate-mode -w FILE FILTER` and wait until it listens. */
export function startTcpdump(file: string, filter: string, iface = 'lo'): Promise<Tcpdump> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn('tcpdump', ['-i', iface, '-n', '-U', '--immediate-mode', '-w', file, filter], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    let ready = false;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? new MissingToolError('tcpdump', 'tcpdump', 'it captures the proxy\'s traffic') : e);
    });
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      if (!ready && /listening on/.test(err)) {
        ready = true;
        resolve({
          file,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
            await exited;
          },
        });
      }
    });
    child.once('exit', (code) => { if (!ready) reject(new InputError(`tcpdump exited (${code}) before capturing: ${err.trim()}`)); });
  });
}

export interface ExplainedRst { frame: number; cause: string; from: string; to: string }

/** Run rstlab's explainer on a capture (src/explain, loaded at run time so the proxy builds without it). */
export async function explainCaptureFile(path: string): Promise<{ rsts: ExplainedRst[] }> {
  const url = new URL('../explain/index.js', import.meta.url).href;
  let mod: { explainCapture?: (p: string) => Promise<{ rsts: ExplainedRst[] }> };
  try { mod = await import(url); } catch {
    throw new InputError('the explainer (src/explain) is not built', 'run npm run build');
  }
  if (typeof mod.explainCapture !== 'function') throw new InputError('src/explain does not export explainCapture');
  return mod.explainCapture(path);
}
