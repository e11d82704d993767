#!/usr/bin/env python3
"""The Python client driver: http.client (standard library) with ssl, run as
`python3 python-driver.py '<DriverConfig JSON>'`. Speaks the JSON-lines protocol of protocol.ts:
ready, connected (then waits for the line `go` on stdin; exits with status 3 if stdin closes
first), response-started, exactly one result. The pause point sits inside the connection's own
connect(): after http.client's TCP connect and its own CONNECT tunnel (set_tunnel) and before
ssl wraps the socket (ClientHello) or the request is written. Through a proxy, plain http uses an
absolute-form request-target (as urllib does). The Outcome keeps the exception's qualified class,
str(e), an errno name (OSError) or the OpenSSL reason (ssl.SSLError), and the __cause__ /
__context__ chain. Schemes: http, https (h2 is not supported by http.client: reported as an error).
"""

import errno
import http.client
import json
import os
import socket
import ssl
import sys
import threading
import time

STARTED = time.monotonic()
_lock = threading.Lock()
_finished = False
_connected_at = None


def emit(obj):
    with _lock:
        sys.stdout.write(json.dumps(obj, ensure_ascii=True) + "\n")
        sys.stdout.flush()


def finish(outcome):
    global _finished
    with _lock:
        if _finished:
            return
        _finished = True
        timings = {"totalMs": round((time.monotonic() - STARTED) * 1000, 1)}
        if _connected_at is not None:
            timings["connectMs"] = round((_connected_at - STARTED) * 1000, 1)
        sys.stdout.write(json.dumps({"event": "result", "outcome": outcome, "timings": timings}, ensure_ascii=True) + "\n")
        sys.stdout.flush()
    os._exit(0)


def fmt_address(addr):
    host, port = addr[0], addr[1]
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


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


def error_outcome(e, **extra):
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
    out.update(extra)
    return out


def hold(cfg, sock):
    global _connected_at
    if _connected_at is None:
        _connected_at = time.monotonic()
    if not cfg.get("pause"):
        return
    emit({"event": "connected", "local": fmt_address(sock.getsockname()), "remote": fmt_address(sock.getpeername())})
    while True:
        line = sys.stdin.readline()
        if line == "":
            sys.stderr.write("stdin closed while waiting for go\n")
            sys.stderr.flush()
            os._exit(3)
        if line.strip() == "go":
            return


def main():
    cfg = json.loads(sys.argv[-1])
    timer = threading.Timer(cfg["timeoutMs"] / 1000.0, lambda: finish(
        {"kind": "timeout-internal", "message": "no outcome within %d ms" % cfg["timeoutMs"], "causes": []}))
    timer.daemon = True
    timer.start()
    emit({"event": "ready", "software": {"family": "python-http.client", "version": sys.version.split()[0]}})

    scheme = cfg["scheme"]
    if scheme not in ("http", "https"):
        finish({"kind": "error", "error": "rstlab.Unsupported", "message": "http.client does not speak %s" % scheme, "causes": []})
    target, proxy = cfg["target"], cfg.get("proxy")

    class HeldHTTPConnection(http.client.HTTPConnection):
        def connect(self):
            http.client.HTTPConnection.connect(self)  # TCP connect (+ CONNECT when set_tunnel)
            hold(cfg, self.sock)

    class HeldHTTPSConnection(http.client.HTTPSConnection):
        def connect(self):
            # HTTPSConnection.connect with the pause point before the TLS handshake.
            http.client.HTTPConnection.connect(self)
            hold(cfg, self.sock)
            server_hostname = self._tunnel_host if self._tunnel_host else self.host
            self.sock = self._context.wrap_socket(self.sock, server_hostname=server_hostname)

    authority = "[%s]:%d" % (target["host"], target["port"]) if ":" in target["host"] else "%s:%d" % (target["host"], target["port"])
    hop = proxy or target
    url = cfg.get("path") or "/"
    if scheme == "https":
        ctx = ssl.create_default_context(cafile=cfg.get("caFile"))
        conn = HeldHTTPSConnection(hop["host"], hop["port"], context=ctx)
        if proxy:
            conn.set_tunnel(target["host"], target["port"])
    else:
        conn = HeldHTTPConnection(hop["host"], hop["port"])
        if proxy:
            url = "http://%s%s" % (authority, url)

    status = None
    nbytes = 0
    try:
        conn.request("GET", url)
        resp = conn.getresponse()
        status = resp.status
        emit({"event": "response-started", "status": status})
        # One read() of the whole body, as applications usually do: it raises IncompleteRead on a
        # short Content-Length body (read(amt) in a loop would return b"" silently instead).
        try:
            nbytes = len(resp.read())
        except http.client.IncompleteRead as e:
            nbytes = len(e.partial)
            raise
        finish({"kind": "ok", "status": status, "bytes": nbytes, "causes": []})
    except BaseException as e:  # noqa: BLE001 — every exception is data here
        extra = {} if status is None else {"status": status, "bytes": nbytes}
        finish(error_outcome(e, **extra))


if __name__ == "__main__":
    main()
