#!/usr/bin/env python3
"""The python-aiohttp client driver: aiohttp's ClientSession on asyncio (Debian python3-aiohttp),
run as `python3 aiohttp-driver.py '<DriverConfig JSON>'`; speaks protocol.ts through
pydriver_common. The pause point is the session's connector, HeldConnector, a TCPConnector that
holds with the event loop stopped, as at a breakpoint: for plain http, after
loop.create_connection returns (direct, or to the proxy for an absolute-form request); for https
through a proxy, in _start_tls_connection, after the CONNECT tunnel and before the ClientHello;
for direct https, loop.create_connection would connect and shake hands in one call (and the trace
hook on_connection_create_end fires only after TLS), so HeldConnector makes the TCP connection
itself (loop.sock_connect, OSErrors wrapped as aiohttp's own connector wraps them:
ClientConnectorError from the OSError), holds, then lets aiohttp's _wrap_create_connection do the
TLS on that socket. aiohttp 3.8 never retries a request. `reuse` makes the second request through
the same session; the idle wait keeps the event loop running, so the connector sees a FIN on the
pooled connection (connection_lost), drops it and connects anew. The Outcome keeps aiohttp's
exception (aiohttp.client_exceptions.ServerDisconnectedError …) and the chain beneath it.
"""

import asyncio
import json
import socket
import ssl
import sys

from pydriver_common import Pauser, authority, emit, error_outcome, finish, finish_error, finish_ok, second_request, start, wait_go

import aiohttp
from aiohttp.client_exceptions import ClientConnectorError


async def main():
    cfg = json.loads(sys.argv[-1])
    start(cfg, {"family": "python-aiohttp", "version": aiohttp.__version__})
    scheme = cfg["scheme"]
    if scheme not in ("http", "https"):
        finish({"kind": "error", "error": "rstlab.Unsupported", "message": "aiohttp speaks HTTP/1.1 only, not %s" % scheme, "causes": []})
    pauser = Pauser(cfg)
    loop = asyncio.get_running_loop()

    async def hold(sock):
        # The pause point is a breakpoint: the whole event loop stops (wait_go blocks), as in a
        # debugger, so aiohttp goes on to send without having seen what arrived meanwhile (a FIN).
        # Held with the loop running instead, aiohttp reads the FIN and closes the transport first:
        # then a plain request fails with a bare AssertionError (client.py `assert conn.transport
        # is not None`) and start_tls through a proxy never completes (no outcome).
        pauser.hold(sock)

    class HeldConnector(aiohttp.TCPConnector):
        async def _wrap_create_connection(self, *args, req, timeout, client_error=ClientConnectorError, **kwargs):
            if kwargs.get("ssl") and kwargs.get("sock") is None:
                # Direct https: the TCP connect here, the TLS handshake by aiohttp after the hold.
                host, port = args[1], args[2]
                sock = socket.socket(kwargs.get("family") or socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                try:
                    await loop.sock_connect(sock, (host, port))
                except OSError as exc:
                    sock.close()
                    raise client_error(req.connection_key, exc) from exc
                await hold(sock)
                return await super()._wrap_create_connection(
                    args[0], sock=sock, ssl=kwargs["ssl"], server_hostname=kwargs.get("server_hostname"),
                    req=req, timeout=timeout, client_error=client_error)
            transport, proto = await super()._wrap_create_connection(*args, req=req, timeout=timeout, client_error=client_error, **kwargs)
            if not kwargs.get("ssl") and scheme == "http":
                await hold(transport.get_extra_info("socket"))
            return transport, proto

        async def _start_tls_connection(self, underlying_transport, req, timeout, client_error=ClientConnectorError):
            await hold(underlying_transport.get_extra_info("socket"))
            return await super()._start_tls_connection(underlying_transport, req=req, timeout=timeout, client_error=client_error)

    ctx = ssl.create_default_context(cafile=cfg.get("caFile")) if scheme == "https" else None
    connector = HeldConnector(ssl=ctx) if ctx is not None else HeldConnector()
    session = aiohttp.ClientSession(connector=connector, trust_env=False)
    proxy = "http://%s" % authority(cfg["proxy"]) if cfg.get("proxy") else None
    base = "%s://%s" % (scheme, authority(cfg["target"]))

    method, body = second_request(cfg)
    if cfg.get("reuse") is not None:
        try:
            async with session.get(base + "/", proxy=proxy) as first:
                await first.read()
        except BaseException as e:  # noqa: BLE001
            finish(error_outcome(e, lift_code=True, notes=["first-request"]))
        pauser.idle_event()
        if pauser.pause:
            await loop.run_in_executor(None, wait_go)
        else:
            await asyncio.sleep(pauser.idle_seconds())

    status = None
    nbytes = 0
    try:
        async with session.request(method, base + (cfg.get("path") or "/"), data=body, proxy=proxy) as resp:
            status = resp.status
            declared = resp.headers.get("Content-Length")
            emit({"event": "response-started", "status": status})
            async for chunk in resp.content.iter_any():
                nbytes += len(chunk)
        finish_ok(pauser, status, nbytes, declared)
    except BaseException as e:  # noqa: BLE001 — every exception is data here
        finish_error(pauser, e, status, nbytes)


if __name__ == "__main__":
    asyncio.run(main())
