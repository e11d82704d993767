// What the explain benchmarks share: which rstlab to run, running one tool bounded (a time limit
// and a peak-RSS limit, past which the child is killed and the run reported as such) and measured
// (wall time, peak RSS from /proc while it runs, CPU time and minor faults from /proc/self/stat once
// it is waited for), and number formatting. One child runs at a time.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, parseChildUsage } from './stats.js';
import type { ChildUsage } from './stats.js';

export const build = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const repo = path.resolve(build, '..');
const bin = path.join(repo, 'bin', 'rstlab.js');
export const mainJs = path.join(build, 'src', 'cli', 'main.js');

/** `rstlab explain [--json] FILE` with this build: for dist/, bin/rstlab.js run as a user runs it
 *  (its first line, and so what it does to the environment, included); else main() directly. */
export function rstlabCommand(file: string, json = true): { cmd: string; argv: string[]; rstlab: true } {
  const rest = json ? ['explain', '--json', file] : ['explain', file];
  if (build === path.join(repo, 'dist')) return { cmd: bin, argv: rest, rstlab: true };
  const script = `import(${JSON.stringify(pathToFileURL(mainJs).href)}).then((m) => m.main(['node', 'rstlab', ...process.argv.slice(1)])).then((c) => { process.exitCode = c; })`;
  return { cmd: process.execPath, argv: ['-e', script, ...rest], rstlab: true };
}

export interface Timed {
  seconds: number;
  maxRssMb: number | null;
  code: number;
  usage: ChildUsage | null;
  /** Why the run was stopped, when it was: it ran past the time limit or the RSS limit. */
  killed?: 'timeout' | 'rss';
  /** The signal that ended it, if one did (SIGABRT: V8 ran out of heap, when `outOfMemory`). */
  signal?: string;
  /** It died of "JavaScript heap out of memory" (V8's heap limit, not ours). */
  outOfMemory?: boolean;
}

export interface Limits { timeoutSec?: number; maxRssMb?: number }

const childUsage = (): ChildUsage | null => parseChildUsage(readFileSync('/proc/self/stat', 'utf8'));

/** Run a command with stdout to /dev/null; peak RSS from /proc while it runs (VmHWM); its CPU time
 *  and minor faults from this process's children totals (one child at a time runs here). A child
 *  past limits.timeoutSec or limits.maxRssMb is killed (SIGKILL) and `killed` says which. */
export function timed(cmd: string, argv: string[], limits: Limits = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const before = childUsage();
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let hwm = 0;
    let stderr = '';
    let killed: Timed['killed'];
    child.stderr.on('data', (d) => { if (stderr.length < 4096) stderr += d; });
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) hwm = Math.max(hwm, Number(m[1]));
      } catch { /* exited */ }
      if (limits.maxRssMb && hwm / 1024 > limits.maxRssMb && !killed) {
        killed = 'rss';
        child.kill('SIGKILL');
      }
    }, 20);
    const timer = limits.timeoutSec
      ? setTimeout(() => { if (!killed) { killed = 'timeout'; child.kill('SIGKILL'); } }, limits.timeoutSec * 1000)
      : null;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const after = childUsage();
      const usage = before && after
        ? { cpuSeconds: after.cpuSeconds - before.cpuSeconds, minorFaults: after.minorFaults - before.minorFaults }
        : null;
      if (killed) process.stderr.write(`${cmd} ${argv.join(' ')}: killed (${killed === 'rss' ? `peak RSS past ${limits.maxRssMb} MiB` : `past ${limits.timeoutSec} s`})\n`);
      else if (code !== 0 && !stderr.includes('truncated')) process.stderr.write(`${cmd}: ${signal ? `killed by ${signal}` : `exit ${code}`}: ${stderr.slice(0, 300)}\n`);
      const outOfMemory = stderr.includes('heap out of memory');
      resolve({
        seconds, maxRssMb: hwm ? hwm / 1024 : null, code: code ?? -1, usage,
        ...(killed ? { killed } : {}), ...(signal ? { signal } : {}), ...(outOfMemory ? { outOfMemory } : {}),
      });
    });
  });
}

export interface RunFigures {
  best: number;
  median: number;
  /** Medians over the runs, when /proc/self/stat could be read for every one. */
  cpuSeconds: number | null;
  minorFaults: number | null;
}

/** The fastest and the median time of some runs, with their median CPU time and faults; null for no run. */
export function runFigures(rs: readonly Timed[]): RunFigures | null {
  if (rs.length === 0) return null;
  const secs = rs.map((r) => r.seconds);
  const usages = rs.flatMap((r) => (r.usage ? [r.usage] : []));
  const measured = usages.length === rs.length;
  return {
    best: Math.min(...secs),
    median: median(secs),
    cpuSeconds: measured ? median(usages.map((u) => u.cpuSeconds)) : null,
    minorFaults: measured ? median(usages.map((u) => u.minorFaults)) : null,
  };
}

/** The highest peak RSS of some runs (MiB), or null when none was read. */
export function peakRss(rs: readonly Timed[]): number | null {
  return Math.max(0, ...rs.map((r) => r.maxRssMb ?? 0)) || null;
}

export function fmt(n: number, digits = 1): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
