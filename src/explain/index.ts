// Public surface of the explainer: cause codes, verdicts, the streaming engine and the one-call helper.
export { CAUSES, CAUSE_CODES, LINUX_ACTIVE_RESET_REASONS, LINUX_RST_REASONS } from './causes.js';
export type { Cause, Confidence, LinuxRstReason } from './causes.js';
export { judgeRst, rstForm, flagString } from './verdict.js';
export type { RstVerdict, RstForm } from './verdict.js';
export { Explainer, explainCapture, reportOf } from './engine.js';
export type { ConnectionReport, ExplainResult, ExplainSummary, ExplainSink, ExplainerOptions, AnomalyCount } from './engine.js';
export { ReorderBuffer } from './reorder.js';
export { RstGroups } from './groups.js';
export type { PatternKind, RstPattern } from './groups.js';
export { RstRateLimits } from './rate-limit.js';
export type { RateLimitFinding } from './rate-limit.js';
export { senderProfile, profileText, hopDistance, NO_PROFILE } from './profile.js';
export type { SenderProfile, StackFamily, IpIdBehaviour } from './profile.js';
