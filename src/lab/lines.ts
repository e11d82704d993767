// Line splitting for the lab's pipes: newline-delimited output of child processes (events,
// stderr tails, driver events in the drivers' tests) and the commands a driver reads on stdin.
// Contract: onLine gets each line without its `\n` (or `\r\n`), decoded as UTF-8 across
// chunk boundaries; the last unterminated piece comes at the end; onEnd is called exactly once,
// on the stream's end, close or error.

import { StringDecoder } from 'node:string_decoder';

/** Splits a stream into UTF-8 lines (the last unterminated piece is delivered at the end). */
export function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void, onEnd: () => void): void {
  const decoder = new StringDecoder('utf8');
  let buf = '';
  stream.on('data', (chunk: Buffer) => {
    buf += decoder.write(chunk);
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, nl).replace(/\r$/, ''));
      buf = buf.slice(nl + 1);
    }
  });
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    buf += decoder.end();
    if (buf !== '') onLine(buf);
    buf = '';
    onEnd();
  };
  stream.on('end', end);
  stream.on('close', end);
  stream.on('error', end);
}
