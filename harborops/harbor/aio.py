"""The async client's send path straight through aiohttp (no httpx client layer on the hot path).

    async with aio.new_session(limit=100) as session:          # one per sweep chunk
        clients = [AsyncHarborClient(url, session=session, ca_pem=pem, ...) for ...]

One :class:`aiohttp.ClientSession` is shared by every client of a sweep chunk. TLS stays per
instance: each request carries its instance's ``ssl=`` context (one cached context per CA bundle,
:func:`harborops.harbor.http.ssl_context`), and aiohttp keys its connection pool by
``(host, port, is_ssl, ssl context, ...)`` (``ClientRequest.connection_key``), so instances with
different CA bundles never share a connection (tests/harbor/test_aiohttp_transport.py proves it).

The transport-wrapper hook still sees every exchange: when a wrapper is installed (the test
suite's contract gate, :func:`harborops.harbor.http.install_transport_wrapper`), a client sends
through :class:`SessionTransport` -- an httpx transport over the same session -- wrapped by them;
with no wrapper installed the request goes to aiohttp directly. Errors are classified by
:func:`map_aiohttp_error` into the same classes as the httpx path's
(:func:`harborops.harbor.http.map_transport_error`).
"""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp
import httpx
from yarl import URL

from harborops.harbor.errors import HarborError, TLSError, Unreachable
from harborops.harbor.errors import Timeout as HarborTimeout

__all__ = ("AIOHTTP_ERRORS", "SessionTransport", "client_timeout", "map_aiohttp_error", "new_session")

# What a send through aiohttp may raise besides HarborError (TimeoutError covers aiohttp's
# ServerTimeoutError, ConnectionTimeoutError and SocketTimeoutError).
AIOHTTP_ERRORS = (aiohttp.ClientError, TimeoutError, ssl.SSLError, OSError)


def new_session(*, limit: int = 100) -> aiohttp.ClientSession:
    """A session for many instances: no cookie jar (a stored Harbor ``sid`` turns every write into
    a CSRF 403), no proxy from the environment, at most ``limit`` connections in all. Make it
    inside the running event loop."""
    connector = aiohttp.TCPConnector(limit=max(0, limit), limit_per_host=0, ssl=True)
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False,
                                 auto_decompress=True)


def client_timeout(timeout: float, connect_timeout: float) -> aiohttp.ClientTimeout:
    """httpx's ``Timeout(timeout, connect=connect_timeout)`` in aiohttp's terms: connecting (TCP and
    the TLS handshake) within ``connect_timeout``, each read within ``timeout``; no total (the
    caller bounds the whole probe), no wait for a pool slot (the sweep's semaphore bounds that)."""
    return aiohttp.ClientTimeout(total=None, connect=None, sock_connect=connect_timeout, sock_read=timeout)


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in out:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:300] if str(exc) else ""
    return text or type(exc).__name__


def map_aiohttp_error(exc: BaseException, *, method: str, path: str) -> HarborError:
    """Classify what aiohttp raised, like :func:`harborops.harbor.http.map_transport_error` does
    for httpx: TLS failures -> TLSError, connect/read timeouts -> Timeout, refused / reset /
    DNS / a broken HTTP answer -> Unreachable."""
    kw: dict[str, Any] = {"method": method, "path": path}
    chain = _chain(exc)
    if any(isinstance(x, aiohttp.ClientSSLError | ssl.SSLError | ssl.CertificateError) for x in chain):
        return TLSError(f"TLS handshake failed: {_reason(exc)}", **kw)
    if any(isinstance(x, ConnectionRefusedError | ConnectionResetError) for x in chain):
        return Unreachable(f"cannot reach Harbor: {_reason(exc)}", **kw)
    if isinstance(exc, TimeoutError):
        return HarborTimeout(f"{type(exc).__name__}: no answer in time", **kw)
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError
                  | aiohttp.ClientResponseError | aiohttp.ClientOSError | aiohttp.InvalidURL | OSError):
        return Unreachable(f"cannot reach Harbor: {_reason(exc)}", **kw)
    return Unreachable(f"HTTP error: {type(exc).__name__}", **kw)


class SessionTransport(httpx.AsyncBaseTransport):
    """An httpx transport over a shared aiohttp session, used only when transport wrappers are
    installed (so they see httpx requests and responses). aiohttp's errors pass through unchanged
    and are classified by the client, exactly as on the direct path. ``aclose`` leaves the shared
    session open: its owner closes it."""

    def __init__(self, session: aiohttp.ClientSession, *, ssl_context: ssl.SSLContext,
                 timeout: aiohttp.ClientTimeout) -> None:
        self.session = session
        self.ssl_context = ssl_context
        self.timeout = timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        async with self.session.request(
            request.method, URL(str(request.url), encoded=True), headers=request.headers.multi_items(),
            data=body or None, ssl=self.ssl_context, timeout=self.timeout, allow_redirects=False,
        ) as resp:
            content = await resp.read()
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in resp.raw_headers]
        # The body is already decoded (gzip): drop the header that would make httpx decode it again.
        headers = [(k, v) for k, v in headers if k.lower() not in ("content-encoding", "transfer-encoding")]
        return httpx.Response(resp.status, headers=headers, content=content, request=request)

    async def aclose(self) -> None:
        return None

