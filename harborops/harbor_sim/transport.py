"""In-process httpx transports: `httpx.Client(transport=SimTransport(fleet), base_url="http://sim/h/1")`.

No socket, no timeouts: an injected hang raises `httpx.ReadTimeout` at once and a reset raises
`httpx.ReadError`; latency is slept only by the async transport (if `latency=True`); trickled
bodies arrive whole. Use the socket server for real timing behaviour.
"""

from __future__ import annotations

import asyncio

import httpx

from harborops.harbor_sim.fleet import Fleet
from harborops.harbor_sim.http import SimRequest, SimResponse
from harborops.harbor_sim.instance import HarborInstance

Target = Fleet | HarborInstance


def to_sim(request: httpx.Request, body: bytes) -> SimRequest:
    raw = request.url.raw_path.decode("ascii")
    path, _, query = raw.partition("?")
    headers: dict[str, str] = {}
    for k, v in request.headers.multi_items():
        key = k.lower()
        headers[key] = f"{headers[key]}; {v}" if key == "cookie" and key in headers else v
    return SimRequest(request.method.upper(), path, query, headers, body)


def _answer(target: Target, sreq: SimRequest) -> SimResponse:
    return target.handle(sreq)


def to_httpx(request: httpx.Request, resp: SimResponse) -> httpx.Response:
    d = resp.directive
    if d is not None and d.hang:
        raise httpx.ReadTimeout("simulated hang: the server never answered", request=request)
    if d is not None and d.reset:
        raise httpx.ReadError("[Errno 104] Connection reset by peer (simulated)", request=request)
    return httpx.Response(resp.status, headers=resp.headers, content=resp.body, request=request)


class SimTransport(httpx.BaseTransport):
    def __init__(self, target: Target) -> None:
        self.target = target

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        return to_httpx(request, _answer(self.target, to_sim(request, body)))


class AsyncSimTransport(httpx.AsyncBaseTransport):
    def __init__(self, target: Target, *, latency: bool = True) -> None:
        self.target = target
        self.latency = latency

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        resp = _answer(self.target, to_sim(request, body))
        if self.latency and resp.directive is not None and resp.directive.delay:
            await asyncio.sleep(resp.directive.delay)
        return to_httpx(request, resp)
