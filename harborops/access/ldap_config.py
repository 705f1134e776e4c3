"""harborops' own LDAP settings, read from HARBOROPS_LDAP_* and turned into django-auth-ldap's
``AUTH_LDAP_*`` settings (settings.py calls :func:`auth_ldap_settings`). No Django models here.

Group membership maps to the three harborops roles explicitly (see ``access/login.py``):
django-auth-ldap's AUTH_LDAP_MIRROR_GROUPS would make a user's Django groups equal to their LDAP
groups and wipe viewer/operator/admin, so it stays off.
"""

from __future__ import annotations

from typing import Any

from harborops.env import envbool, envint, envsecret, envstr

# HARBOROPS_LDAP_GROUP_TYPE -> (django-auth-ldap group type class, its keyword args, object class)
GROUP_TYPES: dict[str, tuple[str, dict[str, str], str]] = {
    "groupOfNames": ("GroupOfNamesType", {}, "groupOfNames"),
    "nestedGroupOfNames": ("NestedGroupOfNamesType", {}, "groupOfNames"),
    "groupOfUniqueNames": ("GroupOfUniqueNamesType", {}, "groupOfUniqueNames"),
    "nestedGroupOfUniqueNames": ("NestedGroupOfUniqueNamesType", {}, "groupOfUniqueNames"),
    "posixGroup": ("PosixGroupType", {}, "posixGroup"),
    "activeDirectory": ("ActiveDirectoryGroupType", {}, "group"),
    "nestedActiveDirectory": ("NestedActiveDirectoryGroupType", {}, "group"),
}


def auth_ldap_settings() -> dict[str, Any]:
    """AUTH_LDAP_* (and HARBOROPS_LDAP_* echoes used by the access app) from the environment.

    Empty ``HARBOROPS_LDAP_URI``: LDAP login is off and only local accounts log in.
    """
    uri = envstr("HARBOROPS_LDAP_URI").strip()
    group_type = envstr("HARBOROPS_LDAP_GROUP_TYPE", "groupOfNames").strip() or "groupOfNames"
    if group_type not in GROUP_TYPES:
        raise ValueError(f"HARBOROPS_LDAP_GROUP_TYPE must be one of {', '.join(GROUP_TYPES)}, not {group_type!r}")
    out: dict[str, Any] = {
        "LDAP_ENABLED": bool(uri),
        "LDAP_GROUP_TYPE_NAME": group_type,
        # The attribute holding the login name, as the Harbors' ldap_uid (nested expansion adds users by it).
        "LDAP_UID_ATTR": envstr("HARBOROPS_LDAP_UID_ATTR", "uid").strip() or "uid",
        "LDAP_GROUP_OBJECT_CLASS": GROUP_TYPES[group_type][2],
        "LDAP_ROLE_GROUPS": {
            "admin": _dns("HARBOROPS_LDAP_ADMIN_GROUPS"),
            "operator": _dns("HARBOROPS_LDAP_OPERATOR_GROUPS"),
            "viewer": _dns("HARBOROPS_LDAP_VIEWER_GROUPS"),
        },
    }
    if not uri:
        return out
    import ldap
    from django_auth_ldap import config

    timeout = envint("HARBOROPS_LDAP_TIMEOUT", 5)
    options: dict[int, Any] = {ldap.OPT_REFERRALS: 0, ldap.OPT_NETWORK_TIMEOUT: timeout, ldap.OPT_TIMEOUT: timeout}
    ca_file = envstr("HARBOROPS_LDAP_CA_FILE").strip()
    if ca_file:
        options[ldap.OPT_X_TLS_CACERTFILE] = ca_file
        options[ldap.OPT_X_TLS_REQUIRE_CERT] = ldap.OPT_X_TLS_DEMAND
        options[ldap.OPT_X_TLS_NEWCTX] = 0  # must come last: applies the TLS options above
    cls_name, kwargs, object_class = GROUP_TYPES[group_type]
    user_base = envstr("HARBOROPS_LDAP_USER_BASE").strip()
    group_base = envstr("HARBOROPS_LDAP_GROUP_BASE").strip() or user_base
    group_filter = envstr("HARBOROPS_LDAP_GROUP_FILTER").strip() or f"(objectClass={object_class})"
    out.update({
        "AUTH_LDAP_SERVER_URI": uri,
        "AUTH_LDAP_START_TLS": envbool("HARBOROPS_LDAP_START_TLS", False),
        "AUTH_LDAP_BIND_DN": envstr("HARBOROPS_LDAP_BIND_DN"),
        "AUTH_LDAP_BIND_PASSWORD": envsecret("HARBOROPS_LDAP_BIND_PASSWORD"),
        "AUTH_LDAP_CONNECTION_OPTIONS": options,
        "AUTH_LDAP_USER_SEARCH": config.LDAPSearch(
            user_base, ldap.SCOPE_SUBTREE, envstr("HARBOROPS_LDAP_USER_FILTER", "(uid=%(user)s)")),
        "AUTH_LDAP_GROUP_SEARCH": config.LDAPSearch(group_base, ldap.SCOPE_SUBTREE, group_filter),
        "AUTH_LDAP_GROUP_TYPE": getattr(config, cls_name)(**kwargs),
        "AUTH_LDAP_USER_ATTR_MAP": {"first_name": envstr("HARBOROPS_LDAP_ATTR_FIRST_NAME", "givenName"),
                                    "last_name": envstr("HARBOROPS_LDAP_ATTR_LAST_NAME", "sn"),
                                    "email": envstr("HARBOROPS_LDAP_ATTR_EMAIL", "mail")},
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        "AUTH_LDAP_MIRROR_GROUPS": False,
        "AUTH_LDAP_FIND_GROUP_PERMS": False,
        "AUTH_LDAP_CACHE_TIMEOUT": envint("HARBOROPS_LDAP_CACHE_SECONDS", 300),
    })
    return out


def _dns(name: str) -> list[str]:
    """Group DNs separated by ``;`` (a DN itself contains commas)."""
    return [d.strip().lower() for d in envstr(name).split(";") if d.strip()]


def ldap_error_text(exc: Exception) -> str:
    """python-ldap's description of an error plus the library's detail when it has one: for a TLS failure
    the detail is the reason ("certificate verify failed (…)") where the description only says
    "Connect error" or "Can't contact LDAP server"."""
    info = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    desc = str(info.get("desc") or type(exc).__name__)
    detail = str(info.get("info") or "").strip()
    return f"{desc}: {detail}" if detail and detail not in desc else desc


# LDAPMessage{messageID 1, ExtendedRequest{requestName "1.3.6.1.4.1.1466.20037"}}: StartTLS (RFC 4511 4.14.1).
_STARTTLS_REQUEST = b"\x30\x1d\x02\x01\x01\x77\x18\x80\x16" b"1.3.6.1.4.1.1466.20037"


def tls_failure(uri: str, ca_file: str, *, start_tls: bool, timeout: float = 5.0) -> str | None:
    """Why a verified TLS connection to the LDAP server fails, in words, or None when TLS is not in play or
    not the problem. libldap reports a certificate that does not match the configured CA only as "Connect
    error"; this repeats the handshake with Python's ssl (after a StartTLS request on ldap://) to say why."""
    import socket
    import ssl
    from urllib.parse import urlsplit

    parts = urlsplit(uri.split()[0] if uri.strip() else "")
    scheme = parts.scheme.lower()
    if not parts.hostname or scheme not in ("ldap", "ldaps") or (scheme == "ldap" and not start_tls):
        return None
    host, port = parts.hostname, parts.port or (636 if scheme == "ldaps" else 389)
    context = ssl.create_default_context(cafile=ca_file or None)
    against = f"the CA in {ca_file}" if ca_file else "the system CAs"
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            if scheme == "ldap":
                raw.sendall(_STARTTLS_REQUEST)
                if b"\x0a\x01\x00" not in raw.recv(4096):  # ExtendedResponse resultCode success
                    return f"{host}:{port} refused StartTLS"
            with context.wrap_socket(raw, server_hostname=host):
                return None
    except ssl.SSLCertVerificationError as exc:
        return f"the certificate of {host}:{port} does not verify against {against}: {exc.verify_message}"
    except ssl.SSLError as exc:
        return f"TLS with {host}:{port} failed: {exc.reason or exc}"
    except OSError:
        return None  # not reachable at all: the caller's own message says so
