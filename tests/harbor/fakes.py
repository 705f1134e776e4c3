"""A tiny fake Harbor for httpx.MockTransport (behaviour tests that need no simulator)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from harborops.harbor import contract

Handler = Callable[[httpx.Request], httpx.Response]


class FakeHarbor:
    """Routes (METHOD, path below /api/v2.0) to handlers; records every request."""

    def __init__(self, version: str = "v2.13.0-abcdef12") -> None:
        self.version = version
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], Handler] = {}
        self.on("GET", "/systeminfo", lambda r: json_response({"harbor_version": self.version}))

    def on(self, method: str, path: str, handler: Handler) -> None:
        self.routes[(method, path)] = handler

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.raw_path.decode().split("?", 1)[0].removeprefix("/api/v2.0")
        handler = self.routes.get((request.method, path))
        if handler is None:
            response = json_response({"errors": [{"code": "NOT_FOUND", "message": f"no route {path}"}]}, 404)
        else:
            response = handler(request)
        response.headers[contract.VERSION_HEADER] = self.version.lstrip("v").split("-")[0]
        return response

    def api_requests(self, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.raw_path.decode().split("?")[0].endswith(path)]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(data).encode(), headers={"Content-Type": "application/json", **(headers or {})}
    )
