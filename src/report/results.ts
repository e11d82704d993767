// The data model of a lab run — the schema of results.json (documented in docs/results.md). The lab
// fills it; the report renders it; the error catalog is generated from it. Field names are part of
// rstlab's interface: fields are added; a field that changes shape changes LAB_SCHEMA.

import type { Cause, Confidence, LinuxRstReason } from '../explain/index.js';
import type { AppOutcome } from './outcome.js';
import type { ConnState } from '../tcp/index.js';

/** Who sent a segment, by address. A forged RST carries the server's address, so it counts as "server". */
export type Role = 'client' | 'server' | 'proxy';

/** What the client application saw (outcome.ts). */
export type OutcomeRecord = AppOutcome;

/** Linux's own record of a RST it sent (tracepoint tcp:tcp_send_reset). */
export interface KernelRst {
  /** `enum sk_rst_reason`: `NO_SOCKET`, `TCP_ABORT_ON_CLOSE`, … */
  reason: string;
  /** The socket's state in the event (`UNKNOWN` when there was no socket). */
  state: string;
}

export interface WireRst {
  frame: number;
  cause: Cause;
  confidence: Confidence;
  from: string;
  to: string;
  role: Role | 'unknown';
  summary: string;
  /** The explainer's Linux reasons (explain/causes.ts): those that fit, and the one when only one does. */
  linuxReasons: LinuxRstReason[];
  linuxReason: LinuxRstReason | null;
  /**
   * What the kernel logged for this RST: its reason and state; null when no TCP stack of this kernel
   * sent it (a netfilter REJECT, the lab's injector); absent when the lab could not read the kernel's
   * reasons (`host.kernelTrace`).
   */
  kernel?: KernelRst | null;
}

/** A RST the kernel sent in a run that the run's capture does not show (sent on another link). */
export interface KernelOnlyRst extends KernelRst { from: string; to: string }

export interface WireFin { frame: number; from: string; role: Role | 'unknown' }

/** One segment on a run's ladder diagram. */
export interface LadderSegment {
  frame: number;
  /** Milliseconds since the run started (same clock as `timeline`). */
  ms: number;
  from: Role | 'unknown';
  to: Role | 'unknown';
  /** tcpdump-style flags: `[S]`, `[S.]`, `[P.]`, `[F.]`, `[R]`, `[R.]`. */
  flags: string;
  seq: number;
  ack: number;
  len: number;
  /** For RSTs: the explainer's cause. */
  cause?: Cause;
}

/** The lab let the client go on from the pause point (the seed's breakpoint). */
export interface TimelineRelease { ms: number; who: 'lab'; kind: 'release' }

/** Something the lab did: `SIGKILL server`, `server: abort`, `router drops the connection`. */
export interface TimelineAction {
  ms: number;
  who: 'lab';
  kind: 'action';
  /** The host it acted on, where a ladder pins it; absent when that is no host of the run (the router). */
  host?: Role;
  text: string;
}

/** The client reported its result; what it was is the run's `outcome`. */
export interface TimelineResult { ms: number; who: 'client'; kind: 'result' }

/** Something a process reported: the client's `connected 198.51.100.2:43194`, the server's `accepted …`. */
export interface TimelineEvent { ms: number; who: 'client' | 'server' | 'proxy'; kind: 'event'; text: string }

/**
 * One entry of a run's timeline, in milliseconds since the run started (the ladder's clock).
 * Readers branch on `kind`; `text` is for display only and nothing reads meaning out of it.
 */
export type TimelineEntry = TimelineRelease | TimelineAction | TimelineResult | TimelineEvent;

/** The software behind a client, proxy or server of a run, as it reports itself: `family` is what
 *  a person would name (`okhttp`, `node`, `go-net-http`, `python-requests`, `nginx`, `haproxy`,
 *  `mitmproxy`, `chromium`, `postgresql`…), `version` its own version string. */
export interface Software { family: string; version: string }

/** One hop's own account of a run (nginx's error.log, HAProxy's log line with its termination state). */
export interface HopReport {
  role: Role;
  software: Software;
  /** The lines it wrote for this run, as written (timestamps included). */
  lines: string[];
  /** A stable code where the software has one: HAProxy's termination state (`SD--`), nginx's HTTP status. */
  code?: string;
}

export interface RunRecord {
  /** `<scenario>--<client>`; also the capture's file name. */
  id: string;
  scenario: string;
  client: string;
  /** ok: ran and matched the scenario; mismatch: ran, RSTs differ from what it constructs; skipped; failed: could not run. */
  status: 'ok' | 'mismatch' | 'skipped' | 'failed';
  reason?: string;
  /** What the client application saw. */
  outcome: OutcomeRecord | null;
  /** The client cannot hold at the pause point (curl): it ran straight through. */
  cannotPause?: boolean;
  /** Relative path of this run's pcap, from the results folder. */
  capture: string | null;
  rsts: WireRst[];
  fins: WireFin[];
  connections: Array<{ id: number; orig: string; resp: string; history: string; connState: ConnState }>;
  ladder: LadderSegment[];
  timeline: TimelineEntry[];
  /** What the server/proxy processes reported (JSON lines of the lab protocol). */
  serverEvents: Array<Record<string, unknown>>;
  /** Kernel-sent RSTs of this run missing from its capture (only when the kernel's reasons were read). */
  kernelOnly?: KernelOnlyRst[];
  /** The client's software and version, as its driver reported it (protocol.ts `ready`). */
  software?: Software;
  /** What the real software at the other hops wrote about this run: a reverse proxy's error-log
   *  lines or termination code, a database server's log — the "client error" of that hop, as
   *  `rstlab why` matches it. */
  hops?: HopReport[];
  problems: string[];
  durationMs: number;
}

export type Verdict = 'reproduced' | 'differs' | 'unavailable';

export interface ClaimEvidence { run: string; capture: string | null; frames: number[]; note: string }

export interface ClaimVerdict {
  id: string;
  claim: string;
  verdict: Verdict;
  summary: string;
  evidence: ClaimEvidence[];
}

export interface QuestionAnswer { id: string; question: string; answer: string; evidence: ClaimEvidence[] }

export interface ScenarioInfo { id: string; title: string; description: string; claims: string[] }

/** The schema id of results.json; it changes when a field changes shape (docs/results.md). */
export const LAB_SCHEMA = 'rstlab-lab/2';

export interface LabResults {
  schema: typeof LAB_SCHEMA;
  startedAt: string;
  durationMs: number;
  host: {
    kernel: string; node: string; mode: 'netns' | 'loopback'; modeReason: string; capture: boolean;
    /** The kernel's reset reasons (lab/kernel-trace.ts): read, or why not; events the buffer lost. */
    kernelTrace: { available: true; lost: number } | { available: false; why: string };
    /** The reasons of `enum sk_rst_reason` no scenario constructs, and why (lab/scenarios.ts). */
    reasonsNotConstructed?: Record<string, string>;
    /** Runs that went on at a time, each on its own topology (`rstlab lab --parallel`). */
    lanes?: number;
  };
  scenarios: ScenarioInfo[];
  clients: string[];
  claims: ClaimVerdict[];
  questions: QuestionAnswer[];
  runs: RunRecord[];
}
