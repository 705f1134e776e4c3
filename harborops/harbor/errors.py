"""Errors of the Harbor client. Each one says whether a retry can help (``transient``).

No message or repr ever carries a secret: callers pass only what is safe to show, and
:func:`scrub` masks anything that looks like a credential (Basic auth, ``password=``, URLs with
``user:pass@``, known secret keys of Harbor payloads) before it reaches an exception.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

__all__ = (
    "AuthFailed",
    "BadResponse",
    "Conflict",
    "Forbidden",
    "HarborError",
    "NotFound",
    "NotSupported",
    "ServerError",
    "TLSError",
    "Timeout",
    "Unreachable",
    "UnsupportedVersion",
    "ValidationFailed",
    "scrub",
)

MASK = "********"
# Keys whose values are secrets wherever they appear in Harbor payloads or our messages.
SECRET_KEYS = frozenset(
    {
        "password",
        "ldap_search_password",
        "oidc_client_secret",
        "uaa_client_secret",
        "access_secret",
        "secret",
        "new_password",
        "old_password",
        "redis_url_reg",
        "http_authproxy_server_certificate",
        "token",
        "cli_secret",
    }
)
_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)(authorization:\s*(?:basic|bearer|token)\s+)\S+"), r"\1" + MASK),
    (
        re.compile(
            r"(?i)((?:password|passwd|secret|token|api[_-]?key|redis_url_reg)\\?[\"']?\s*[:=]\s*\\?[\"']?)"
            r"[^\s\"',;&}\\]+"
        ),
        r"\1" + MASK,
    ),
    (re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@"), r"\1" + MASK + "@"),
    (re.compile(r"(?i)(robot\$[^\s:]+:)\S+"), r"\1" + MASK),
)


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Mask known secret values and credential shapes in ``text``."""
    for secret in sorted((s for s in secrets if s and len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, MASK)
    for regex, replacement in _SHAPES:
        text = regex.sub(replacement, text)
    return text


def scrub_json(value: Any) -> Any:
    """Deep copy of a JSON value with every secret key's value masked."""
    if isinstance(value, dict):
        return {k: (MASK if k in SECRET_KEYS and v not in (None, "") else scrub_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_json(v) for v in value]
    return value


class HarborError(Exception):
    """Base class. ``transient``: a retry later may succeed. ``status``: HTTP status if any."""

    transient_default = False

    def __init__(
        self,
        message: str,
        *,
        transient: bool | None = None,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        request_id: str | None = None,
    ) -> None:
        message = scrub(message)
        super().__init__(message)
        self.message = message
        self.transient = self.transient_default if transient is None else transient
        self.status = status
        self.method = method
        self.path = path
        self.request_id = request_id

    def __str__(self) -> str:
        where = f"{self.method} {self.path}: " if self.method and self.path else ""
        code = f" (HTTP {self.status})" if self.status is not None else ""
        return f"{where}{self.message}{code}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r}, transient={self.transient!r})"


class Unreachable(HarborError):
    """DNS failure, connection refused/reset: the instance is down or the address is wrong."""

    transient_default = True


class Timeout(HarborError):
    """Connect or read timeout."""

    transient_default = True


class TLSError(HarborError):
    """TLS handshake failed (untrusted CA, expired, hostname mismatch).

    ``subject``/``issuer``/``not_after`` describe the certificate the server presented, when it
    could be fetched (see :func:`harborops.harbor.http.peek_certificate`).
    """

    def __init__(
        self,
        message: str,
        *,
        subject: str | None = None,
        issuer: str | None = None,
        not_after: dt.datetime | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.subject, self.issuer, self.not_after = subject, issuer, not_after

    def __str__(self) -> str:
        base = super().__str__()
        if self.subject or self.issuer or self.not_after:
            base += f" [subject={self.subject} issuer={self.issuer} not_after={self.not_after}]"
        return base


class AuthFailed(HarborError):
    """401: wrong credentials (Harbor freezes the principal 1.5 s after a failed login)."""


class Forbidden(HarborError):
    """403: the principal lacks the permission (or a CSRF rejection caused by a session cookie)."""


class NotFound(HarborError):
    """404."""


class Conflict(HarborError):
    """409: already exists."""


class ValidationFailed(HarborError):
    """400/412/422: Harbor rejected the request (swagger validation, business rule)."""


class ServerError(HarborError):
    """5xx. 502/503/504 are transient (proxy/restart); a 500 usually is not."""


class BadResponse(HarborError):
    """The answer is not what the API promises (not JSON, wrong shape)."""


class NotSupported(HarborError):
    """The instance's Harbor version lacks this endpoint or parameter; no request was sent."""


class UnsupportedVersion(HarborError):
    """Harbor API generation this client does not speak (v1.x, v2.0-v2.2)."""

    def __init__(self, version: str, **kwargs: Any) -> None:
        super().__init__(f"Harbor {version}: API generation not supported; SSH-only operations available", **kwargs)
        self.version = version
