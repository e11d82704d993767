"""What the lab's Python client drivers share (python-driver.py, requests-driver.py,
httpx-driver.py, aiohttp-driver.py; db-driver.py uses the protocol part): the JSON-lines side of
protocol.ts (emit, exactly one `result` via finish(), the timeoutMs safety net; on_exit for what
must end with the driver), the pause point (hold: `connected`, then wait
for the line `go` on stdin; stdin closing first exits with status 3), the reuse option's idle
point, and the Outcome of an exception: its qualified class, str(e), an errno name (OSError) or
the OpenSSL reason (ssl.SSLError) as code, and the whole __cause__ / __context__ chain as causes.
Only the standard library: every driver imports it before its own HTTP library.
"""

import errno
import json
import os
import ssl
import sys
import threading
import time
import traceback

STARTED = time.monotonic()
_lock = threading.Lock()
_finished = False
_connected_at = None
_exit_hooks = []


def on_exit(fn):
    """Runs fn() just before the driver exits through finish() or wait_go()."""
    _exit_hooks.append(fn)


def _exit(status):
    for fn in _exit_hooks:
        fn()
    os._exit(status)


def emit(obj):
    with _lock:
        sys.stdout.write(json.dumps(obj, ensure_ascii=True) + "\n")
        sys.stdout.flush()


def finish(outcome, **flags):
    """Writes the one `result` line (with `flags` such as cannotReuse=True) and exits at once."""
    global _finished
    with _lock:
        if _finished:
            return
        _finished = True
        timings = {"totalMs": round((time.monotonic() - STARTED) * 1000, 1)}
        if _connected_at is not None:
            timings["connectMs"] = round((_connected_at - STARTED) * 1000, 1)
        result = {"event": "result", "outcome": outcome, "timings": timings}
        result.update(flags)
        sys.stdout.write(json.dumps(result, ensure_ascii=True) + "\n")
        sys.stdout.flush()
    _exit(0)


def arm_timeout(cfg):
    """The timeoutMs safety net: a timeout-internal result when nothing else has finished."""
    timer = threading.Timer(cfg["timeoutMs"] / 1000.0, lambda: finish(
        {"kind": "timeout-internal", "message": "no outcome within %d ms" % cfg["timeoutMs"], "causes": []}))
    timer.daemon = True
    timer.start()


def start(cfg, software=None):
    """Arms the timeoutMs safety net and reports `ready` (with the library's own version)."""
    arm_timeout(cfg)
    emit({"event": "ready", "software": software} if software else {"event": "ready"})


def fmt_address(addr):
    host, port = addr[0], addr[1]
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


def authority(hp):
    return fmt_address((hp["host"], hp["port"]))


def class_name(e):
    t = type(e)
    return t.__qualname__ if t.__module__ == "builtins" else "%s.%s" % (t.__module__, t.__qualname__)


def describe(e, relation=None):
    d = {"error": class_name(e), "message": str(e)}
    if isinstance(e, ssl.SSLError):
        if getattr(e, "reason", None):
            d["code"] = str(e.reason)
    elif isinstance(e, OSError) and isinstance(e.errno, int):
        d["code"] = errno.errorcode.get(e.errno, str(e.errno))
    if relation is not None:
        d["relation"] = relation
    return d


def error_outcome(e, lift_code=False, **extra):
    """The Outcome of exception `e`. `lift_code`: when `e` itself has no code (a library's own
    exception wrapping the OSError), the first code of its chain becomes the Outcome's code."""
    top = describe(e)
    out = {"kind": "error", "error": top["error"], "message": top["message"], "causes": []}
    if "code" in top:
        out["code"] = top["code"]
    seen = {id(e)}
    cur = e
    while len(out["causes"]) < 32:
        if cur.__cause__ is not None:
            nxt, rel = cur.__cause__, None
        elif cur.__context__ is not None and not cur.__suppress_context__:
            nxt, rel = cur.__context__, "context"
        else:
            break
        if id(nxt) in seen:
            break
        seen.add(id(nxt))
        out["causes"].append(describe(nxt, rel))
        cur = nxt
    if lift_code and "code" not in out:
        for c in out["causes"]:
            if "code" in c:
                out["code"] = c["code"]
                break
    notes = list(extra.pop("notes", []))
    if lift_code and not out["message"] and e.__traceback__ is not None:
        # A bare exception (aiohttp's `assert conn.transport is not None`): where the library raised it.
        frame = traceback.extract_tb(e.__traceback__)[-1]
        where = "/".join(frame.filename.split("/")[-2:])
        notes.insert(0, "raised at %s:%d: %s" % (where, frame.lineno, (frame.line or "").strip()))
    out.update(extra)
    if notes:
        out["notes"] = notes
    return out


def wait_go():
    """Blocks until the line `go` arrives on stdin; exits with status 3 if stdin closes first."""
    while True:
        line = sys.stdin.readline()
        if line == "":
            sys.stderr.write("stdin closed while waiting for go\n")
            sys.stderr.flush()
            _exit(3)
        if line.strip() == "go":
            return


def mark_connected():
    global _connected_at
    if _connected_at is None:
        _connected_at = time.monotonic()


def connected_event(sock):
    return {"event": "connected", "local": fmt_address(sock.getsockname()), "remote": fmt_address(sock.getpeername())}


class Pauser:
    """The pause point and the reuse option's idle point for one driver run.

    Without `reuse`, hold(sock) at the pause point reports `connected` and, with `pause`, waits
    for `go`. With `reuse`, the run's one wait is at the idle point: hold() reports `connected`
    for the first connection only and never waits; idle() reports `idle` and waits for `go`
    (with `pause`) or `idleMs`. `connects` counts the TCP connections the library made, so a
    driver can tell whether the second request reused the pooled connection.
    """

    def __init__(self, cfg):
        self.cfg = cfg
        self.pause = bool(cfg.get("pause"))
        self.reuse = cfg.get("reuse")
        self.connects = 0
        self.before = 0

    def connected(self, sock):
        """Counts and reports a new connection; True when the driver must now wait for `go`."""
        mark_connected()
        self.connects += 1
        if self.reuse is not None:
            if self.connects == 1:
                emit(connected_event(sock))
            return False
        if not self.pause:
            return False
        emit(connected_event(sock))
        return True

    def hold(self, sock):
        """Blocking form (threads): the pause point."""
        if self.connected(sock):
            wait_go()

    def idle_event(self):
        """Reports `idle` and notes the connections made so far (for reuse_notes)."""
        self.before = self.connects
        emit({"event": "idle"})

    def idle_seconds(self):
        return max(0, self.reuse.get("idleMs", 0) or 0) / 1000.0

    def idle(self):
        """Blocking form (threads): `idle`, then `go` or idleMs."""
        self.idle_event()
        if self.pause:
            wait_go()
        else:
            time.sleep(self.idle_seconds())

    def second_request_notes(self, connects_before):
        return ["new-connection" if self.connects > connects_before else "reused-connection"]

    def reuse_notes(self):
        """With `reuse`: whether the second request made a new connection since idle; else none."""
        return self.second_request_notes(self.before) if self.reuse is not None else []


def body_notes(declared, nbytes):
    """`content-length=N` when the body read differs from the declared length (a library that does
    not enforce Content-Length hands a cut body over as complete)."""
    try:
        n = int(declared) if declared is not None else None
    except ValueError:
        n = None
    return ["content-length=%d" % n] if n is not None and n != nbytes else []


def reuse_method(cfg):
    return (cfg.get("reuse") or {}).get("method") or "GET"


def second_request(cfg):
    """The measured request's method and body: GET, or with `reuse` its method (POST: POST_BODY)."""
    if cfg.get("reuse") is None:
        return "GET", None
    method = reuse_method(cfg)
    return method, (POST_BODY if method == "POST" else None)


def finish_ok(pauser, status, nbytes, declared):
    """The measured request's ok Outcome (body_notes, then the reuse notes)."""
    notes = body_notes(declared, nbytes) + pauser.reuse_notes()
    finish({"kind": "ok", "status": status, "bytes": nbytes, "causes": [], **({"notes": notes} if notes else {})})


def finish_error(pauser, e, status, nbytes):
    """The measured request's error Outcome: status and bytes once the response had started."""
    extra = {} if status is None else {"status": status, "bytes": nbytes}
    if pauser.reuse is not None:
        extra["notes"] = pauser.reuse_notes()
    finish(error_outcome(e, lift_code=True, **extra))


# The second request's body when reuse.method is POST (small; not retried by most libraries).
POST_BODY = b"rstlab=1"
