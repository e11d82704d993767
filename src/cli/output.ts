// Standard output for the CLI: writes that survive a closed pipe (`rstlab explain x | head`).

let closed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') { closed = true; process.exit(0); }
  throw err;
});

export function writeOut(s: string): void {
  if (!closed) process.stdout.write(s);
}
