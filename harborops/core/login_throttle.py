"""Login throttling: after too many failed logins for one user name or from one client address within a
window, further attempts are refused for a while — before any password check (local or LDAP bind).

Counters live in the database (one row per user name / address), so every gunicorn worker and every
machine sees the same count. A success clears the user name's counter, not the address's (one good
account must not reset an address that guesses others). Lockouts are written to the action log; an admin
clears one on the Users page or with ``POST /api/login-lockouts/{id}/clear/``.

Settings: ``HARBOROPS_LOGIN_FAILURE_LIMIT`` (5), ``HARBOROPS_LOGIN_FAILURE_WINDOW`` (900 s),
``HARBOROPS_LOGIN_LOCKOUT`` (900 s).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.core.models import LoginFailureCounter

Kind = LoginFailureCounter.Kind


def _keys(username: str, address: str | None) -> list[tuple[str, str]]:
    keys = [(Kind.USERNAME.value, username.strip().lower()[:255])] if username.strip() else []
    if address:
        keys.append((Kind.ADDRESS.value, address[:255]))
    return keys


def locked_until(username: str, address: str | None) -> datetime | None:
    """When the lockout of this user name or address ends, or None when a login may be tried."""
    now = timezone.now()
    ends = [
        c.locked_until
        for kind, key in _keys(username, address)
        for c in LoginFailureCounter.objects.filter(kind=kind, key=key, locked_until__gt=now)
        if c.locked_until is not None
    ]
    return max(ends, default=None)


def register_failure(username: str, address: str | None, *, actor: Actor) -> None:
    now = timezone.now()
    window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    for kind, key in _keys(username, address):
        with transaction.atomic():
            counter, _ = LoginFailureCounter.objects.select_for_update().get_or_create(
                kind=kind, key=key, defaults={"window_started_at": now, "last_failure_at": now})
            if now - counter.window_started_at > window or (counter.locked_until and counter.locked_until <= now):
                counter.failures, counter.window_started_at, counter.locked_until = 0, now, None
            counter.failures += 1
            counter.last_failure_at = now
            newly_locked = counter.failures >= settings.LOGIN_FAILURE_LIMIT and counter.locked_until is None
            if newly_locked:
                counter.locked_until = now + timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
            counter.save()
            if newly_locked:
                record(actor=actor, action="login.locked_out", obj=counter, outcome="failure",
                       after={"failures": counter.failures, "locked_until": counter.locked_until},
                       message=f"{counter.failures} failed logins for {counter} within "
                               f"{settings.LOGIN_FAILURE_WINDOW} s: logins refused until {counter.locked_until}")


def register_success(username: str) -> None:
    LoginFailureCounter.objects.filter(kind=Kind.USERNAME, key=username.strip().lower()).delete()


def active_lockouts() -> QuerySet[LoginFailureCounter]:
    return LoginFailureCounter.objects.filter(locked_until__gt=timezone.now()).order_by("-locked_until")


def clear(counter: LoginFailureCounter, *, actor: Actor) -> None:
    before = {"failures": counter.failures, "locked_until": counter.locked_until}
    record(actor=actor, action="login.lockout_cleared", obj=counter, before=before,
           message=f"lockout of {counter} cleared")
    counter.delete()
