"""Sync and async Harbor clients over httpx, sharing every endpoint (see ops.py).

    with HarborClient("https://harbor.example.com", username="admin", password=pw, ca_pem=pem) as h:
        caps = h.detect_version()          # from authenticated /systeminfo; cached
        for p in h.list_projects(): ...

    async with AsyncHarborClient(url, username=u, password=pw) as h:   # aiohttp transport
        health = await h.health()

Rules kept here, once: Basic auth on every call; no cookie jar (a stored ``sid`` makes writes a
CSRF 403); explicit timeouts; ``X-Request-Id`` on every request when given; one cached
SSLContext per CA bundle; errors classified (errors.py); retries only when the caller asked
(``retries=`` or :meth:`with_retries`) and only for GETs — the sweep never retries.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import time
import uuid
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from harborops.harbor import errors as e
from harborops.harbor.capabilities import Capabilities
from harborops.harbor.endpoints import (
    AccessEndpoints,
    ArtifactEndpoints,
    AuditEndpoints,
    MaintenanceEndpoints,
    ProjectEndpoints,
    ReplicationEndpoints,
    SystemEndpoints,
)
from harborops.harbor.http import (
    NoCookieJar,
    async_transport,
    map_transport_error,
    peek_certificate,
    ssl_context,
    sync_transport,
    wrap_transport,
)
from harborops.harbor.ops import NO_BODY, Op, Req, Resp, check

__all__ = ("AsyncHarborClient", "HarborClient")

T = TypeVar("T")
API_PREFIX = "/api/v2.0"
USER_AGENT = "harborops-harbor-client/1"


class _ClientBase(
    SystemEndpoints,
    ProjectEndpoints,
    AccessEndpoints,
    ReplicationEndpoints,
    AuditEndpoints,
    MaintenanceEndpoints,
    ArtifactEndpoints,
):
    """Configuration and request/response translation shared by both clients."""

    def __init__(
        self,
        base_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        ca_pem: str | None = None,
        timeout: float = 15.0,
        connect_timeout: float = 5.0,
        version: str | None = None,
        retries: int = 0,
        backoff: float = 0.5,
        request_id: str | None = None,
        peek_tls: bool = True,
        trust_env: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_url = self.base_url + API_PREFIX
        self.capabilities: Capabilities | None = Capabilities.for_version(version) if version else None
        self.retries = retries
        self.backoff = backoff
        self.request_id = request_id
        self.peek_tls = peek_tls
        self._ssl = ssl_context(ca_pem)
        self._auth = httpx.BasicAuth(username, password or "") if username else None
        self._secrets: tuple[str, ...] = (password,) if password else ()
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._trust_env = trust_env

    def __repr__(self) -> str:  # never shows credentials
        return f"{type(self).__name__}({self.base_url!r})"

    def _client_kwargs(self) -> dict[str, Any]:
        return {
            "base_url": self.api_url,
            "auth": self._auth,
            "timeout": self._timeout,
            "cookies": NoCookieJar(),  # a jar, not httpx.Cookies (which would copy it into a real jar)
            "follow_redirects": False,
            "trust_env": self._trust_env,
            "headers": {"User-Agent": USER_AGENT, "Accept": "application/json"},
        }

    def _request_kwargs(self, req: Req) -> dict[str, Any]:
        headers = dict(req.headers)
        rid = self.request_id or uuid.uuid4().hex
        headers.setdefault("X-Request-Id", rid)
        kwargs: dict[str, Any] = {"method": req.method, "url": self.api_url + req.path, "headers": headers}
        if req.params:
            kwargs["params"] = req.params
        if req.json is not NO_BODY:
            kwargs["json"] = req.json
        return kwargs

    def _resp(self, r: httpx.Response, req: Req) -> Resp:
        return Resp(r.status_code, r.headers, r.content, req.method, req.path)

    def _scrubbed(self, req: Req) -> Req:
        if not self._secrets:
            return req
        return dataclasses.replace(req, secrets=req.secrets + self._secrets)

    def _may_retry(self, req: Req, err: e.HarborError, attempt: int) -> bool:
        # Only idempotent GETs, only when asked, only when a retry can help.
        return req.method == "GET" and err.transient and attempt < self.retries

    def _delay(self, attempt: int) -> float:
        return float(min(self.backoff * (2**attempt), 30.0))

    def _host_port(self) -> tuple[str, int]:
        url = httpx.URL(self.base_url)
        return url.host, url.port or (443 if url.scheme == "https" else 80)

    @staticmethod
    def _fill_tls(err: e.TLSError, cert: tuple[str | None, str | None, Any]) -> None:
        err.subject, err.issuer, err.not_after = cert

    def with_retries(self, retries: int = 2, backoff: float | None = None) -> Self:
        """A view of this client (same connection pool) that retries transient GET failures."""
        clone = copy.copy(self)
        clone.retries = retries
        if backoff is not None:
            clone.backoff = backoff
        return clone


class HarborClient(_ClientBase):
    """Blocking client. ``transport``: any httpx sync transport (e.g. the simulator's)."""

    def __init__(self, base_url: str, *, transport: httpx.BaseTransport | None = None, **kw: Any) -> None:
        super().__init__(base_url, **kw)
        base = transport if transport is not None else sync_transport(self._ssl)
        self._http = httpx.Client(transport=wrap_transport(base, asynchronous=False), **self._client_kwargs())

    def _run(self, op: Op[T]) -> T:
        try:
            req = next(op)
            while True:
                req = op.send(self._send(req))
        except StopIteration as stop:
            result: T = stop.value
            return result

    def _send(self, req: Req) -> Resp:
        req = self._scrubbed(req)
        attempt = 0
        while True:
            try:
                r = self._http.request(**self._request_kwargs(req))
                return check(self._resp(r, req), req)
            except httpx.HTTPError as exc:
                err = map_transport_error(exc, method=req.method, path=req.path)
                if isinstance(err, e.TLSError) and self.peek_tls:
                    self._fill_tls(err, peek_certificate(*self._host_port()))
                cause: BaseException | None = exc
            except e.HarborError as exc:
                err, cause = exc, None
            if not self._may_retry(req, err, attempt):
                raise err from cause
            time.sleep(self._delay(attempt))
            attempt += 1

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, t: type[BaseException] | None, v: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class AsyncHarborClient(_ClientBase):
    """Async client. ``transport``: any httpx async transport; default is httpx-aiohttp's
    (``transport_kind="httpx"`` for httpx's own pool)."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        transport_kind: str = "aiohttp",
        **kw: Any,
    ) -> None:
        super().__init__(base_url, **kw)
        base = transport if transport is not None else async_transport(self._ssl, kind=transport_kind)
        self._http = httpx.AsyncClient(transport=wrap_transport(base, asynchronous=True), **self._client_kwargs())

    async def _run(self, op: Op[T]) -> T:
        try:
            req = next(op)
            while True:
                req = op.send(await self._send(req))
        except StopIteration as stop:
            result: T = stop.value
            return result

    async def _send(self, req: Req) -> Resp:
        req = self._scrubbed(req)
        attempt = 0
        while True:
            try:
                r = await self._http.request(**self._request_kwargs(req))
                return check(self._resp(r, req), req)
            except httpx.HTTPError as exc:
                err = map_transport_error(exc, method=req.method, path=req.path)
                if isinstance(err, e.TLSError) and self.peek_tls:
                    self._fill_tls(err, await asyncio.to_thread(peek_certificate, *self._host_port()))
                cause: BaseException | None = exc
            except e.HarborError as exc:
                err, cause = exc, None
            if not self._may_retry(req, err, attempt):
                raise err from cause
            await asyncio.sleep(self._delay(attempt))
            attempt += 1

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, t: type[BaseException] | None, v: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()
