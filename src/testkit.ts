// Test support shared by every layer's tests (no product code imports it). Contract:
// - `IN_CI` is true under CI (`CI=true`, as .ci/run is run), where every tool, root and the shared
//   corpora are present.
// - `skipOutsideCi(missing)` is the `skip` option of a test whose prerequisite may be missing on a
//   developer's machine: the reason outside CI; `false` in CI, so that the test runs there and its
//   own check of the prerequisite fails, instead of passing by being skipped.
// - `readZeekLog(text)` reads a Zeek ASCII log (Zeek's own or `explain --format zeek`) as zeek-cut
//   does: columns found by the `#fields` line, split on the `#separator`.

export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

export function skipOutsideCi(missing: string | false): string | false {
  return missing !== false && !IN_CI ? missing : false;
}

/** A Zeek ASCII log read the way zeek-cut reads one: the separator from the `#separator` line, the
 *  columns named by the `#fields` line, every other `#` line a header (its name → the rest). */
export interface ZeekLog {
  separator: string;
  headers: Map<string, string>;
  fields: string[];
  types: string[];
  rows: Array<Record<string, string>>;
}

export function readZeekLog(text: string): ZeekLog {
  const log: ZeekLog = { separator: '\t', headers: new Map(), fields: [], types: [], rows: [] };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const sep = /^#separator (.*)$/.exec(line);
    if (sep) {
      log.separator = sep[1].replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
      continue;
    }
    const parts = line.split(log.separator);
    if (line.startsWith('#')) {
      const name = parts[0].slice(1);
      log.headers.set(name, parts.slice(1).join(log.separator));
      if (name === 'fields') log.fields = parts.slice(1);
      if (name === 'types') log.types = parts.slice(1);
      continue;
    }
    log.rows.push(Object.fromEntries(log.fields.map((f, i) => [f, parts[i]])));
  }
  return log;
}

/** A loopback port nothing listens on: bound to port 0, noted, released (another process could
 *  take it in between; good enough for tests and benchmarks on an otherwise quiet machine). */
export async function closedLoopbackPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
