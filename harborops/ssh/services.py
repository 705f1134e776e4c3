"""SSH hosts: add, change, remove (audited), scan and accept host keys, run a check.

Host keys are never accepted automatically: ``scan_host_key`` only records what the host presents
(``offered_key``); ``accept_host_key`` pins it when an operator confirms that exact fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.timezone import now

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.ssh import client, uses
from harborops.ssh.models import SSHHost

EDITABLE_FIELDS = frozenset({"name", "address", "port", "username", "private_key", "key_passphrase", "use_sudo",
                             "role", "labels", "notes"})
SET, UNCHANGED, NONE = "set", "unchanged", "none"


def _key_summary(text: str, passphrase: str = "") -> str:
    """The audit shows which key (its public fingerprint), never the key."""
    if not text:
        return NONE
    try:
        line = client.public_key_line(text, passphrase)
    except client.SSHError:
        return "set (unreadable)"
    return f"{line.split()[0]} {client.fingerprint(line.split()[1])}"


def audit_view(host: SSHHost, *, key_state: str = "") -> dict[str, Any]:
    return {"name": host.name, "address": host.address, "port": host.port, "username": host.username,
            "use_sudo": host.use_sudo, "role": host.role, "labels": host.labels, "notes": host.notes,
            "private_key": key_state or _key_summary(host.private_key, host.key_passphrase),
            "host_key": host.host_key_fingerprint or None}


def _validate(host: SSHHost) -> None:
    if not isinstance(host.labels, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in host.labels.items()):
        raise ValidationError({"labels": "labels must be a mapping of text keys to text values"})
    if host.private_key:
        try:
            client.load_private_key(host.private_key, host.key_passphrase)
        except client.SSHError as exc:
            raise ValidationError({"private_key": exc.message}) from None
    host.full_clean()


def create_host(*, actor: Actor, name: str, address: str, username: str, private_key: str, port: int = 22,
                key_passphrase: str = "", use_sudo: bool = False, role: str = SSHHost.Role.HARBOR,
                labels: dict[str, str] | None = None, notes: str = "") -> SSHHost:
    host = SSHHost(name=name, address=address.strip(), port=port, username=username, private_key=private_key,
                   key_passphrase=key_passphrase, use_sudo=use_sudo, role=role, labels=labels or {}, notes=notes,
                   created_by=actor.user)
    _validate(host)
    with transaction.atomic():
        host.save()
        record(actor=actor, action="ssh.host.create", obj=host, before=None, after=audit_view(host))
    return host


def update_host(host: SSHHost, *, actor: Actor, **changes: Any) -> SSHHost:
    """Apply ``changes``; a blank private key or passphrase keeps the stored one. Changing the
    address or port forgets the pinned host key (another machine must be accepted again)."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    before = audit_view(host)
    for secret in ("private_key", "key_passphrase"):
        if not changes.get(secret):
            changes.pop(secret, None)
    moved = ("address" in changes and changes["address"].strip() != host.address) or (
        "port" in changes and changes["port"] != host.port)
    for name, value in changes.items():
        setattr(host, name, value.strip() if name == "address" else value)
    if moved:
        host.host_key = host.offered_key = ""
        host.host_key_accepted_at = host.offered_at = None
        host.host_key_accepted_by = ""
    _validate(host)
    with transaction.atomic():
        host.save()
        record(actor=actor, action="ssh.host.update", obj=host, before=before, after=audit_view(host),
               message="address changed: the host key must be accepted again" if moved else "")
    return host


def delete_host(host: SSHHost, *, actor: Actor) -> None:
    used = uses.blocking_uses(host)  # the features that build on SSH hosts registered what they use
    if used:
        raise ValidationError({"host": "; ".join(use.message(host.name) for use in used)})
    from django.db.models.deletion import ProtectedError, RestrictedError

    try:
        with transaction.atomic():
            record(actor=actor, action="ssh.host.delete", obj=host, before=audit_view(host), after=None)
            host.delete()
    except (ProtectedError, RestrictedError) as exc:  # another app's rows still use this host
        users = sorted({f"{o._meta.verbose_name} {o}" for o in exc.args[1]})
        message = f"{host.name} is still used by {', '.join(users)}: remove those first"
        raise ValidationError({"host": message}) from None


@dataclass
class KeyScan:
    ok: bool
    state: str  # accepted | pending | changed | error
    fingerprint: str = ""
    key_type: str = ""
    message: str = ""


def scan_host_key(host: SSHHost, *, actor: Actor, timeout: float = 10.0) -> KeyScan:
    """Read the key the host presents and record it as offered. Never pins anything."""
    try:
        key_type, key_b64 = client.scan_host_key(host.address, host.port, timeout=timeout)
    except client.SSHError as exc:
        return KeyScan(False, "error", message=exc.message)
    presented = f"{key_type} {key_b64}"
    fp = client.fingerprint(key_b64)
    if host.host_key and host.host_key.split()[:2] == presented.split():
        if host.offered_key:
            SSHHost.objects.filter(pk=host.pk).update(offered_key="", offered_at=None)
            host.offered_key, host.offered_at = "", None
        return KeyScan(True, "accepted", fp, key_type, "the host presents the accepted key")
    with transaction.atomic():
        host.offered_key, host.offered_at = presented, now()
        SSHHost.objects.filter(pk=host.pk).update(offered_key=host.offered_key, offered_at=host.offered_at)
        record(actor=actor, action="ssh.host.scan_key", obj=host, before=None,
               after={"offered": f"{key_type} {fp}", "pinned": host.host_key_fingerprint or None})
    if host.host_key:
        return KeyScan(False, "changed", fp, key_type,
                       f"the host key changed: pinned {host.host_key_fingerprint}, the host now presents "
                       f"{key_type} {fp}")
    return KeyScan(True, "pending", fp, key_type, f"the host presents {key_type} {fp}; compare and accept it")


def accept_host_key(host: SSHHost, *, actor: Actor, fingerprint: str) -> SSHHost:
    """Pin the offered key, only if ``fingerprint`` is exactly the one the operator was shown."""
    if not host.offered_key:
        raise ValidationError({"fingerprint": "no key was offered: scan the host first"})
    if fingerprint.strip() != host.offered_fingerprint:
        raise ValidationError({"fingerprint": f"the offered key is {host.offered_fingerprint}, "
                                              f"not {fingerprint.strip()!r}: scan again and compare"})
    before = {"host_key": host.host_key_fingerprint or None}
    with transaction.atomic():
        host.host_key, host.offered_key, host.offered_at = host.offered_key, "", None
        host.host_key_accepted_at, host.host_key_accepted_by = now(), actor.name
        host.save(update_fields=["host_key", "offered_key", "offered_at", "host_key_accepted_at",
                                 "host_key_accepted_by", "updated_at"])
        record(actor=actor, action="ssh.host.accept_key", obj=host, before=before,
               after={"host_key": host.host_key_fingerprint})
    return host


@dataclass
class CheckResult:
    ok: bool
    message: str
    lines: list[str]


CHECK_COMMAND = "uname -srm; id -un; echo cpus=$(nproc)"


def check_host(host: SSHHost, *, sink: client.LineSink | None = None, timeout: float = 30.0) -> CheckResult:
    """Connect with the pinned key and the stored private key, run a harmless command, and record
    the outcome on the host (last_check_*)."""
    lines: list[str] = []
    try:
        with host.connect(connect_timeout=min(timeout, 10.0)) as ssh:
            result = ssh.stream(CHECK_COMMAND, sink, timeout=timeout)
        lines = result.stdout.splitlines()
        ok = result.ok
        message = ("connected: " + "; ".join(lines)) if ok else f"the check command exited {result.exit_status}"
    except client.SSHError as exc:
        ok, message = False, exc.message
    SSHHost.objects.filter(pk=host.pk).update(last_check_at=now(), last_check_ok=ok, last_check_message=message)
    host.last_check_ok, host.last_check_message = ok, message
    return CheckResult(ok, message, lines)
