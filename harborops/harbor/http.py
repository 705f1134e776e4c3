"""HTTP plumbing shared by both clients: TLS contexts, transports, the transport-wrapper hook,
and the mapping of transport exceptions to :mod:`harborops.harbor.errors`.

Transport-wrapper hook (for tests)::

    from harborops.harbor import contract, http
    http.install_transport_wrapper(contract.wrap)   # every client built from now on is checked
    ...
    http.clear_transport_wrappers()

A wrapper is ``fn(transport, *, asynchronous: bool) -> transport``; it receives sync
(:class:`httpx.BaseTransport`) and async (:class:`httpx.AsyncBaseTransport`) transports alike
(``asynchronous`` says which: ``httpx.MockTransport`` is both) and is applied whenever a client
builds its transport, including a transport passed in explicitly.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Callable
from functools import lru_cache
from http.cookiejar import Cookie, CookieJar
from typing import Any, TypeVar
from urllib.request import Request as UrllibRequest

import httpx

from harborops.harbor.errors import HarborError, TLSError, Unreachable
from harborops.harbor.errors import Timeout as HarborTimeout

__all__ = (
    "NoCookieJar",
    "TransportWrapper",
    "async_transport",
    "clear_transport_wrappers",
    "install_transport_wrapper",
    "map_transport_error",
    "peek_certificate",
    "presented_certificate",
    "remove_transport_wrapper",
    "ssl_context",
    "sync_transport",
    "unverified_context",
    "wrap_transport",
    "wrappers_installed",
)

TransportWrapper = Callable[..., Any]  # fn(transport, *, asynchronous: bool) -> transport
T = TypeVar("T")
_wrappers: list[TransportWrapper] = []
_wrappers_lock = threading.Lock()


def install_transport_wrapper(fn: TransportWrapper) -> None:
    """Wrap every transport a Harbor client builds from now on (sync and async)."""
    with _wrappers_lock:
        _wrappers.append(fn)


def remove_transport_wrapper(fn: TransportWrapper) -> None:
    with _wrappers_lock:
        if fn in _wrappers:
            _wrappers.remove(fn)


def clear_transport_wrappers() -> None:
    with _wrappers_lock:
        _wrappers.clear()


def wrappers_installed() -> bool:
    """Whether any transport wrapper is installed (the aiohttp path then sends through them)."""
    return bool(_wrappers)


def wrap_transport(transport: T, *, asynchronous: bool) -> T:
    """Apply the installed wrappers, first installed = innermost."""
    with _wrappers_lock:
        wrappers = list(_wrappers)
    for fn in wrappers:
        transport = fn(transport, asynchronous=asynchronous)
    return transport


@lru_cache(maxsize=128)
def ssl_context(ca_pem: str | None = None) -> ssl.SSLContext:
    """One verifying SSLContext per CA bundle (PEM text) or the system CAs (None); cached, building
    one is slow. There is deliberately no way to turn verification off: an instance with a private
    CA gets that CA as its bundle ("trust this CA" stores the presented one)."""
    if ca_pem:
        return ssl.create_default_context(cadata=ca_pem)
    return ssl.create_default_context()


class NoCookieJar(CookieJar):
    """A cookie jar that never stores anything.

    Harbor skips CSRF checks for Basic-auth API calls unless the request carries its ``sid``
    session cookie; a client that kept the cookie would get a CSRF 403 on every write.
    """

    def extract_cookies(self, response: Any, request: UrllibRequest) -> None:
        return None

    def set_cookie(self, cookie: Cookie) -> None:
        return None


def sync_transport(verify: ssl.SSLContext, *, limits: httpx.Limits | None = None) -> httpx.HTTPTransport:
    return httpx.HTTPTransport(verify=verify, limits=limits or httpx.Limits(), retries=0)


def async_transport(
    verify: ssl.SSLContext, *, limits: httpx.Limits | None = None, kind: str = "aiohttp"
) -> httpx.AsyncBaseTransport:
    """The sweep's fast transport: httpx API over aiohttp (see DESIGN.md), or plain httpx."""
    if kind == "httpx":
        return httpx.AsyncHTTPTransport(verify=verify, limits=limits or httpx.Limits(), retries=0)
    import aiohttp
    from httpx_aiohttp import AiohttpTransport

    max_conn = (limits.max_connections if limits else None) or 10

    def session() -> aiohttp.ClientSession:
        # Built lazily inside the running loop. DummyCookieJar: same CSRF reason as NoCookieJar.
        connector = aiohttp.TCPConnector(ssl=verify, limit=max_conn)
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    return AiohttpTransport(verify=verify, client=session)


def _is_tls_failure(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLError | ssl.CertificateError):
            return True
        text = str(cur)
        if "CERTIFICATE_VERIFY_FAILED" in text or ("SSL" in text and "certificate" in text.lower()):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in out:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _is_refusal(exc: BaseException) -> bool:
    # httpx-aiohttp 0.2.0 maps aiohttp's ClientConnectorError (refused, DNS) to httpx.ConnectTimeout;
    # the OS error underneath tells the truth.
    return any(isinstance(x, ConnectionRefusedError | ConnectionResetError | socket.gaierror) for x in _chain(exc))


def unverified_context() -> ssl.SSLContext:
    """A TLS context that verifies nothing: only for *reading* what a server presents after a
    verified handshake failed (a failed verification would hide the very certificate we report).
    Whatever it reads is shown to an operator or re-checked by a verified handshake, never trusted."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def presented_certificate(host: str, port: int, timeout: float = 5.0) -> bytes | None:
    """The DER certificate a server presents, read without verifying it (None when unreachable).

    Only called after a verified handshake has already failed, to tell the operator what was
    presented; the connection is closed right after the handshake and carries no data."""
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as sock,
            unverified_context().wrap_socket(sock, server_hostname=host) as tls,
        ):
            return tls.getpeercert(binary_form=True) or None
    except OSError:
        return None


def peek_certificate(host: str, port: int, timeout: float = 5.0) -> tuple[str | None, str | None, dt.datetime | None]:
    """(subject, issuer, not_after) of the certificate a server presents, unverified."""
    der = presented_certificate(host, port, timeout)
    if not der:
        return (None, None, None)
    try:
        from cryptography import x509

        cert = x509.load_der_x509_certificate(der)
        return (cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(), cert.not_valid_after_utc)
    except Exception:  # a certificate cryptography cannot parse: report what we have
        return (None, None, None)


def map_transport_error(exc: httpx.HTTPError, *, method: str, path: str) -> HarborError:
    """Classify an httpx exception. Never includes credentials (httpx messages carry none, and
    HarborError scrubs anyway)."""
    kw: dict[str, Any] = {"method": method, "path": path}
    if isinstance(exc, httpx.TimeoutException) and not _is_tls_failure(exc) and not _is_refusal(exc):
        kind = type(exc).__name__
        return HarborTimeout(f"{kind}: no answer in time", **kw)
    if _is_tls_failure(exc):
        reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        return TLSError(f"TLS handshake failed: {reason}", **kw)
    if isinstance(
        exc,
        httpx.ConnectError
        | httpx.NetworkError
        | httpx.RemoteProtocolError
        | httpx.ProxyError
        | httpx.UnsupportedProtocol,
    ):
        reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        return Unreachable(f"cannot reach Harbor: {reason}", **kw)
    return Unreachable(f"HTTP error: {type(exc).__name__}", **kw)
