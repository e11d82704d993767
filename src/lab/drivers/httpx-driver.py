#!/usr/bin/env python3
"""The python-httpx client driver: httpx's sync Client (Debian python3-httpx) over httpcore, run
as `python3 httpx-driver.py '<DriverConfig JSON>'`; speaks protocol.ts through pydriver_common.
The pause point is httpcore's network backend (the layer that opens sockets for the transport's
connection pool): HeldBackend is httpcore's SyncBackend whose streams hold after the TCP connect
for http (direct, or to the proxy for an absolute-form request) and, for https, at the start of
start_tls, i.e. after the CONNECT tunnel when there is one and before the ClientHello. The
backend is handed to the pool httpx.HTTPTransport built (its `_network_backend`: httpx 0.23 has
no public switch for it). Retries stay httpx's default (HTTPTransport(retries=0): connect
failures only); `reuse` makes the second request through the same Client (httpcore's pool drops
an idle connection whose socket is readable, i.e. closed by the server, and connects anew).
The Outcome keeps httpx's exception (httpx.ConnectError, httpx.RemoteProtocolError …) and the
httpcore and socket exceptions beneath it; its code is the first errno name of that chain.
"""

import json
import sys

from pydriver_common import Pauser, authority, emit, error_outcome, finish, finish_error, finish_ok, second_request, start

import httpcore.backends.sync
import httpx


def main():
    cfg = json.loads(sys.argv[-1])
    start(cfg, {"family": "python-httpx", "version": httpx.__version__})
    scheme = cfg["scheme"]
    if scheme not in ("http", "https"):
        finish({"kind": "error", "error": "rstlab.Unsupported", "message": "the driver runs httpx over HTTP/1.1 only, not %s" % scheme, "causes": []})
    pauser = Pauser(cfg)

    class HeldStream(httpcore.backends.sync.SyncStream):
        held = False

        def start_tls(self, ssl_context, server_hostname=None, timeout=None):
            if not self.held:
                self.held = True
                pauser.hold(self._sock)
            return super().start_tls(ssl_context, server_hostname=server_hostname, timeout=timeout)

    class HeldBackend(httpcore.backends.sync.SyncBackend):
        def connect_tcp(self, host, port, timeout=None, local_address=None):
            stream = super().connect_tcp(host, port, timeout=timeout, local_address=local_address)
            held = HeldStream(stream.get_extra_info("socket"))
            if scheme == "http":
                held.held = True
                pauser.hold(held._sock)
            return held

    proxy = httpx.Proxy("http://%s" % authority(cfg["proxy"])) if cfg.get("proxy") else None
    transport = httpx.HTTPTransport(verify=cfg.get("caFile") or True, trust_env=False, proxy=proxy)
    transport._pool._network_backend = HeldBackend()
    client = httpx.Client(transport=transport, trust_env=False)
    base = "%s://%s" % (scheme, authority(cfg["target"]))

    method, body = second_request(cfg)
    if cfg.get("reuse") is not None:
        try:
            client.get(base + "/").read()
        except BaseException as e:  # noqa: BLE001
            finish(error_outcome(e, lift_code=True, notes=["first-request"]))
        pauser.idle()

    status = None
    nbytes = 0
    try:
        with client.stream(method, base + (cfg.get("path") or "/"), content=body) as resp:
            status = resp.status_code
            declared = resp.headers.get("content-length")
            emit({"event": "response-started", "status": status})
            for chunk in resp.iter_bytes():
                nbytes += len(chunk)
        finish_ok(pauser, status, nbytes, declared)
    except BaseException as e:  # noqa: BLE001 — every exception is data here
        finish_error(pauser, e, status, nbytes)


if __name__ == "__main__":
    main()
