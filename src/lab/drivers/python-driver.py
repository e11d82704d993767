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
`reuse`: the one HTTPConnection is http.client's "pool": the second request goes over the same
socket (http.client reconnects only after closing it itself, and never retries). The protocol
helpers are pydriver_common.py's, shared with the requests, httpx and aiohttp drivers.
"""

import http.client
import json
import ssl
import sys

from pydriver_common import POST_BODY, Pauser, emit, error_outcome, finish, reuse_method, start


def main():
    cfg = json.loads(sys.argv[-1])
    start(cfg, {"family": "python-http.client", "version": sys.version.split()[0]})

    scheme = cfg["scheme"]
    if scheme not in ("http", "https"):
        finish({"kind": "error", "error": "rstlab.Unsupported", "message": "http.client does not speak %s" % scheme, "causes": []})
    target, proxy = cfg["target"], cfg.get("proxy")
    pauser = Pauser(cfg)

    class HeldHTTPConnection(http.client.HTTPConnection):
        def connect(self):
            http.client.HTTPConnection.connect(self)  # TCP connect (+ CONNECT when set_tunnel)
            pauser.hold(self.sock)

    class HeldHTTPSConnection(http.client.HTTPSConnection):
        def connect(self):
            # HTTPSConnection.connect with the pause point before the TLS handshake.
            http.client.HTTPConnection.connect(self)
            pauser.hold(self.sock)
            server_hostname = self._tunnel_host if self._tunnel_host else self.host
            self.sock = self._context.wrap_socket(self.sock, server_hostname=server_hostname)

    authority = "[%s]:%d" % (target["host"], target["port"]) if ":" in target["host"] else "%s:%d" % (target["host"], target["port"])
    hop = proxy or target

    def url_of(path):
        return "http://%s%s" % (authority, path) if proxy and scheme == "http" else path

    if scheme == "https":
        ctx = ssl.create_default_context(cafile=cfg.get("caFile"))
        conn = HeldHTTPSConnection(hop["host"], hop["port"], context=ctx)
        if proxy:
            conn.set_tunnel(target["host"], target["port"])
    else:
        conn = HeldHTTPConnection(hop["host"], hop["port"])

    notes = []
    method, body = "GET", None
    if cfg.get("reuse") is not None:
        # One HTTPConnection is http.client's whole "pool": the second request goes over the same
        # socket unless http.client closed it (auto_open then connects again). http.client never retries.
        method = reuse_method(cfg)
        body = POST_BODY if method == "POST" else None
        try:
            conn.request("GET", url_of("/"))
            first = conn.getresponse()
            first.read()
        except BaseException as e:  # noqa: BLE001
            finish(error_outcome(e, notes=["first-request"]))
        before = pauser.connects
        pauser.idle()
        notes = None  # filled after the second request

    status = None
    nbytes = 0
    try:
        conn.request(method, url_of(cfg.get("path") or "/"), body=body)
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
        out = {"kind": "ok", "status": status, "bytes": nbytes, "causes": []}
        if notes is None:
            out["notes"] = pauser.second_request_notes(before)
        finish(out)
    except BaseException as e:  # noqa: BLE001 — every exception is data here
        extra = {} if status is None else {"status": status, "bytes": nbytes}
        if notes is None:
            extra["notes"] = pauser.second_request_notes(before)
        finish(error_outcome(e, **extra))


if __name__ == "__main__":
    main()
