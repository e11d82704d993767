#!/usr/bin/env python3
"""The python-requests client driver: requests (Debian python3-requests) over urllib3, run as
`python3 requests-driver.py '<DriverConfig JSON>'`; speaks protocol.ts through pydriver_common.
One requests.Session with an HTTPAdapter whose urllib3 pools (PoolManager and ProxyManager
alike) make their connections with HeldHTTPConnection / HeldHTTPSConnection, urllib3's own
connection classes with the pause point added: after the TCP connect (_new_conn) when no tunnel
follows, else after the CONNECT tunnel (_tunnel); urllib3 wraps the socket in TLS only after
that, so an https pause holds before the ClientHello. Proxies come from the config only
(trust_env off). The session's retries stay requests' default (Retry(0, read=False)); `reuse`
makes the second request through the same Session (urllib3's pool picks the connection: it drops
a pooled connection whose socket is readable, i.e. closed by the server, and connects anew).
The Outcome keeps requests' exception (requests.exceptions.ConnectionError …) and the urllib3 and
socket exceptions beneath it; its code is the first errno name of that chain.
"""

import json
import sys

from pydriver_common import Pauser, authority, emit, error_outcome, finish, finish_error, finish_ok, second_request, start

import requests
import requests.adapters
import urllib3.connection
import urllib3.connectionpool


def main():
    cfg = json.loads(sys.argv[-1])
    start(cfg, {"family": "python-requests", "version": requests.__version__})
    scheme = cfg["scheme"]
    if scheme not in ("http", "https"):
        finish({"kind": "error", "error": "rstlab.Unsupported", "message": "requests does not speak %s" % scheme, "causes": []})
    pauser = Pauser(cfg)

    def held(connection_cls):
        """urllib3's connection class with the pause point: after the TCP connect, or the tunnel."""
        class Held(connection_cls):
            def _new_conn(self):
                conn = super()._new_conn()
                if not self._tunnel_host:
                    pauser.hold(conn)
                return conn

            def _tunnel(self):
                super()._tunnel()
                pauser.hold(self.sock)

        return Held

    HeldHTTPConnection = held(urllib3.connection.HTTPConnection)
    HeldHTTPSConnection = held(urllib3.connection.HTTPSConnection)

    class HeldHTTPConnectionPool(urllib3.connectionpool.HTTPConnectionPool):
        ConnectionCls = HeldHTTPConnection

    class HeldHTTPSConnectionPool(urllib3.connectionpool.HTTPSConnectionPool):
        ConnectionCls = HeldHTTPSConnection

    # urllib3 prints these classes in its messages (`HTTPConnectionPool(host=…)`, `<urllib3.connection.
    # HTTPConnection object at 0x…>`): the subclasses carry urllib3's names so the texts stay verbatim.
    for cls, orig in ((HeldHTTPConnection, urllib3.connection.HTTPConnection), (HeldHTTPSConnection, urllib3.connection.HTTPSConnection),
                      (HeldHTTPConnectionPool, urllib3.connectionpool.HTTPConnectionPool), (HeldHTTPSConnectionPool, urllib3.connectionpool.HTTPSConnectionPool)):
        cls.__name__, cls.__qualname__, cls.__module__ = orig.__name__, orig.__qualname__, orig.__module__
    held_pools = {"http": HeldHTTPConnectionPool, "https": HeldHTTPSConnectionPool}

    class HeldAdapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = held_pools

        def proxy_manager_for(self, proxy, **proxy_kwargs):
            manager = super().proxy_manager_for(proxy, **proxy_kwargs)
            manager.pool_classes_by_scheme = held_pools
            return manager

    session = requests.Session()
    session.trust_env = False
    adapter = HeldAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if cfg.get("proxy"):
        session.proxies = {"http": "http://%s" % authority(cfg["proxy"]), "https": "http://%s" % authority(cfg["proxy"])}
    verify = cfg.get("caFile") or True
    base = "%s://%s" % (scheme, authority(cfg["target"]))

    notes = None
    method, body = second_request(cfg)
    if cfg.get("reuse") is not None:
        try:
            session.get(base + "/", verify=verify).content
        except BaseException as e:  # noqa: BLE001
            finish(error_outcome(e, lift_code=True, notes=["first-request"]))
        pauser.idle()

    status = None
    nbytes = 0
    try:
        resp = session.request(method, base + (cfg.get("path") or "/"), data=body, verify=verify, stream=True)
        status = resp.status_code
        declared = resp.headers.get("content-length")
        emit({"event": "response-started", "status": status})
        # The whole body, as applications read a download. urllib3 1.26 does not enforce
        # Content-Length (enforce_content_length=False): a body cut by a FIN ends as if complete.
        for chunk in resp.iter_content(64 * 1024):
            nbytes += len(chunk)
        finish_ok(pauser, status, nbytes, declared)
    except BaseException as e:  # noqa: BLE001 — every exception is data here
        finish_error(pauser, e, status, nbytes)


if __name__ == "__main__":
    main()
