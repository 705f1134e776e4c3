"""harborops' own LDAP directory (the one the Harbors authenticate against): group search for the
mapping form, DN checks, and nested-member expansion. Every filter value is escaped, so a search
for ``*)(uid=*`` finds nothing; a DN that does not exist is a clear error, not an empty group."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import ldap
from django.conf import settings
from ldap.dn import str2dn
from ldap.filter import escape_filter_chars

from harborops.access.ldap_config import ldap_error_text, tls_failure
from harborops.core.redaction import remember

logger = logging.getLogger(__name__)
SEARCH_LIMIT = 50
MAX_DEPTH = 10


class DirectoryError(Exception):
    """The directory is not configured, unreachable, or the DN is wrong. The message is for people."""


@dataclass(frozen=True)
class Group:
    dn: str
    name: str
    description: str = ""


@dataclass
class Expansion:
    """Users of a group, nested groups included (uids), and the groups walked."""

    uids: set[str] = field(default_factory=set)
    groups: list[str] = field(default_factory=list)


def enabled() -> bool:
    return bool(getattr(settings, "LDAP_ENABLED", False))


def _connect() -> Any:
    if not enabled():
        raise DirectoryError("LDAP is not configured (set HARBOROPS_LDAP_URI)")
    options: dict[int, Any] = dict(getattr(settings, "AUTH_LDAP_CONNECTION_OPTIONS", {}))
    password = str(getattr(settings, "AUTH_LDAP_BIND_PASSWORD", ""))
    if password:
        remember(password)
    try:
        conn = ldap.initialize(getattr(settings, "AUTH_LDAP_SERVER_URI", ""))
        for key, value in options.items():
            conn.set_option(key, value)
        if getattr(settings, "AUTH_LDAP_START_TLS", False):
            conn.start_tls_s()
        conn.simple_bind_s(str(getattr(settings, "AUTH_LDAP_BIND_DN", "")), password)
    except ldap.INVALID_CREDENTIALS:
        logger.error("LDAP bind as %s rejected: check HARBOROPS_LDAP_BIND_DN / _PASSWORD",
                     getattr(settings, "AUTH_LDAP_BIND_DN", ""))
        raise DirectoryError("harborops' LDAP bind was rejected (check the bind DN and password)") from None
    except ldap.LDAPError as exc:
        uri = str(getattr(settings, "AUTH_LDAP_SERVER_URI", ""))
        tls = tls_failure(uri, str(options.get(ldap.OPT_X_TLS_CACERTFILE, "")),
                          start_tls=bool(getattr(settings, "AUTH_LDAP_START_TLS", False)))
        if tls:
            logger.error("LDAP directory at %s refused a verified TLS connection: %s", uri, tls)
            raise DirectoryError(f"no verified TLS connection to the LDAP directory: {tls}") from None
        logger.error("LDAP directory unreachable at %s: %s", uri, _desc(exc))
        raise DirectoryError(f"the LDAP directory is unreachable ({_desc(exc)})") from None
    return conn


def _desc(exc: Exception) -> str:
    """python-ldap's short description, with the library's detail when it has one — for TLS failures that is
    the reason ("certificate verify failed (…)"), where the description alone only says "Connect error"."""
    return ldap_error_text(exc)


def _group_base() -> str:
    return str(getattr(settings, "AUTH_LDAP_GROUP_SEARCH").base_dn)  # noqa: B009  (set from the environment)


def _group_class_filter() -> str:
    return f"(objectClass={getattr(settings, 'LDAP_GROUP_OBJECT_CLASS', 'groupOfNames')})"


def _text(attrs: dict[str, list[bytes]], name: str) -> str:
    for key, values in attrs.items():
        if key.lower() == name.lower() and values:
            return values[0].decode(errors="replace")
    return ""


def _values(attrs: dict[str, list[bytes]], *names: str) -> list[str]:
    wanted = {n.lower() for n in names}
    return [v.decode(errors="replace") for k, vs in attrs.items() if k.lower() in wanted for v in vs]


def search_groups(query: str, *, limit: int = SEARCH_LIMIT) -> list[Group]:
    """Groups whose cn contains ``query`` (escaped), under the configured group base."""
    conn = _connect()
    flt = f"(&{_group_class_filter()}(cn=*{escape_filter_chars(query.strip())}*))" if query.strip() \
        else f"(&{_group_class_filter()}(cn=*))"
    try:
        rows = conn.search_ext_s(_group_base(), ldap.SCOPE_SUBTREE, flt, ["cn", "description"], sizelimit=limit)
    except ldap.SIZELIMIT_EXCEEDED:
        rows = []
    except ldap.LDAPError as exc:
        raise DirectoryError(f"LDAP search failed ({_desc(exc)})") from None
    finally:
        conn.unbind_s()
    groups = [Group(dn, _text(a, "cn"), _text(a, "description")) for dn, a in rows if dn]
    return sorted(groups, key=lambda g: g.name.lower())[:limit]


def validate_dn(dn: str) -> str:
    try:
        str2dn(dn)
    except ldap.DECODING_ERROR:
        raise DirectoryError(f"not a valid DN: {dn!r}") from None
    if not dn.strip():
        raise DirectoryError("a group DN is required")
    return dn.strip()


def get_group(dn: str) -> Group:
    """The group at ``dn``; DirectoryError if no such group exists."""
    dn = validate_dn(dn)
    conn = _connect()
    try:
        rows = conn.search_s(dn, ldap.SCOPE_BASE, _group_class_filter(), ["cn", "description"])
    except (ldap.NO_SUCH_OBJECT, ldap.INVALID_DN_SYNTAX):
        raise DirectoryError(f"no LDAP group {dn!r} in the directory") from None
    except ldap.LDAPError as exc:
        raise DirectoryError(f"LDAP lookup failed ({_desc(exc)})") from None
    finally:
        conn.unbind_s()
    if not rows or not rows[0][0]:
        raise DirectoryError(f"no LDAP group {dn!r} in the directory")
    found, attrs = rows[0]
    return Group(found, _text(attrs, "cn"), _text(attrs, "description"))


def expand_members(dn: str) -> Expansion:
    """Every user in the group, walking nested groups (groupOfNames/groupOfUniqueNames ``member``
    values that are groups; posixGroup ``memberUid`` names). Cycles are walked once."""
    conn = _connect()
    result = Expansion()
    seen: set[str] = set()
    uid_attr = str(getattr(settings, "LDAP_UID_ATTR", "uid"))
    try:
        pending = [(validate_dn(dn), 0)]
        while pending:
            current, depth = pending.pop()
            if current.lower() in seen or depth > MAX_DEPTH:
                continue
            seen.add(current.lower())
            try:
                rows = conn.search_s(current, ldap.SCOPE_BASE, "(objectClass=*)",
                                     ["objectClass", "member", "uniqueMember", "memberUid", uid_attr])
            except ldap.NO_SUCH_OBJECT:
                if depth == 0:
                    raise DirectoryError(f"no LDAP group {dn!r} in the directory") from None
                continue
            if not rows:
                continue
            attrs = rows[0][1]
            classes = {c.lower() for c in _values(attrs, "objectClass")}
            if classes & {"groupofnames", "groupofuniquenames", "posixgroup", "group"}:
                result.groups.append(current)
                result.uids.update(_values(attrs, "memberUid"))
                pending.extend((m, depth + 1) for m in _values(attrs, "member", "uniqueMember"))
            else:
                uid = _text(attrs, uid_attr)
                if uid:
                    result.uids.add(uid)
    except ldap.LDAPError as exc:
        raise DirectoryError(f"LDAP lookup failed ({_desc(exc)})") from None
    finally:
        conn.unbind_s()
    return result


@dataclass
class MemberSample:
    """Up to ``limit`` user members of a group (direct members only: nested groups are not users),
    each with the values of one attribute of the user's entry (e.g. ``memberOf``)."""

    group_dn: str
    attribute: str
    listed: int = 0  # member values the group lists (users and nested groups)
    users: list[tuple[str, list[str]]] = field(default_factory=list)  # (user DN, attribute values)


def member_attribute_sample(dn: str, attribute: str, *, limit: int = 5) -> MemberSample:
    """Read ``attribute`` from the entries of the group's first ``limit`` user members (sorted, so a
    repeated check reads the same users). ``member`` / ``uniqueMember`` are DNs; posixGroup
    ``memberUid`` names are found under the user base by the uid attribute. The attribute is asked
    for by name, so an operational attribute such as OpenLDAP's ``memberOf`` is returned."""
    dn = validate_dn(dn)
    conn = _connect()
    sample = MemberSample(dn, attribute)
    uid_attr = str(getattr(settings, "LDAP_UID_ATTR", "uid"))
    search = getattr(settings, "AUTH_LDAP_USER_SEARCH", None)
    user_base = str(getattr(search, "base_dn", "") or "")
    try:
        try:
            rows = conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["member", "uniqueMember", "memberUid"])
        except (ldap.NO_SUCH_OBJECT, ldap.INVALID_DN_SYNTAX):
            raise DirectoryError(f"no LDAP group {dn!r} in the directory") from None
        attrs = rows[0][1] if rows else {}
        member_dns = sorted(_values(attrs, "member", "uniqueMember"), key=str.lower)
        uids = sorted(_values(attrs, "memberUid"))
        sample.listed = len(member_dns) + len(uids)
        for member in member_dns:
            if len(sample.users) >= limit:
                break
            try:
                found = conn.search_s(member, ldap.SCOPE_BASE, "(objectClass=*)", ["objectClass", attribute])
            except (ldap.NO_SUCH_OBJECT, ldap.INVALID_DN_SYNTAX):
                continue
            if not found or not found[0][0]:
                continue
            entry, values = found[0]
            classes = {c.lower() for c in _values(values, "objectClass")}
            if classes & {"groupofnames", "groupofuniquenames", "posixgroup", "group"}:
                continue  # a nested group, not a user
            sample.users.append((entry, _values(values, attribute)))
        for uid in uids:
            if len(sample.users) >= limit or not user_base:
                break
            found = conn.search_s(user_base, ldap.SCOPE_SUBTREE, f"({uid_attr}={escape_filter_chars(uid)})",
                                  [attribute])
            if found and found[0][0]:
                sample.users.append((found[0][0], _values(found[0][1], attribute)))
    except ldap.LDAPError as exc:
        raise DirectoryError(f"LDAP lookup failed ({_desc(exc)})") from None
    finally:
        conn.unbind_s()
    return sample
