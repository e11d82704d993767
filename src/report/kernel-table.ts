// The explainer against the kernel, for the lab report: every captured RST of every run counted by
// the explainer's cause and the reason Linux itself logged (results.json `rsts[].kernel`). Pure.
// Contract: `kernelTable(results)` returns null when the lab could not read the kernel's reasons;
// else the rows (cause × kernel reason, with `(no kernel event)` for RSTs no TCP stack of this
// kernel sent), how many RSTs the kernel sent, how many of those the explainer's Linux reasons
// allow (agree) and name exactly (exact), and the kernel's RSTs the captures do not show; and for
// every reason of `enum sk_rst_reason`, the scenarios whose RSTs the kernel gave it, or why none
// does (`host.reasonsNotConstructed`), or neither (not among the scenarios that ran).

import { LINUX_RST_REASONS } from '../explain/index.js';
import type { Cause } from '../explain/index.js';
import type { LabResults, WireRst } from './results.js';

/** The column of RSTs for which the kernel logged nothing. */
export const NO_KERNEL_EVENT = '(no kernel event)';

/** The explainer allows the reason the kernel logged for this RST (false when the kernel logged none). */
export function allowsKernelReason(r: Pick<WireRst, 'linuxReasons' | 'kernel'>): boolean {
  return r.kernel != null && (r.linuxReasons as readonly string[]).includes(r.kernel.reason);
}

export interface KernelTable {
  rows: Array<{ cause: Cause; reason: string; count: number; agree: number }>;
  kernelSent: number;
  agree: number;
  exact: number;
  notCaptured: number;
  lost: number;
  /** Each Linux reason, in the enum's order: the scenarios that produced it (captured or not). */
  coverage: Array<{ reason: string; scenarios: string[]; why: string | null }>;
}

export function kernelTable(res: LabResults): KernelTable | null {
  const kt = res.host.kernelTrace;
  if (!kt || !kt.available) return null;
  const rows = new Map<string, KernelTable['rows'][number]>();
  let kernelSent = 0;
  let agree = 0;
  let exact = 0;
  let notCaptured = 0;
  const produced = new Map<string, Set<string>>();
  const saw = (reason: string, scenario: string) => produced.set(reason, (produced.get(reason) ?? new Set()).add(scenario));
  for (const run of res.runs) {
    notCaptured += run.kernelOnly?.length ?? 0;
    for (const k of run.kernelOnly ?? []) saw(k.reason, run.scenario);
    for (const r of run.rsts) if (r.kernel) saw(r.kernel.reason, run.scenario);
    for (const r of run.rsts) {
      if (r.kernel === undefined) continue;
      const reason = r.kernel === null ? NO_KERNEL_EVENT : r.kernel.reason;
      const ok = allowsKernelReason(r);
      const key = `${r.cause} ${reason}`;
      const row = rows.get(key) ?? { cause: r.cause, reason, count: 0, agree: 0 };
      row.count++;
      if (ok) row.agree++;
      rows.set(key, row);
      if (r.kernel !== null) {
        kernelSent++;
        if (ok) agree++;
        if (r.linuxReason === r.kernel.reason) exact++;
      }
    }
  }
  return {
    rows: [...rows.values()].sort((a, b) => a.cause.localeCompare(b.cause) || b.count - a.count),
    kernelSent, agree, exact, notCaptured, lost: kt.lost,
    coverage: LINUX_RST_REASONS.map((reason) => ({
      reason, scenarios: [...(produced.get(reason) ?? [])], why: res.host.reasonsNotConstructed?.[reason] ?? null,
    })),
  };
}
