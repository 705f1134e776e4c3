"""Add, change and remove instances (audited), and check a connection before saving it."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.db import transaction

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.fleet.models import HAGroup, Instance
from harborops.fleet.services import trust
from harborops.harbor import errors as e

__all__ = ("ConnectionCheck", "check_connection", "create_instance", "delete_instance", "test_connection",
           "update_instance")

SET, UNCHANGED = "set", "unchanged"  # all the action log ever says about a password
EDITABLE_FIELDS = frozenset({"name", "url", "labels", "credential_kind", "username", "password", "ca_bundle",
                             "notes", "enabled", "ha_group"})

Resolver = Callable[[str, int], list[str]]


def _ca_summary(pem: str) -> str:
    # The CA bundle is public, but long: the audit shows a short fingerprint so a change is visible.
    pem = pem.strip()
    return f"sha256:{hashlib.sha256(pem.encode()).hexdigest()[:16]}" if pem else ""


def _audit_view(instance: Instance, *, password_state: str) -> dict[str, Any]:
    """The instance as the action log shows it. The password only as ``password_state``: "set" or
    "unchanged" (a key named ``password`` would be masked by the log's redaction anyway)."""
    return {
        "name": instance.name,
        "url": instance.url,
        "labels": instance.labels,
        "credential_kind": instance.credential_kind,
        "username": instance.username,
        "password_state": password_state,
        "ca_bundle": _ca_summary(instance.ca_bundle),
        "notes": instance.notes,
        "enabled": instance.enabled,
        "ha_group": instance.ha_group.name if instance.ha_group_id and instance.ha_group else None,
    }


def _check_labels(labels: Any) -> None:
    from django.core.exceptions import ValidationError

    if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        raise ValidationError({"labels": "labels must be a mapping of text keys to text values"})


def create_instance(*, actor: Actor, name: str, url: str, username: str, password: str,
                    credential_kind: str = Instance.CredentialKind.SYSADMIN, ca_bundle: str = "",
                    labels: dict[str, str] | None = None, notes: str = "", enabled: bool = True,
                    ha_group: HAGroup | None = None) -> Instance:
    """Validate and save a new instance; the action log records it with the password as "set"."""
    instance = Instance(name=name, url=url.rstrip("/"), username=username, password=password,
                        credential_kind=credential_kind, ca_bundle=ca_bundle, labels=labels or {}, notes=notes,
                        enabled=enabled, ha_group=ha_group)
    _check_labels(instance.labels)
    instance.full_clean()
    with transaction.atomic():
        instance.save()
        record(actor=actor, action="fleet.instance.create", obj=instance, before=None,
               after=_audit_view(instance, password_state=SET if password else UNCHANGED))
    return instance


def update_instance(instance: Instance, *, actor: Actor, **changes: Any) -> Instance:
    """Apply ``changes`` (fields of EDITABLE_FIELDS). An empty or absent password keeps the old one."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    before = _audit_view(instance, password_state=UNCHANGED)
    new_password = changes.pop("password", "") or ""
    for name, value in changes.items():
        setattr(instance, name, value.rstrip("/") if name == "url" else value)
    if new_password:
        instance.password = new_password
    _check_labels(instance.labels)
    instance.full_clean()
    with transaction.atomic():
        instance.save()
        record(actor=actor, action="fleet.instance.update", obj=instance, before=before,
               after=_audit_view(instance, password_state=SET if new_password else UNCHANGED))
    return instance


def delete_instance(instance: Instance, *, actor: Actor) -> None:
    with transaction.atomic():
        record(actor=actor, action="fleet.instance.delete", obj=instance,
               before=_audit_view(instance, password_state=UNCHANGED), after=None)
        instance.delete()


# --- connection test -------------------------------------------------------------------------------


@dataclass
class ConnectionCheck:
    """The verdict of :func:`test_connection`: ``ok``, or ``problem`` (a kind) with a ``message``."""

    ok: bool
    problem: str = ""  # dns | refused | unreachable | timeout | tls | auth | forbidden | not_harbor |
    #                    server_error | unsupported_version | invalid_url
    message: str = ""
    version: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def system_resolver(host: str, port: int) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def _refused(exc: BaseException) -> bool:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen:
        seen.append(cur)
        if isinstance(cur, ConnectionRefusedError) or "refused" in str(cur).lower():
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def check_connection(url: str, username: str, password: str, ca_pem: str = "", *,
                     resolver: Resolver | None = None, timeout: float = 10.0,
                     transport: httpx.BaseTransport | None = None) -> ConnectionCheck:
    """Say exactly what is wrong with reaching Harbor at ``url`` with these credentials.

    1. The URL: http(s) with a host.
    2. DNS (``resolver``; IP literals skip it).
    3. GET /health: refused, timeout, TLS (with the certificate the server presented), or not a Harbor.
    4. GET /systeminfo with the credentials: 401, and a version this tool speaks.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ConnectionCheck(False, "invalid_url", f"not an http(s) URL with a host: {url!r}")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return ConnectionCheck(False, "invalid_url", f"bad port in {url!r}")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        try:
            addresses = (resolver or system_resolver)(host, port)
        except OSError as exc:
            return ConnectionCheck(False, "dns", f"cannot resolve {host}: {exc}")
        if not addresses:
            return ConnectionCheck(False, "dns", f"cannot resolve {host}: no addresses")
    probe = Instance(url=url.strip().rstrip("/"), username=username, password=password, ca_bundle=ca_pem)
    try:
        client = probe.client(transport=transport, timeout=timeout)
    except e.HarborError as exc:
        return ConnectionCheck(False, "invalid_url", exc.message)
    except Exception as exc:  # ssl.SSLError: a CA bundle that is not PEM
        return ConnectionCheck(False, "tls", f"cannot use the CA bundle: {exc}")
    with client as h:
        try:
            health = h.health()
        except e.TLSError as exc:
            return _tls(exc, trust.find_trust_candidate(url, timeout=min(timeout, 5.0)))
        except e.Timeout as exc:
            return ConnectionCheck(False, "timeout", f"no answer from {host}:{port} within {timeout:g}s ({exc})")
        except e.Unreachable as exc:
            if _refused(exc):
                return ConnectionCheck(False, "refused", f"{host}:{port} refused the connection")
            return ConnectionCheck(False, "unreachable", f"cannot reach {host}:{port}: {exc}")
        except (e.NotFound, e.BadResponse) as exc:
            return ConnectionCheck(False, "not_harbor", f"no Harbor API at {url}: {exc}")
        except e.AuthFailed as exc:
            return ConnectionCheck(False, "auth", f"Harbor refused the credentials for {username!r} (HTTP 401): "
                                                  f"{exc.message}")
        except e.HarborError as exc:
            return ConnectionCheck(False, "server_error", f"Harbor answered with an error: {exc}")
        if not health.status:
            return ConnectionCheck(False, "not_harbor", f"{url}/api/v2.0/health did not answer like Harbor")
        try:
            caps = h.detect_version()
        except e.UnsupportedVersion as exc:
            return ConnectionCheck(False, "unsupported_version", exc.message, version=exc.version)
        except e.AuthFailed as exc:
            return ConnectionCheck(False, "auth", f"Harbor refused the credentials for {username!r} (HTTP 401): "
                                                  f"{exc.message}")
        except e.Forbidden as exc:
            return ConnectionCheck(False, "forbidden", f"{username!r} may not read system info: {exc.message}")
        except e.BadResponse as exc:
            return ConnectionCheck(False, "not_harbor", f"unexpected /systeminfo answer: {exc}")
        except e.HarborError as exc:
            return ConnectionCheck(False, "server_error", f"Harbor answered with an error: {exc}")
    version = caps.version.raw or str(caps.version)
    message = f"Harbor {version}, health {health.status}"
    return ConnectionCheck(True, "", message, version=version,
                           details={"health": health.status, "spec": caps.spec_name})


def _tls(exc: e.TLSError, candidate: trust.TrustCandidate | None) -> ConnectionCheck:
    details: dict[str, Any] = {"subject": exc.subject, "issuer": exc.issuer,
                               "not_after": exc.not_after.isoformat() if exc.not_after else None,
                               "trust_ca": asdict(candidate) if candidate else None}
    message = f"TLS handshake failed: {exc.message}"
    if exc.subject or exc.issuer:
        message += f"; the server presented subject {exc.subject!r} issued by {exc.issuer!r}"
    if exc.not_after:
        expired = exc.not_after < dt.datetime.now(dt.UTC)
        message += f", {'expired' if expired else 'valid until'} {exc.not_after:%Y-%m-%d %H:%M} UTC"
    return ConnectionCheck(False, "tls", message, details=details)


# The name the feature spec uses; ``__test__`` keeps pytest from collecting it where it is imported.
test_connection = check_connection
check_connection.__test__ = False  # type: ignore[attr-defined]
