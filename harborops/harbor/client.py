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
import base64
import copy
import dataclasses
import json
import time
import uuid
from types import TracebackType
from typing import Any, Self, TypeVar, cast

import aiohttp
import httpx
from yarl import URL

from harborops.harbor import aio
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
    wrappers_installed,
)
from harborops.harbor.ops import NO_BODY, Op, Req, Resp, check

__all__ = ("AsyncHarborClient", "HarborClient")

T = TypeVar("T")
API_PREFIX = "/api/v2.0"
USER_AGENT = "harborops-harbor-client/1"


def _basic_header(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


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
        self._basic = _basic_header(username, password or "") if username else ""
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
    """Async client. By default it sends through aiohttp directly (:mod:`harborops.harbor.aio`):
    ``session=`` shares one aiohttp session among many clients (the sweep: one per chunk; the
    caller closes it), without it the client opens its own on first use. ``transport=`` (any httpx
    async transport, e.g. the simulator's) or ``transport_kind="httpx"`` use the httpx path."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        transport_kind: str = "aiohttp",
        session: aiohttp.ClientSession | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(base_url, **kw)
        self._http: httpx.AsyncClient | None = None
        self._session = session
        self._own_session = False
        self._hooked: httpx.AsyncBaseTransport | None = None
        if transport is not None or transport_kind != "aiohttp":
            base = transport if transport is not None else async_transport(self._ssl, kind=transport_kind)
            self._http = httpx.AsyncClient(transport=wrap_transport(base, asynchronous=True), **self._client_kwargs())
            return
        self._aio_timeout = aio.client_timeout(self._timeout.read or 15.0, self._timeout.connect or 5.0)
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self._basic:
            self._headers["Authorization"] = self._basic
        if wrappers_installed():
            # Let the installed wrappers (the contract gate) see every exchange: send through an
            # httpx transport over the same session, built on first use (the session may be ours).
            self._hooked = wrap_transport(_LazySessionTransport(self), asynchronous=True)

    def _aio_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aio.new_session(limit=10)
            self._own_session = True
        return self._session

    async def _exchange(self, req: Req) -> Resp:
        if self._http is not None:
            return self._resp(await self._http.request(**self._request_kwargs(req)), req)
        if self._hooked is not None:
            spec = self._request_kwargs(req)
            headers = {**self._headers, **spec.pop("headers")}
            request = httpx.Request(spec.pop("method"), spec.pop("url"), headers=headers, **spec)
            return self._resp(await self._hooked.handle_async_request(request), req)
        headers = {**self._headers, **req.headers}
        headers.setdefault("X-Request-Id", self.request_id or uuid.uuid4().hex)
        kwargs: dict[str, Any] = {}
        if req.json is not NO_BODY:
            # Encoded as httpx does (compact, UTF-8), so both paths send the same bytes.
            kwargs["data"] = json.dumps(req.json, ensure_ascii=False, separators=(",", ":"),
                                        allow_nan=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        async with self._aio_session().request(
            req.method, URL(self.api_url + req.path, encoded=True), params=req.params or None, headers=headers,
            ssl=self._ssl, timeout=self._aio_timeout, allow_redirects=False, **kwargs,
        ) as answer:
            body = await answer.read()
            return Resp(answer.status, cast(httpx.Headers, answer.headers), body, req.method, req.path)

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
        cause: BaseException | None
        while True:
            try:
                return check(await self._exchange(req), req)
            except e.HarborError as exc:
                err, cause = exc, None
            except (httpx.HTTPError, *aio.AIOHTTP_ERRORS) as exc:
                err = (map_transport_error(exc, method=req.method, path=req.path) if isinstance(exc, httpx.HTTPError)
                       else aio.map_aiohttp_error(exc, method=req.method, path=req.path))
                if isinstance(err, e.TLSError) and self.peek_tls:
                    self._fill_tls(err, await asyncio.to_thread(peek_certificate, *self._host_port()))
                cause = exc
            if not self._may_retry(req, err, attempt):
                raise err from cause
            await asyncio.sleep(self._delay(attempt))
            attempt += 1

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, t: type[BaseException] | None, v: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()


class _LazySessionTransport(httpx.AsyncBaseTransport):
    """:class:`aio.SessionTransport` over the client's session, resolved at the first request (a
    client that owns its session opens it inside the running loop)."""

    def __init__(self, client: AsyncHarborClient) -> None:
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        c = self.client
        inner = aio.SessionTransport(c._aio_session(), ssl_context=c._ssl, timeout=c._aio_timeout)
        return await inner.handle_async_request(request)
