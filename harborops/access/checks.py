"""System checks for harborops' LDAP settings.

harborops.access.W001  HARBOROPS_LDAP_URI set but HARBOROPS_LDAP_USER_BASE empty (nobody can be found)
harborops.access.W002  LDAP on but no group maps to a role (LDAP users log in and see nothing)
harborops.access.W003  plain ldap:// to a non-loopback server without StartTLS (passwords in clear text)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register


@register()
def check_ldap_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not getattr(settings, "LDAP_ENABLED", False):
        return []
    messages: list[CheckMessage] = []
    if not str(getattr(settings, "AUTH_LDAP_USER_SEARCH").base_dn):  # noqa: B009  (set from the environment)
        messages.append(Warning("HARBOROPS_LDAP_URI is set but HARBOROPS_LDAP_USER_BASE is empty",
                                hint="set the DN under which users are searched", id="harborops.access.W001"))
    if not any(getattr(settings, "LDAP_ROLE_GROUPS", {}).values()):
        messages.append(Warning("LDAP login is on but no LDAP group maps to a harborops role",
                                hint="set HARBOROPS_LDAP_VIEWER_GROUPS / _OPERATOR_GROUPS / _ADMIN_GROUPS",
                                id="harborops.access.W002"))
    uri = urlparse(str(getattr(settings, "AUTH_LDAP_SERVER_URI", "")))
    if (uri.scheme == "ldap" and not getattr(settings, "AUTH_LDAP_START_TLS", False)
            and not (uri.hostname or "").startswith(("127.", "localhost"))):
        messages.append(Warning("LDAP passwords travel in clear text (ldap:// without StartTLS)",
                                hint="use ldaps:// or set HARBOROPS_LDAP_START_TLS=true",
                                id="harborops.access.W003"))
    return messages
