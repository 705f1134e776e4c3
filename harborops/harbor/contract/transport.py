"""httpx transports that check every exchange against the spec, and record coverage.

The version in play comes from the ``X-Harborops-Sim-Version`` response header the simulator
sets (real Harbor does not), or from ``version=`` given to the wrapper.

    install_transport_wrapper(contract.wrap)          # every client the app builds is checked
    contract.set_mode("record")                        # or "raise" (default)
    ...
    contract.recorded_violations()                     # the test session fails on these
    print(contract.coverage_report())
"""

from __future__ import annotations

import json
import threading
from typing import Any, Literal

import httpx

from harborops.harbor.contract.check import ABSENT, ContractViolation, check_request, check_response
from harborops.harbor.contract.spec import load_spec

__all__ = (
    "VERSION_HEADER",
    "AsyncContractTransport",
    "ContractTransport",
    "clear_violations",
    "coverage",
    "coverage_report",
    "get_mode",
    "recorded_violations",
    "reset_coverage",
    "set_mode",
    "wrap",
)

VERSION_HEADER = "X-Harborops-Sim-Version"
API_PREFIX = "/api/v2.0"
Mode = Literal["raise", "record"]

_lock = threading.Lock()
_coverage: set[tuple[str, str, str, int]] = set()
_violations: list[ContractViolation] = []
_mode: list[Mode] = ["raise"]


def set_mode(mode: Mode) -> None:
    """``raise``: a violation raises inside the request; ``record``: it is collected."""
    _mode[0] = mode


def get_mode() -> Mode:
    return _mode[0]


def coverage() -> frozenset[tuple[str, str, str, int]]:
    """(version, METHOD, spec path, status) exercised so far in this process."""
    with _lock:
        return frozenset(_coverage)


def reset_coverage() -> None:
    with _lock:
        _coverage.clear()


def recorded_violations() -> list[ContractViolation]:
    with _lock:
        return list(_violations)


def clear_violations() -> None:
    with _lock:
        _violations.clear()


def coverage_report() -> str:
    """Per spec version: operations exercised (with statuses) and operations never exercised."""
    by_spec: dict[str, dict[tuple[str, str], set[int]]] = {}
    for version, method, template, status in coverage():
        name = load_spec(version).name
        by_spec.setdefault(name, {}).setdefault((method, template), set()).add(status)
    lines: list[str] = []
    for name in sorted(by_spec, key=lambda n: tuple(int(x) for x in n[1:].split("."))):
        ops = load_spec(name).operations()
        hit = by_spec[name]
        lines.append(f"{name}: {len(hit)}/{len(ops)} operations exercised")
        for method, template in ops:
            statuses = hit.get((method, template))
            mark = ",".join(map(str, sorted(statuses))) if statuses else "-"
            lines.append(f"  {mark:>12}  {method:6} {template}")
    return "\n".join(lines)


def _api_path(url: httpx.URL) -> str | None:
    raw = url.raw_path.decode("ascii").split("?", 1)[0]
    idx = raw.find(API_PREFIX)
    if idx < 0:
        return None
    return raw[idx + len(API_PREFIX) :] or "/"


def _parse(content: bytes, ctype: str) -> Any:
    if not content:
        return ABSENT
    if "json" in ctype:
        try:
            return json.loads(content)
        except ValueError:
            return content.decode("utf-8", errors="replace")
    if ctype.startswith("text/"):
        return content.decode("utf-8", errors="replace")
    return content


class _Checker:
    """The checking shared by the sync and async transports."""

    def __init__(self, version: str | None, mode: Mode | None) -> None:
        self.version = version
        self.mode = mode

    def check(self, request: httpx.Request, response: httpx.Response) -> None:
        path = _api_path(request.url)
        if path is None:
            return  # not a Harbor API call (e.g. /c/login, registry /v2/)
        version = response.headers.get(VERSION_HEADER) or self.version
        try:
            if not version:
                raise ContractViolation(
                    f"no {VERSION_HEADER} header and no version given", method=request.method, path=path
                )
            req_body = _parse(request.content, request.headers.get("content-type", ""))
            if isinstance(req_body, str | bytes):
                raise ContractViolation("request body is not JSON", version=version, method=request.method, path=path)
            template = check_request(version, request.method, path, request.url.params, request.headers, req_body)
            resp_body = _parse(response.content, response.headers.get("content-type", ""))
            check_response(version, request.method, path, response.status_code, response.headers, resp_body)
            with _lock:
                _coverage.add((version, request.method, template, response.status_code))
        except ContractViolation as violation:
            if (self.mode or get_mode()) == "raise":
                raise
            with _lock:
                _violations.append(violation)


class ContractTransport(httpx.BaseTransport):
    """Wrap a sync transport; check each request and its response."""

    def __init__(self, inner: httpx.BaseTransport, *, version: str | None = None, mode: Mode | None = None) -> None:
        self.inner = inner
        self._checker = _Checker(version, mode)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        response = self.inner.handle_request(request)
        response.read()
        self._checker.check(request, response)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncContractTransport(httpx.AsyncBaseTransport):
    """Wrap an async transport; check each request and its response."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, *, version: str | None = None, mode: Mode | None = None
    ) -> None:
        self.inner = inner
        self._checker = _Checker(version, mode)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self._checker.check(request, response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def wrap(
    transport: Any, *, asynchronous: bool | None = None, version: str | None = None, mode: Mode | None = None
) -> Any:
    """Wrap a sync or async httpx transport; usable with ``http.install_transport_wrapper``
    (which passes ``asynchronous``: httpx.MockTransport is both kinds at once)."""
    if isinstance(transport, ContractTransport | AsyncContractTransport):
        return transport
    is_async = isinstance(transport, httpx.AsyncBaseTransport)
    is_sync = isinstance(transport, httpx.BaseTransport)
    if asynchronous is None:
        if is_async == is_sync:
            raise TypeError(f"cannot tell whether {type(transport).__name__} is sync or async; pass asynchronous=")
        asynchronous = is_async
    if asynchronous:
        return AsyncContractTransport(transport, version=version, mode=mode)
    return ContractTransport(transport, version=version, mode=mode)
