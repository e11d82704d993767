// What an application saw at the end of a connection, as its client library reported it — the
// one definition shared by the lab's driver protocol, results.json and the error catalog.

export interface AppOutcome {
  kind: 'ok' | 'error' | 'timeout-internal';
  /** HTTP status, when a response head arrived. */
  status?: number;
  /** Body or stream bytes received. */
  bytes?: number;
  /** The error's class or name: `Error`, `java.net.ConnectException`, `curl`. */
  error?: string;
  /** Stable code where the library gives one: `ECONNRESET`, `UND_ERR_SOCKET`, curl's exit code `56`. */
  code?: string;
  message?: string;
  /** The cause chain below the top error, outermost first (Java `getCause()`, JS `error.cause`). */
  causes: Array<{
    error: string;
    code?: string;
    message: string;
    /** How this entry hangs below the previous ones; absent = `cause` (Java getCause(), JS
     *  `error.cause`, Python `__cause__`). `context` = Python's implicit `__context__`;
     *  `suppressed` = a Java suppressed exception; `aggregate` = an entry of a JS AggregateError's `errors`. */
    relation?: 'cause' | 'context' | 'suppressed' | 'aggregate';
  }>;
  /** Facts observed on the way that are not errors, e.g. `eof` (the peer's FIN was read),
   *  `closed-by-client`, `alpn=h2`. */
  notes?: string[];
}
