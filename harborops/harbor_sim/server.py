"""The simulator on real sockets (aiohttp.web): latency, hangs, trickled bodies and resets for real.

    server = SimServer(fleet, port=0).start()      # background thread, returns when bound
    server.instance_url(1)                           # "http://127.0.0.1:PORT/h/1"
    server.stop()

`per_instance_ports=True` binds one port per instance instead (no `/h/<n>` prefix). Inside a running
event loop use `await server.start_async()` / `await server.stop_async()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import threading
from types import TracebackType
from typing import Any

from aiohttp import web
from multidict import CIMultiDict

from harborops.harbor_sim.faults import HANG_SECONDS
from harborops.harbor_sim.fleet import Fleet
from harborops.harbor_sim.http import SimRequest
from harborops.harbor_sim.instance import HarborInstance

TARGET_KEY: web.AppKey[Fleet | HarborInstance] = web.AppKey("target", object)  # type: ignore[arg-type]


async def _handle(request: web.Request) -> web.StreamResponse:
    target = request.app[TARGET_KEY]
    body = await request.read()
    url = request.rel_url
    headers = {k.lower(): v for k, v in request.headers.items()}
    sreq = SimRequest(request.method.upper(), url.raw_path, url.raw_query_string, headers, body)
    resp = target.handle(sreq)
    d = resp.directive
    if d is not None:
        if d.delay:
            await asyncio.sleep(d.delay)
        if d.hang:
            await asyncio.sleep(HANG_SECONDS)
        if d.reset:
            _reset(request)
            raise asyncio.CancelledError  # nothing more to write on an aborted connection
    hdrs: CIMultiDict[str] = CIMultiDict(resp.headers)
    if d is not None and d.trickle_chunk:
        hdrs["Content-Length"] = str(len(resp.body))
        stream = web.StreamResponse(status=resp.status, headers=hdrs)
        await stream.prepare(request)
        for i in range(0, len(resp.body), d.trickle_chunk):
            await stream.write(resp.body[i : i + d.trickle_chunk])
            await asyncio.sleep(d.trickle_interval)
        await stream.write_eof()
        return stream
    return web.Response(status=resp.status, headers=hdrs, body=resp.body)


def _reset(request: web.Request) -> None:
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def make_app(target: Fleet | HarborInstance) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[TARGET_KEY] = target
    app.router.add_route("*", "/{tail:.*}", _handle)
    return app


def ssl_context(cert_file: str, key_file: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert_file, key_file)
    return ctx


class SimServer:
    def __init__(
        self,
        fleet: Fleet,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl: ssl.SSLContext | None = None,
        per_instance_ports: bool = False,
    ) -> None:
        self.fleet = fleet
        self.host = host
        self.port = port
        self.ssl = ssl
        self.per_instance_ports = per_instance_ports
        self.ports: list[int] = []  # bound ports: one, or one per instance
        self._runners: list[web.AppRunner] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # --- URLs ---------------------------------------------------------------------------------------
    @property
    def scheme(self) -> str:
        return "https" if self.ssl else "http"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.ports[0]}"

    def instance_url(self, n: int) -> str:
        """Base URL of instance n (append /api/v2.0/...)."""
        if self.per_instance_ports:
            return f"{self.scheme}://{self.host}:{self.ports[n - 1]}"
        return f"{self.base_url}/h/{n}"

    def urls(self) -> list[str]:
        return [self.instance_url(i + 1) for i in range(len(self.fleet))]

    # --- lifecycle inside a loop ---------------------------------------------------------------------
    async def start_async(self) -> SimServer:
        targets: list[tuple[Fleet | HarborInstance, int]]
        if self.per_instance_ports:
            targets = [(inst, self.port + i if self.port else 0) for i, inst in enumerate(self.fleet)]
        else:
            targets = [(self.fleet, self.port)]
        for target, port in targets:
            runner = web.AppRunner(make_app(target), access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
            await runner.setup()
            site = web.TCPSite(runner, self.host, port, ssl_context=self.ssl, reuse_address=True, backlog=1024)
            await site.start()
            self._runners.append(runner)
            server: Any = site._server
            self.ports.append(server.sockets[0].getsockname()[1])
        for n, inst in enumerate(self.fleet, start=1):  # registry endpoints at these URLs are the instances
            self.fleet.bind_url(self.instance_url(n), inst)
        return self

    async def stop_async(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    # --- lifecycle from plain code (a background thread with its own loop) ------------------------------
    def start(self) -> SimServer:
        loop = asyncio.new_event_loop()
        self._loop = loop
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(loop, ready), name="harbor-sim", daemon=True)
        self._thread.start()
        ready.wait()
        asyncio.run_coroutine_threadsafe(self.start_async(), loop).result(timeout=30)
        return self

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()
        loop.close()

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop_async(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        self._loop = self._thread = None

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve(
    fleet: Fleet,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    ssl: ssl.SSLContext | None = None,
    per_instance_ports: bool = False,
) -> SimServer:
    """Start serving `fleet` in a background thread; call `.stop()` on the result."""
    return SimServer(fleet, host, port, ssl=ssl, per_instance_ports=per_instance_ports).start()
