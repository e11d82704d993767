// Pieces several scenario files build with (scenarios.ts and its topic files), kept here so that
// none of those files imports another's values. Contract: data and small functions over
// ScenarioActions, nothing else.

import type { ServerConfig } from './protocol.js';
import type { ScenarioActions } from './scenarios.js';

/** The `/large` response of the http/https/h2 kinds: 8 MiB, of which the server writes the headers
 *  and the first 256 KiB, reports `mid-response` and holds the rest. */
export const LARGE_RESPONSE = { largeBytes: 8 << 20, largeFirstChunk: 256 << 10 } as const satisfies Partial<ServerConfig>;

/** Waits until the server wrote its headers and the first 256 KiB, and a little more (the client
 *  has read them). */
export async function midResponse(a: ScenarioActions): Promise<void> {
  await a.serverEvent('mid-response', 8000);
  await a.sleep(100);
}
