// What the benchmarks measure with, kept apart so that it is tested: one median for both (so they
// agree on what a figure means) and the parser of a process's children's CPU time and page faults.
// Contract: pure functions, no I/O; an empty list has no median (NaN), unreadable text gives null.

/** The median: the middle value, or the mean of the two middle values for an even count. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** What `/proc/self/stat` says of this process's children that have been waited for. */
export interface ChildUsage {
  /** User + system CPU seconds, all threads of all waited-for children together. */
  cpuSeconds: number;
  /** Minor page faults (a page mapped without reading the disk: mostly fresh memory). */
  minorFaults: number;
}

/**
 * Parse the text of `/proc/self/stat` (proc(5)): cminflt is field 11, cutime 16 and cstime 17,
 * counted from 1; the times are in USER_HZ, which Linux fixes at 100 per second for this file.
 * The command name (field 2) is in parentheses and may itself hold spaces or parentheses, so
 * fields are counted after its last ')'. Null when the text is not of that form.
 */
export function parseChildUsage(stat: string): ChildUsage | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const f = stat.slice(close + 2).trim().split(' '); // f[0] is field 3
  const field = (n: number) => Number(f[n - 3]);
  const [minflt, utime, stime] = [field(11), field(16), field(17)];
  if (![minflt, utime, stime].every(Number.isFinite)) return null;
  return { cpuSeconds: (utime + stime) / 100, minorFaults: minflt };
}
