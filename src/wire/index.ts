// The wire layer's public surface: decodeFrame, the header views, address formatting and parsing,
// sequence-number arithmetic, checksums, the frame builders and the protocol constants.
export * from './types.js';
export * from './seq.js';
export * from './bytes.js';
export * from './addr.js';
export * from './link.js';
export * from './ipv4.js';
export * from './ipv6.js';
export * from './tcp.js';
export * from './decode.js';
export * from './checksum.js';
export * from './build.js';
