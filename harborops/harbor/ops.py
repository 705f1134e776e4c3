"""The I/O-free core shared by the sync and async clients.

Every endpoint is written once, as a generator that yields :class:`Req` objects and receives
:class:`Resp` objects (``Op[T] = Generator[Req, Resp, T]``). The sync client drives it with
blocking httpx calls, the async client with awaits; neither knows any endpoint. The
:func:`endpoint` descriptor turns such a generator method into ``client.method(...) -> T`` on
:class:`~harborops.harbor.client.HarborClient` and ``-> Awaitable[T]`` on
:class:`~harborops.harbor.client.AsyncHarborClient`, with full type information.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from harborops.harbor import errors as e
from harborops.harbor.capabilities import Capabilities, parse_version

if TYPE_CHECKING:
    from harborops.harbor.client import AsyncHarborClient, HarborClient

__all__ = (
    "NO_BODY",
    "PAGE_SIZE",
    "EndpointBase",
    "Op",
    "Req",
    "Resp",
    "endpoint",
    "location_id",
    "seg",
    "seg2",
)

PAGE_SIZE = 100  # Harbor's maximum; 101 is a 422
NO_BODY: Any = object()
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
P = ParamSpec("P")


@dataclass
class Req:
    """One HTTP request, path relative to /api/v2.0 and already percent-encoded."""

    method: str
    path: str
    params: list[tuple[str, str]] = field(default_factory=list)
    json: Any = NO_BODY
    headers: dict[str, str] = field(default_factory=dict)
    accept: frozenset[int] = frozenset()  # non-2xx statuses handed back instead of raised
    secrets: tuple[str, ...] = ()  # values to mask in any error message


@dataclass
class Resp:
    status: int
    headers: httpx.Headers
    content: bytes
    method: str = ""
    path: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        if not self.content.strip():
            return None
        try:
            return json.loads(self.content)
        except ValueError:
            raise e.BadResponse(
                f"expected JSON, got {self.headers.get('content-type', '?')}: {self.text[:120]!r}",
                status=self.status,
                method=self.method,
                path=self.path,
            ) from None


Op = Generator[Req, Resp, T]


def seg(value: str | int) -> str:
    """Percent-encode one path segment."""
    return quote(str(value), safe="")


def seg2(value: str) -> str:
    """Double-encode a segment that may contain '/' (repository names: a/b → a%252Fb)."""
    return quote(quote(value, safe=""), safe="")


def project_ref(project: str | int) -> tuple[str, dict[str, str]]:
    """``{project_name_or_id}``: an int is an id; a str is always a name (X-Is-Resource-Name)."""
    if isinstance(project, int):
        return str(project), {}
    return seg(project), {"X-Is-Resource-Name": "true"}


def location_id(resp: Resp) -> int:
    """New resource id from the ``Location`` header's last segment."""
    loc = resp.headers.get("location", "")
    tail = loc.rstrip("/").rsplit("/", 1)[-1]
    if not tail.isdigit():
        raise e.BadResponse(
            f"no numeric id in Location {loc!r}", status=resp.status, method=resp.method, path=resp.path
        )
    return int(tail)


def parse_model(model: type[M], data: Any, resp: Resp) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise e.BadResponse(
            f"{model.__name__}: {_short(exc)}", status=resp.status, method=resp.method, path=resp.path
        ) from None


def parse_list(model: type[M], data: Any, resp: Resp) -> list[M]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise e.BadResponse(
            f"expected a JSON array of {model.__name__}",
            status=resp.status,
            method=resp.method,
            path=resp.path,
        )
    return [parse_model(model, item, resp) for item in data]


def _short(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return f"{'.'.join(str(x) for x in first['loc'])}: {first['msg']} ({exc.error_count()} errors)"


def error_for(resp: Resp, req: Req) -> e.HarborError:
    """Map a non-2xx answer to the error hierarchy; message from Harbor's ``Errors`` body."""
    message = _error_message(resp)
    kw: dict[str, Any] = {
        "status": resp.status,
        "method": req.method,
        "path": req.path,
        "request_id": resp.headers.get("x-request-id"),
    }
    message = e.scrub(message, req.secrets)
    status = resp.status
    if status == 401:
        return e.AuthFailed(message or "authentication failed", **kw)
    if status == 403:
        if "csrf" in message.lower():
            message += " (a session cookie was sent; the client must not keep cookies)"
        return e.Forbidden(message or "forbidden", **kw)
    if status == 404:
        return e.NotFound(message or "not found", **kw)
    if status == 409:
        return e.Conflict(message or "conflict", **kw)
    if status in (400, 412, 422):
        return e.ValidationFailed(message or "rejected", **kw)
    if status == 429 or status in (502, 503, 504):
        return e.ServerError(message or "unavailable", transient=True, **kw)
    if status >= 500:
        return e.ServerError(message or "server error", **kw)
    return e.BadResponse(message or f"unexpected HTTP {status}", **kw)


def _error_message(resp: Resp) -> str:
    try:
        data = json.loads(resp.content) if resp.content.strip() else None
    except ValueError:
        return resp.text[:200]
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        parts = [f"{x.get('code', '')}: {x.get('message', '')}" for x in data["errors"] if isinstance(x, dict)]
        return "; ".join(parts)
    return json.dumps(data)[:200] if data is not None else ""


def check(resp: Resp, req: Req) -> Resp:
    if resp.ok or resp.status in req.accept:
        return resp
    raise error_for(resp, req)


def paged(req: Req, *, limit: int | None = None) -> Op[list[Any]]:
    """GET every page (page_size=100) following X-Total-Count; raw JSON items."""
    items: list[Any] = []
    page = 1
    while True:
        params = [(k, v) for k, v in req.params if k not in ("page", "page_size")]
        params += [("page", str(page)), ("page_size", str(PAGE_SIZE))]
        resp = yield Req(req.method, req.path, params, req.json, req.headers, req.accept, req.secrets)
        batch = resp.json()
        if batch is None:
            batch = []
        if not isinstance(batch, list):
            raise e.BadResponse("expected a JSON array", status=resp.status, method=req.method, path=req.path)
        items.extend(batch)
        if limit is not None and len(items) >= limit:
            return items[:limit]
        total_raw = resp.headers.get("x-total-count")
        total = int(total_raw) if total_raw and total_raw.isdigit() else None
        pages = math.ceil(total / PAGE_SIZE) if total is not None else None
        if len(batch) < PAGE_SIZE or (pages is not None and page >= pages):
            return items
        page += 1


def paged_models(model: type[M], req: Req, *, limit: int | None = None) -> Op[list[M]]:
    raw = yield from paged(req, limit=limit)
    fake = Resp(200, httpx.Headers(), b"", req.method, req.path)
    return [parse_model(model, item, fake) for item in raw]


class EndpointBase:
    """What endpoint code may use of a client: its (lazily detected) capabilities."""

    capabilities: Capabilities | None = None


def caps_op(client: EndpointBase) -> Op[Capabilities]:
    """The instance's capabilities; detected once from authenticated /systeminfo."""
    if client.capabilities is not None:
        return client.capabilities
    resp = yield Req("GET", "/systeminfo")
    data = resp.json() or {}
    raw = data.get("harbor_version") if isinstance(data, dict) else None
    if not raw:
        raise e.AuthFailed(
            "/systeminfo has no harbor_version: credentials missing or not accepted",
            method="GET",
            path="/systeminfo",
        )
    try:
        version = parse_version(raw)
    except ValueError:
        raise e.BadResponse(f"unparseable harbor_version {raw!r}", method="GET", path="/systeminfo") from None
    caps = Capabilities.for_version(version)
    client.capabilities = caps
    return caps


def q_params(q: str | None, sort: str | None) -> list[tuple[str, str]]:
    """``q`` is percent-encoded once here and again by httpx: Harbor unescapes it twice."""
    out: list[tuple[str, str]] = []
    if q:
        out.append(("q", quote(q, safe="")))
    if sort:
        out.append(("sort", sort))
    return out


def opt(**kw: object) -> list[tuple[str, str]]:
    """Query params from keyword args, skipping None; bools as true/false."""
    out: list[tuple[str, str]] = []
    for k, v in kw.items():
        if v is None:
            continue
        out.append((k, ("true" if v else "false") if isinstance(v, bool) else str(v)))
    return out


def body_keys(body: Mapping[str, Any] | Sequence[Any]) -> frozenset[str]:
    return frozenset(body) if isinstance(body, Mapping) else frozenset()


class endpoint(Generic[P, T]):
    """Descriptor: ``Op`` generator method → sync or async client method."""

    def __init__(self, fn: Callable[Concatenate[Any, P], Op[T]]) -> None:
        self.fn = fn
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> endpoint[P, T]: ...
    @overload
    def __get__(self, obj: AsyncHarborClient, owner: type[Any]) -> Callable[P, Awaitable[T]]: ...
    @overload
    def __get__(self, obj: HarborClient, owner: type[Any]) -> Callable[P, T]: ...
    def __get__(self, obj: Any, owner: type[Any]) -> Any:
        if obj is None:
            return self
        fn = self.fn

        def bound(*args: P.args, **kwargs: P.kwargs) -> Any:
            return obj._run(fn(obj, *args, **kwargs))

        bound.__name__ = self.__name__
        bound.__doc__ = self.__doc__
        return bound

    def op(self, client: Any, *args: P.args, **kwargs: P.kwargs) -> Op[T]:
        """The raw generator (for composing endpoints or for tests)."""
        return self.fn(client, *args, **kwargs)
