"""Plain request/response values of the simulator core, and Harbor-style errors.

The core never sees a socket: adapters (httpx transports, the aiohttp server) turn their requests
into `SimRequest` and write `SimResponse` back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"

# Harbor's error codes (src/lib/errors/const.go) by HTTP status.
ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    412: "PRECONDITION",
    422: "UNPROCESSABLE_ENTITY",
    429: "TOO_MANY_REQUEST",
    500: "UNKNOWN",
}


@dataclass(slots=True)
class SimRequest:
    """One HTTP request. `path` is the raw (still percent-encoded) path, `query` the raw query."""

    method: str
    path: str
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)  # keys lower-case
    body: bytes = b""

    @classmethod
    def build(
        cls,
        method: str,
        target: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        json_body: Any = None,
    ) -> SimRequest:
        """Convenience constructor for tests: `SimRequest.build("GET", "/api/v2.0/projects?page=2")`."""
        path, _, query = target.partition("?")
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs.setdefault("content-type", JSON_TYPE)
        return cls(method.upper(), path, query, hdrs, body or b"")

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def cookies(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for part in self.header("cookie").split(";"):
            name, sep, value = part.strip().partition("=")
            if sep:
                out[name] = value
        return out


@dataclass(slots=True)
class Directive:
    """Transport-level faults the core cannot express in a response; adapters act on them."""

    delay: float = 0.0  # seconds before the response starts
    hang: bool = False  # never answer
    reset: bool = False  # abort the connection (TCP RST)
    trickle_chunk: int = 0  # send the body `trickle_chunk` bytes at a time ...
    trickle_interval: float = 0.0  # ... with this pause between chunks

    @property
    def active(self) -> bool:
        return bool(self.delay or self.hang or self.reset or self.trickle_chunk)


@dataclass(slots=True)
class SimResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    directive: Directive | None = None

    def header(self, name: str) -> str | None:
        low = name.lower()
        for k, v in self.headers:
            if k.lower() == low:
                return v
        return None

    def json(self) -> Any:
        return json.loads(self.body)


class HarborError(Exception):
    """Raised by handlers; rendered as Harbor's `{"errors":[{"code","message"}]}` body."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or ERROR_CODES.get(status, "UNKNOWN")


def bad_request(message: str) -> HarborError:
    return HarborError(400, message)


def not_found(message: str = "resource not found") -> HarborError:
    return HarborError(404, message)


T = TypeVar("T")


def lookup(table: Mapping[int, T], raw: object, what: str, *, where: Callable[[T], bool] | None = None) -> T:
    """The row of ``table`` whose id is the path parameter ``raw``, or Harbor's 404
    "<what> <raw> not found" (also when ``raw`` is not a number, or ``where`` rejects the row)."""
    row = table.get(int(str(raw))) if str(raw).isdigit() else None
    if row is None or (where is not None and not where(row)):
        raise not_found(f"{what} {raw} not found")
    return row


def forbidden(message: str = "forbidden") -> HarborError:
    return HarborError(403, message)


def conflict(message: str) -> HarborError:
    return HarborError(409, message)


def error_body(status: int, message: str, code: str | None = None) -> bytes:
    err = {"code": code or ERROR_CODES.get(status, "UNKNOWN"), "message": message}
    return json.dumps({"errors": [err]}).encode()


class Query:
    """Decoded query parameters (first value wins, like go-swagger's binding)."""

    __slots__ = ("_items", "raw")

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self._items: dict[str, str] = {}
        for k, v in parse_qsl(raw, keep_blank_values=True):
            self._items.setdefault(k, v)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._items.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def int(self, name: str, default: int, *, maximum: int | None = None, minimum: int | None = None) -> int:
        raw = self._items.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise HarborError(
                422, f'validation failure list:\n{name} in query must be of type int64: "{raw}"'
            ) from None
        if maximum is not None and value > maximum:
            raise HarborError(
                422, f"validation failure list:\n{name} in query should be less than or equal to {maximum}"
            )
        if minimum is not None and value < minimum:
            raise HarborError(
                422, f"validation failure list:\n{name} in query should be greater than or equal to {minimum}"
            )
        return value

    def bool(self, name: str, default: bool | None = None) -> bool | None:
        raw = self._items.get(name)
        if raw is None or raw == "":
            return default
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise HarborError(422, f'validation failure list:\n{name} in query must be of type boolean: "{raw}"')

    def items(self) -> Iterable[tuple[str, str]]:
        return self._items.items()


def split_path(raw_path: str) -> list[str]:
    """Split a raw path into decoded segments (one decode, like Go's router)."""
    return [unquote(s) for s in raw_path.strip("/").split("/")] if raw_path.strip("/") else []
