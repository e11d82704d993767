// A connection's RSTs and the segments that followed them, kept as numbers while the connection is
// live (and while it waits out its linger after a RST), and turned into RstContext records only
// when it is finalized. Contract:
// - `record(row, sender)`: a RST, its segment in row `row` of the connection's store,
//   with snapshots of both endpoints as they were before it (EndpointTrack.writeAtRst). The
//   snapshots are taken lazily: until another segment comes, the endpoints themselves are the
//   snapshots (but for the sender's state and last row, which the RST changes and which are kept
//   here), and the RST's row and both last rows stay untouched in the store. So the caller must call
//   `settle(st, orig, resp)` before it changes anything of the connection's for a later segment
//   (the tracker does at the top of its per-segment update): that writes the pending RST's entry.
//   A connection that ends with a RST and sees nothing after it (a port scan's) never has a log.
// - `follow(st, row, fromOrig, rst)`: a later segment, before record() when it is a RST itself. It
//   is kept when an earlier RST still wants it: a segment from the RST's receiver (the first
//   AFTER_RST_KEEP: a challenge ACK, more resets) joins its `after`; one of the sender's own that
//   is no RST (the first KEPT_SENDING_KEEP), its `keptSending`.
// - `contexts(st, orig, resp)` builds the RstContext records, the same ones the log was fed (the
//   pending RST's from the live endpoints, which must be unchanged since); `reset()` empties
//   the log for another connection (its array is kept: logs are pooled with their tracks).
// The log is one plain array of doubles: per RST an entry of RST_ENTRY numbers (tag, how many
// followers it took of each kind, its segment's row, the two snapshots), per kept follower one of
// FOLLOW_ENTRY (tag, its row). No object per RST until contexts().

import { TcpFlag } from '../wire/types.js';
import { AT_RST_SIZE, readAtRst } from './endpoint-track.js';
import type { EndpointTrack } from './endpoint-track.js';
import { copyRow, F_BITS, F_FRAME, FROM_ORIG_BIT, newDoubles, STRIDE, summaryFrom } from './segment-store.js';
import type { Store } from './segment-store.js';
import type { RstContext, SegmentSummary } from './types.js';

/** `after`: how many of the RST receiver's later segments are kept. */
export const AFTER_RST_KEEP = 4;
/** `keptSending`: how many of the RST sender's later frames are kept. */
export const KEPT_SENDING_KEEP = 5;

const TAG_RST = 1;
const TAG_FOLLOW = 2;
// A RST entry: tag, afterN, keptN, the RST's row, the sender's and the receiver's snapshots.
const R_AFTER_N = 1;
const R_KEPT_N = 2;
const R_ROW = 3;
const R_SENDER = R_ROW + STRIDE;
const R_RECEIVER = R_SENDER + AT_RST_SIZE;
const RST_ENTRY = R_RECEIVER + AT_RST_SIZE;
// A follower: tag, its row.
const FOLLOW_ENTRY = 1 + STRIDE;

const fromOrigAt = (log: readonly number[], rowAt: number): boolean => (log[rowAt + F_BITS] & FROM_ORIG_BIT) !== 0;

/** The pending RST's entry on its way to the records (contexts()). */
const scratch: number[] = newDoubles(RST_ENTRY);

export class RstLog {
  private log: number[] | null = null;
  private len = 0;
  /** RSTs recorded. */
  count = 0;
  /** The latest RST's row while its entry is not written yet (-1: none pending); its sender's
   *  state (EndpointTrack.stateCode) and last row before it. */
  pendRow = -1;
  private pendState = 0;
  private pendLastRow = -1;

  /** The row a pending RST's sender snapshot reads (its last segment before the RST); -1: none. */
  get pendingLastRow(): number {
    return this.pendRow >= 0 ? this.pendLastRow : -1;
  }

  reset(): void {
    this.len = 0;
    this.count = 0;
    this.pendRow = -1;
  }

  record(row: number, sender: EndpointTrack): void {
    if (this.pendRow >= 0) throw new Error('RstLog.record: settle() was not called after the previous RST');
    this.pendRow = row;
    this.pendState = sender.stateCode();
    this.pendLastRow = sender.lastRow;
    this.count++;
  }

  /** Write the pending RST's entry (if any), from the endpoints as they still are. */
  settle(st: Store, orig: EndpointTrack, resp: EndpointTrack): void {
    if (this.pendRow < 0) return;
    const log = this.room(RST_ENTRY);
    this.writePending(log, this.len, st, orig, resp);
    this.len += RST_ENTRY;
    this.pendRow = -1;
  }

  private writePending(log: number[], o: number, st: Store, orig: EndpointTrack, resp: EndpointTrack): void {
    const row = this.pendRow;
    const fromOrig = (st[row * STRIDE + F_BITS] & FROM_ORIG_BIT) !== 0;
    const sender = fromOrig ? orig : resp;
    const receiver = fromOrig ? resp : orig;
    log[o] = TAG_RST;
    log[o + R_AFTER_N] = 0;
    log[o + R_KEPT_N] = 0;
    copyRow(st, row * STRIDE, log, o + R_ROW);
    sender.writeAtRst(log, o + R_SENDER, st, this.pendState, this.pendLastRow);
    receiver.writeAtRst(log, o + R_RECEIVER, st);
  }

  follow(st: Store, row: number, fromOrig: boolean, rst: boolean): void {
    const log = this.log as number[];
    let wanted = false;
    for (let o = 0; o < this.len; o += log[o] === TAG_RST ? RST_ENTRY : FOLLOW_ENTRY) {
      if (log[o] !== TAG_RST) continue;
      if (fromOrigAt(log, o + R_ROW) !== fromOrig) {
        if (log[o + R_AFTER_N] < AFTER_RST_KEEP) { log[o + R_AFTER_N]++; wanted = true; }
      } else if (!rst && log[o + R_KEPT_N] < KEPT_SENDING_KEEP) {
        log[o + R_KEPT_N]++;
        wanted = true;
      }
    }
    if (!wanted) return;
    const out = this.room(FOLLOW_ENTRY);
    out[this.len] = TAG_FOLLOW;
    copyRow(st, row * STRIDE, out, this.len + 1);
    this.len += FOLLOW_ENTRY;
  }

  contexts(st: Store, orig: EndpointTrack, resp: EndpointTrack): RstContext[] {
    const out: RstContext[] = [];
    const log = this.log;
    if (log !== null) this.fromLog(log, out);
    // (The pending RST is the latest: nothing followed it.)
    if (this.pendRow >= 0) {
      this.writePending(scratch, 0, st, orig, resp);
      out.push(contextAt(scratch, 0, out));
    }
    return out;
  }

  private fromLog(log: readonly number[], out: RstContext[]): void {
    for (let o = 0; o < this.len; o += log[o] === TAG_RST ? RST_ENTRY : FOLLOW_ENTRY) {
      if (log[o] === TAG_RST) {
        out.push(contextAt(log, o, out));
        continue;
      }
      // The same rule as follow(), now on the records: each RST takes what it took then.
      const fromOrig = fromOrigAt(log, o + 1);
      const rst = (log[o + 1 + F_BITS] & TcpFlag.RST) !== 0;
      let summary: SegmentSummary | null = null;
      for (const r of out) {
        if (r.fromOrig !== fromOrig) {
          if (r.after.length < AFTER_RST_KEEP) r.after.push(summary ??= summaryFrom(log, o + 1));
        } else if (!rst && r.keptSending.length < KEPT_SENDING_KEEP) {
          r.keptSending.push(log[o + 1 + F_FRAME]);
        }
      }
    }
  }

  /** The log, with room for `n` more numbers. */
  private room(n: number): number[] {
    const log = this.log;
    if (log !== null && this.len + n <= log.length) return log;
    // (The first entry gets exactly its size: most connections see one RST and nothing after it.)
    const grown = newDoubles(log === null ? n : Math.max(log.length * 2, this.len + n));
    if (log !== null) for (let i = 0; i < this.len; i += 1) grown[i] = log[i];
    this.log = grown;
    return grown;
  }
}

/** The RstContext of the RST entry at `log[o]` (`out`: the earlier ones). */
function contextAt(log: readonly number[], o: number, out: readonly RstContext[]): RstContext {
  const seg = summaryFrom(log, o + R_ROW);
  const receiver = readAtRst(log, o + R_RECEIVER);
  return {
    seg,
    payloadLength: seg.payloadLength,
    fromOrig: seg.fromOrig,
    sender: readAtRst(log, o + R_SENDER),
    receiver,
    trigger: receiver.lastSeg,
    earlierRsts: out.map((r) => r.seg.frame),
    after: [],
    keptSending: [],
  };
}
