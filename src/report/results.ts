// The data model of a lab run — the schema of results.json (documented in docs/results.md). The lab
// fills it; the report renders it; the error catalog is generated from it. Field names are part of
// rstlab's interface: add fields, never rename or remove them.

import type { Cause, Confidence } from '../explain/index.js';
import type { AppOutcome } from '../explain/outcome.js';
import type { ConnState } from '../tcp/index.js';

/** Who sent a segment, by address. A forged RST carries the server's address, so it counts as "server". */
export type Role = 'client' | 'server' | 'proxy';

/** What the client application saw (src/explain/outcome.ts). */
export type OutcomeRecord = AppOutcome;

export interface WireRst {
  frame: number;
  cause: Cause;
  confidence: Confidence;
  from: string;
  to: string;
  role: Role | 'unknown';
  summary: string;
}

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

export interface TimelineEntry { ms: number; who: 'lab' | 'client' | 'server' | 'proxy'; what: string }

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

export interface LabResults {
  schema: 'rstlab-lab/1';
  startedAt: string;
  durationMs: number;
  host: { kernel: string; node: string; mode: 'netns' | 'loopback'; modeReason: string; capture: boolean };
  scenarios: ScenarioInfo[];
  clients: string[];
  claims: ClaimVerdict[];
  questions: QuestionAnswer[];
  runs: RunRecord[];
}
