// The tcp layer's one entry point: the connection tracker, its public types, Zeek's conn_state,
// and the scripted conversations that tests and benchmarks build captures from. Other layers
// import from here only; the modules behind it are:
//   types.ts          the public connection types (Connection, EndpointStats, RstContext, …)
//   conn-state.ts     Zeek's conn_state codes and the rule that derives them
//   zeek-conn.ts      Zeek's TCP state machine, history letters and connection timers
//   tracker.ts        ConnectionTracker: segments in, finalized connections out
//   endpoint-track.ts an endpoint's live state and its snapshot as EndpointStats
//   segment-store.ts  segment summaries as rows of numbers
//   tuple-table.ts    the IPv4 4-tuple lookup table
//   conversation.ts   scripted TCP conversations (real frames, with checksums)

export type {
  Connection, EndpointAtRst, EndpointState, EndpointStats, RstContext, SegmentSummary, SegmentTime, TrackerOptions,
} from './types.js';
export { connState, connStateOf } from './conn-state.js';
export type { ConnState } from './conn-state.js';
export { ConnectionTracker, DEFAULT_CLOSED_LINGER_SEC } from './tracker.js';
export { mode } from './endpoint-track.js';
export { Conversation } from './conversation.js';
export type { ConversationFrame, SegmentOverrides, Side } from './conversation.js';
