// Ladder diagrams (Wireshark's "flow graph"): one model, built from a lab run or from one connection
// of a capture, rendered as terminal text here and as SVG in svg.ts. Contract:
// - Pure: data in, model/strings out; nothing here reads files or the clock.
// - A model has hosts (vertical lines, left to right) and events in time order: segments (arrows
//   with flags, relative seq/ack and length; RSTs carry the explainer's cause), notes (lab actions
//   and client events, pinned to the host where they happened) and gaps (segments the tracker did
//   not keep).
// - `renderLadderText(model, width)` never writes a line longer than `width` columns (code points);
//   it is ASCII apart from '…', so golden files compare byte for byte.

import type { Cause, ConnectionReport } from '../explain/index.js';
import { flagString } from '../explain/index.js';
import type { SegmentSummary } from '../tcp/index.js';
import { seqRelative } from '../wire/seq.js';
import { TcpFlag } from '../wire/types.js';
import { shortOutcome } from './lab-text.js';
import type { LadderSegment, OutcomeRecord, RunRecord, TimelineEntry } from './results.js';
import type { Painter } from './text.js';
import { plain } from './text.js';

export interface LadderHost {
  /** Short name shown over the host's line: `client`, `proxy`, `server`, or an address. */
  label: string;
  /** Longer description (an address, `originator`), shown in a legend when present. */
  detail?: string;
}

export interface LadderSegmentEvent {
  kind: 'segment';
  /** Milliseconds since the model's origin. */
  ms: number;
  frame: number;
  /** Host indexes. */
  from: number;
  to: number;
  /** tcpdump-style flags: `[S]`, `[S.]`, `[P.]`, `[F.]`, `[R]`, `[R.]`. */
  flags: string;
  seq: number;
  /** null when the segment has no ACK flag. */
  ack: number | null;
  len: number;
  /** For RSTs: the explainer's cause. */
  cause?: Cause;
}

export interface LadderNoteEvent {
  kind: 'note';
  ms: number;
  /** Host index where it happened; null when it concerns no single host. */
  host: number | null;
  /** Who reported it: `lab`, `client`, `server`, `proxy`. */
  who: string;
  text: string;
  /** action: something the lab did; error: an error the application saw; event: anything else. */
  tone: 'action' | 'error' | 'event';
}

export interface LadderGapEvent { kind: 'gap'; ms: number | null; segments: number }

export type LadderEvent = LadderSegmentEvent | LadderNoteEvent | LadderGapEvent;

export interface LadderModel {
  title: string;
  hosts: LadderHost[];
  events: LadderEvent[];
  /** What `ms` counts from, in words. */
  origin: string;
}

/** The parts of a RunRecord a ladder needs (the error catalog keeps just these). */
export type RunLadderInput = Pick<RunRecord, 'id' | 'ladder' | 'timeline' | 'outcome'> & Partial<Pick<RunRecord, 'scenario' | 'client'>>;

const isRst = (flags: string) => flags.includes('R');

/** The text of a client's result on the timeline: `error: ECONNRESET`, `ok 200`. */
export function resultNote(o: OutcomeRecord | null): { text: string; tone: LadderNoteEvent['tone'] } {
  if (!o) return { text: 'no result', tone: 'event' };
  if (o.kind === 'error') return { text: `error: ${shortOutcome(o, 72)}`, tone: 'error' };
  return { text: shortOutcome(o, 72), tone: 'event' };
}

/** The host a timeline entry happened on: the process that reported it, the host a lab action
 *  acted on, the client for its release; null when none of the run's hosts. */
function noteHost(e: TimelineEntry, index: Map<string, number>): number | null {
  switch (e.kind) {
    case 'release': return index.get('client') ?? null;
    case 'action': return e.host ? index.get(e.host) ?? null : null;
    case 'result':
    case 'event': return index.get(e.who) ?? null;
  }
}

/** A timeline entry as a ladder note's text and tone. */
function noteOf(e: TimelineEntry, outcome: OutcomeRecord | null): { text: string; tone: LadderNoteEvent['tone'] } {
  switch (e.kind) {
    case 'release': return { text: 'client released (go)', tone: 'action' };
    case 'action': return { text: e.text, tone: 'action' };
    case 'result': return resultNote(outcome);
    case 'event': return { text: e.text, tone: 'event' };
  }
}

/** A lab run as a ladder: hosts client, (proxy,) server; the run's timeline as notes. */
export function ladderFromRun(run: RunLadderInput): LadderModel {
  const roles = new Set<string>(['client', 'server']);
  for (const s of run.ladder) { roles.add(s.from); roles.add(s.to); }
  for (const t of run.timeline) if (t.who === 'proxy' || (t.kind === 'action' && t.host === 'proxy')) roles.add('proxy');
  const order = ['client', 'proxy', 'server', 'unknown'].filter((r) => roles.has(r));
  const hosts: LadderHost[] = order.map((r) => (r === 'unknown' ? { label: 'other', detail: 'an address that is neither client, proxy nor server' } : { label: r }));
  const index = new Map(order.map((r, i) => [r, i]));

  const timed: Array<{ ms: number; order: number; ev: LadderEvent }> = [];
  run.ladder.forEach((s: LadderSegment, i) => {
    const ev: LadderSegmentEvent = {
      kind: 'segment', ms: s.ms, frame: s.frame, from: index.get(s.from) ?? 0, to: index.get(s.to) ?? 0,
      flags: s.flags, seq: s.seq, ack: s.flags.includes('.') ? s.ack : null, len: s.len,
      ...(s.cause ? { cause: s.cause } : {}),
    };
    timed.push({ ms: s.ms, order: i, ev });
  });
  run.timeline.forEach((t, i) => {
    const { text, tone } = noteOf(t, run.outcome);
    timed.push({ ms: t.ms, order: 100_000 + i, ev: { kind: 'note', ms: t.ms, host: noteHost(t, index), who: t.who, text, tone } });
  });
  timed.sort((a, b) => a.ms - b.ms || a.order - b.order);
  const who = run.scenario && run.client ? `${run.scenario} × ${run.client}` : run.id;
  return { title: who, hosts, events: timed.map((t) => t.ev), origin: 'ms since the run started' };
}

/**
 * Sequence and acknowledgement numbers as ladders show them, for the segments of one connection:
 * relative to each side's first sequence number (its ISN when its SYN was captured, else its first
 * segment that is not a RST); a RST with seq 0 from a side that sent nothing else (the reply to a
 * SYN) keeps its 0. Used by explain's ladders and by the lab's results.json.
 */
export function relativeNumbers(segments: readonly SegmentSummary[]): (s: SegmentSummary) => { seq: number; ack: number } {
  const firstSeq = (fromOrig: boolean) => {
    const own = segments.filter((s) => s.fromOrig === fromOrig && !(s.flags & TcpFlag.RST));
    const syn = own.find((s) => (s.flags & TcpFlag.SYN) !== 0);
    return { isn: (syn ?? own[0] ?? segments.find((s) => s.fromOrig === fromOrig))?.seqNumber ?? 0, sentOther: own.length > 0 };
  };
  const orig = firstSeq(true);
  const resp = firstSeq(false);
  return (s) => {
    const own = s.fromOrig ? orig : resp;
    const other = s.fromOrig ? resp : orig;
    const seq = (s.flags & TcpFlag.RST) && s.seqNumber === 0 && !own.sentOther ? 0 : seqRelative(s.seqNumber, own.isn);
    return { seq, ack: seqRelative(s.ackNumber, other.isn) };
  };
}

/**
 * One connection of a capture as a ladder: its two endpoints (originator left). Times in ms since
 * `originTime` (seconds since the epoch; default the connection's start); seq/ack relative to each
 * side's first sequence number (its ISN when the SYN was captured).
 */
export function ladderFromConnection(c: ConnectionReport, originTime?: number): LadderModel {
  const origin = originTime ?? c.start;
  const relative = relativeNumbers(c.segments);
  const causeOf = new Map(c.rsts.map((r) => [r.frame, r.cause]));
  const events: LadderEvent[] = [];
  const head = c.segmentsDropped > 0 ? c.segments.length >> 1 : -1;
  c.segments.forEach((s, i) => {
    if (i === head) events.push({ kind: 'gap', ms: null, segments: c.segmentsDropped });
    const hasAck = (s.flags & TcpFlag.ACK) !== 0;
    const cause = causeOf.get(s.frame);
    const { seq, ack } = relative(s);
    events.push({
      kind: 'segment', ms: Math.round((s.time - origin) * 1e6) / 1e3, frame: s.frame,
      from: s.fromOrig ? 0 : 1, to: s.fromOrig ? 1 : 0, flags: flagString(s.flags), seq,
      ack: hasAck ? ack : null, len: s.payloadLength,
      ...(cause ? { cause } : {}),
    });
  });
  return {
    title: `#${c.id} ${c.orig} → ${c.resp}  ${c.connState}`,
    hosts: [{ label: c.orig, detail: 'originator' }, { label: c.resp, detail: 'responder' }],
    events,
    origin: originTime === undefined ? 'ms since the connection\'s first packet' : 'ms since the capture\'s first packet',
  };
}

// ---------------------------------------------------------------------------------------------
// Terminal text

const len = (s: string) => [...s].length;

function clip(s: string, n: number): string {
  if (n <= 0) return '';
  return len(s) <= n ? s : `${[...s].slice(0, Math.max(0, n - 1)).join('')}…`;
}


/** `12.3`, `12345.6`, `123.4s` for long runs: at most 8 columns. */
export function formatMs(ms: number | null): string {
  if (ms === null) return '';
  if (Math.abs(ms) < 100_000) return ms.toFixed(1);
  return `${(ms / 1000).toFixed(ms < 10_000_000 ? 1 : 0)}s`;
}

/** One-line description of a segment: `#5 [P.] seq 1 ack 1 len 517`. */
export function segmentLabel(e: LadderSegmentEvent): string {
  return `#${e.frame} ${e.flags} seq ${e.seq}${e.ack === null ? '' : ` ack ${e.ack}`} len ${e.len}`;
}

/**
 * The ladder as terminal text, at most `width` columns (minimum 60): a time column in ms, one
 * vertical line per host, arrows for segments (`=` for RSTs), `*` for notes on the host's line, and
 * on the right what each row is. Colours through `p` (plain by default).
 */
export function renderLadderText(model: LadderModel, width = 100, p: Painter = plain): string {
  width = Math.max(60, width);
  const n = Math.max(1, model.hosts.length);
  const timeW = 8;
  const gap = n === 1 ? 0 : Math.max(8, Math.min(n === 2 ? 30 : 18, Math.floor((width * 0.45) / (n - 1))));
  const diagramW = (n - 1) * gap + 1;
  const left = timeW + 2;
  const descStart = left + diagramW + 2;
  const descW = width - descStart;
  const laneX = (i: number) => i * gap;

  const lines: string[] = [];
  lines.push(p.bold(clip(model.title, width)));
  // Host names centred over their lines; when they would overlap, legend letters instead.
  const headW = diagramW + 8;
  const place = (names: string[]) => names.map((name, i) => Math.max(0, Math.min(headW - len(name), laneX(i) - Math.floor(len(name) / 2))));
  let names = model.hosts.map((h) => h.label);
  let starts = place(names);
  const overlaps = names.some((nm, i) => i > 0 && starts[i] <= starts[i - 1] + len(names[i - 1]));
  if (overlaps || names.some((nm) => len(nm) > (n === 1 ? 20 : headW))) {
    names = model.hosts.map((_, i) => String.fromCharCode(65 + i));
    starts = place(names);
  }
  // A legend names every host when names were replaced by letters or a host has a description.
  if (overlaps || model.hosts.some((h) => h.detail)) {
    model.hosts.forEach((h, i) => {
      lines.push(p.dim(clip(`  ${String.fromCharCode(65 + i)}  ${h.label}${h.detail ? `  (${h.detail})` : ''}`, width)));
    });
  }
  const head = Array.from({ length: headW }, () => ' ');
  names.forEach((nm, i) => [...nm].forEach((ch, k) => { head[starts[i] + k] = ch; }));
  lines.push(p.bold(clip(`${'ms'.padStart(timeW)}  ${head.join('').trimEnd()}`, width)));

  const lanes = () => {
    const row = Array.from({ length: diagramW }, () => ' ');
    for (let i = 0; i < n; i++) row[laneX(i)] = '|';
    return row;
  };
  const emit = (ms: number | null, row: string[], desc: string, paint: (s: string) => string = (s) => s, paintDesc = paint) => {
    const time = formatMs(ms).padStart(timeW);
    const d = clip(desc, descW);
    lines.push(`${time}  ${paint(row.join(''))}  ${paintDesc(d)}`.trimEnd());
  };

  for (const e of model.events) {
    switch (e.kind) {
      case 'segment': {
        const row = lanes();
        const a = laneX(e.from);
        const b = laneX(e.to);
        const rst = isRst(e.flags);
        const fill = rst ? '=' : '-';
        if (a !== b) {
          const lo = Math.min(a, b);
          const hi = Math.max(a, b);
          for (let x = lo + 1; x < hi; x++) row[x] = fill;
          if (b > a) row[b - 1] = '>'; else row[b + 1] = '<';
          if (rst) row[a < b ? a + 1 : a - 1] = 'x';
        } else {
          row[a] = rst ? 'x' : 'o';
        }
        let desc = segmentLabel(e);
        if (rst) desc += `  RST: ${e.cause ?? 'not judged'}`;
        emit(e.ms, row, desc, rst ? (s) => p.red(p.bold(s)) : (s) => s);
        break;
      }
      case 'note': {
        const row = lanes();
        if (e.host !== null) row[laneX(e.host)] = '*';
        const desc = `${e.who === 'lab' ? '[lab] ' : e.host === null ? `[${e.who}] ` : ''}${e.text}`;
        const paint = e.tone === 'error' ? (s: string) => p.red(s) : e.tone === 'action' ? (s: string) => p.yellow(s) : (s: string) => p.cyan(s);
        emit(e.ms, row, desc, paint);
        break;
      }
      case 'gap': {
        const row = lanes().map((c) => (c === '|' ? ':' : c));
        emit(e.ms, row, `… ${e.segments} segment${e.segments === 1 ? '' : 's'} not kept`, (s) => p.dim(s));
        break;
      }
    }
  }
  if (!model.events.length) lines.push(p.dim(`${' '.repeat(left)}(no packets captured)`));
  return lines.join('\n');
}
