// rstlab's errors: one base class, one subclass per failure a caller branches on, each with a
// stable `code` (the undici pattern). The CLI prints `message` (and `hint`) on one line each and
// exits 2 (cli/main.ts); nothing a user can cause should surface as a stack trace.

export abstract class RstlabError extends Error {
  abstract readonly code: string;
  /** What the user should do about it, printed after the message. */
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.hint = hint;
  }
}

/** The capture file is broken at the file level (bad magic, cut-off record, absurd block length). */
export class CaptureFormatError extends RstlabError {
  readonly code = 'ERR_CAPTURE_FORMAT';
  /** Byte offset in the (decompressed) capture where the problem was found. */
  readonly offset: number;
  constructor(message: string, offset: number, hint?: string) {
    super(message, hint ?? 'check that the file is a complete pcap or pcapng capture (tcpdump -w, Wireshark)');
    this.offset = offset;
  }
}

/** A file or stream could not be opened or read. */
export class InputError extends RstlabError {
  readonly code = 'ERR_INPUT';
}

/** Wrong command-line arguments or options. */
export class UsageError extends RstlabError {
  readonly code = 'ERR_USAGE';
}

/** A required external tool (tcpdump, java, ip, iptables…) is missing. */
export class MissingToolError extends RstlabError {
  readonly code = 'ERR_MISSING_TOOL';
  readonly tool: string;
  readonly debianPackage: string;
  constructor(tool: string, debianPackage: string, why: string) {
    super(`${tool} is not installed; ${why}`, `install it with: apt-get install ${debianPackage}`);
    this.tool = tool;
    this.debianPackage = debianPackage;
  }
}

/** The lab could not set up or run (namespaces, processes, capture). */
export class LabError extends RstlabError {
  readonly code = 'ERR_LAB';
}

/** Used at the end of exhaustive switches: a new union member that is not handled fails to compile. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}
