"""Login to harborops through LDAP (django-auth-ldap), with roles mapped explicitly.

* LDAP group membership maps to the harborops roles viewer / operator / admin
  (HARBOROPS_LDAP_{VIEWER,OPERATOR,ADMIN}_GROUPS) on every login. django-auth-ldap's
  AUTH_LDAP_MIRROR_GROUPS is *not* used: it would make a user's Django groups equal to their LDAP
  groups and wipe the role groups.
* A role an admin gave by hand on the Users page survives logins; a role the directory gave goes
  away when the user leaves the group (departed users lose access at their next login).
* Local accounts (a usable local password, never logged in through LDAP) are never looked up in
  LDAP: the local admin logs in when the directory is down, and an LDAP entry with the same name
  cannot take the account over.
* The log tells "directory unreachable" apart from "wrong password"; the person at the login page
  sees the same "wrong user name or password" for both.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django.utils.timezone import now
from django_auth_ldap.backend import LDAPBackend, ldap_error

from harborops.access.ldap_config import ldap_error_text, tls_failure
from harborops.core.actor import Actor
from harborops.core.redaction import remember
from harborops.core.roles import ADMIN, OPERATOR, ROLES, VIEWER, role_of, set_role

logger = logging.getLogger(__name__)
_state = threading.local()
_RANK = {None: 0, VIEWER: 1, OPERATOR: 2, ADMIN: 3}
UNREACHABLE = ("SERVER_DOWN", "TIMEOUT", "CONNECT_ERROR", "TIMELIMIT_EXCEEDED")


def mapped_role(group_dns: set[str] | list[str]) -> str | None:
    """The highest harborops role the given LDAP groups map to."""
    mapping: dict[str, list[str]] = getattr(settings, "LDAP_ROLE_GROUPS", {})
    mine = {dn.lower() for dn in group_dns}
    for role in reversed(ROLES):
        if mine & set(mapping.get(role, [])):
            return role
    return None


def is_local_account(username: str) -> bool:
    user = User.objects.filter(username__iexact=username).first()
    return user is not None and user.has_usable_password() and not hasattr(user, "ldap_account")


class HarboropsLDAPBackend(LDAPBackend):
    """django-auth-ldap's backend, plus local-account protection, role mapping and clear logs."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> User | None:
        if not getattr(settings, "LDAP_ENABLED", False) or not username:
            return None
        if is_local_account(username):
            return None  # ModelBackend's; never looked up in the directory
        if self.settings.BIND_PASSWORD:
            remember(self.settings.BIND_PASSWORD)
        _state.error = None
        user: User | None = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and _state.error is None:
            logger.info("LDAP login rejected for %r: wrong password or unknown user", username)
        return user

    def authenticate_ldap_user(self, ldap_user: Any, password: str) -> User | None:
        user: User | None = super().authenticate_ldap_user(ldap_user, password)
        if user is not None:
            apply_role_mapping(user, dn=ldap_user.dn, group_dns=sorted(ldap_user.group_dns))
            logger.info("LDAP login of %r (%s): role %s", user.username, ldap_user.dn, role_of(user) or "none")
        return user


def apply_role_mapping(user: User, *, dn: str, group_dns: list[str]) -> str | None:
    """Set the user's harborops role from their LDAP groups; returns the role now held."""
    from harborops.access.models import LdapAccount
    from harborops.audit.services import record

    mapped = mapped_role(group_dns)
    with transaction.atomic():
        account, created = LdapAccount.objects.get_or_create(user=user, defaults={"dn": dn})
        if hasattr(user, "_harborops_role"):
            del user._harborops_role
        current = role_of(user)
        if created or current == (account.ldap_role or None):
            new = mapped  # the directory gave the current role (or none): the directory decides
        else:
            new = current if _RANK[current] >= _RANK[mapped] else mapped  # a hand-given role survives
        if new != current:
            set_role(user, new)
            record(actor=Actor.system("ldap-login"), action="access.ldap_login.role", obj=user,
                   before={"role": current}, after={"role": new, "ldap_groups": group_dns},
                   message=f"role from LDAP groups at login of {user.username}")
        account.dn, account.ldap_role, account.groups, account.last_login_at = dn, mapped or "", group_dns, now()
        account.save()
    return new


def _on_ldap_error(sender: Any, context: str, user: Any, request: Any, exception: Exception, **kw: Any) -> None:
    desc = ldap_error_text(exception)
    _state.error = exception
    if type(exception).__name__ in UNREACHABLE:
        import ldap

        options = getattr(settings, "AUTH_LDAP_CONNECTION_OPTIONS", {})
        tls = tls_failure(str(getattr(settings, "AUTH_LDAP_SERVER_URI", "")),
                          str(options.get(ldap.OPT_X_TLS_CACERTFILE, "")),
                          start_tls=bool(getattr(settings, "AUTH_LDAP_START_TLS", False)), timeout=2.0)
        if tls:
            logger.error("LDAP directory refused a verified TLS connection while %s: %s; local accounts still log in",
                         context, tls)
            return
        logger.error("LDAP directory unreachable (%s) while %s; local accounts still log in", desc, context)
    else:
        logger.warning("LDAP error while %s: %s", context, desc)


def connect_signals() -> None:
    ldap_error.connect(_on_ldap_error, dispatch_uid="harborops.access.ldap_error")
