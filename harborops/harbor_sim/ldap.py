"""The LDAP directory behind a simulated Harbor's `ldap_auth` mode.

`LdapDirectory` is the seam: `InMemoryLdap` serves tests and demos; `ldap_backend.LdapServerDirectory`
(python-ldap against slapd) implements the same protocol against a real server.

Both follow Harbor's LDAP session (src/pkg/ldap/ldap.go@v2.13.0 Session): a user's groups are the
values of the membership attribute on the user entry (``ldap_group_membership_attribute``, default
``memberof``; SearchUser), never a search of the groups' ``member`` lists; a group DN is looked up
only under ``ldap_group_base_dn`` (``ldap_base_dn`` when empty) with ``ldap_group_search_filter``
ANDed with ``(<name attribute>=*)`` (SearchGroupByDN / searchGroup / createGroupSearchFilter).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class LdapFailure(Exception):
    """A directory operation that could not run (Harbor logs these as plain Go errors)."""


class LdapUnavailable(LdapFailure):
    """The directory cannot be reached (Harbor: Session.Open fails)."""


class LdapNoSuchObject(LdapFailure):
    """A base-DN search at an entry that does not exist (LDAP result 32; Harbor: ldap.ErrNotFound)."""


class LdapSearchFailed(LdapFailure):
    """The search DN cannot bind or the search fails (Harbor: SearchLdapAttribute errors)."""


@dataclass(slots=True)
class LdapUserEntry:
    uid: str
    dn: str
    password: str
    realname: str = ""
    email: str = ""
    # Values of the configured membership attribute on this entry (Harbor: model.User.GroupDNList),
    # filled by the directory on bind/find_user.
    group_dns: list[str] = field(default_factory=list)
    attributes: dict[str, list[str]] = field(default_factory=dict)  # in-memory entries only


@dataclass(slots=True)
class LdapGroupEntry:
    dn: str
    name: str
    member_dns: set[str] = field(default_factory=set)
    object_classes: tuple[str, ...] = ("groupOfNames",)


class LdapDirectory(Protocol):
    def ping(self, conf: dict[str, Any], stored_password: str) -> tuple[bool, str]: ...
    def bind(self, uid: str, password: str) -> LdapUserEntry | None: ...
    def find_user(self, uid: str) -> LdapUserEntry | None: ...
    def search_users(self, username: str) -> list[LdapUserEntry]: ...
    def search_groups(self, name: str | None, dn: str | None) -> list[LdapGroupEntry]: ...
    def group_by_dn(self, dn: str) -> LdapGroupEntry | None: ...


# --- DNs and filters (shared by both directories) ----------------------------------------------------
def trim_lower(value: str) -> str:
    """Harbor's utils.TrimLower (src/common/utils/utils.go): strings.TrimSpace + strings.ToLower."""
    return value.strip().lower()


def valid_dn(dn: str) -> bool:
    """Roughly go-ldap ParseDN: every RDN is ``attr=value``."""
    parts = [p for p in re.split(r"(?<!\\),", dn.strip())] if dn.strip() else []
    return all("=" in p and p.split("=", 1)[0].strip() for p in parts)


def _rdns(dn: str) -> list[str]:
    out = []
    for part in re.split(r"(?<!\\),", dn.strip().lower()):
        if not part.strip():
            continue
        attr, _, value = part.partition("=")
        out.append(f"{attr.strip()}={value.strip()}")
    return out


def under_base_dn(base: str, child: str) -> bool:
    """Harbor's UnderBaseDN (src/pkg/ldap/ldap.go@v2.13.0): lower-cased, base equal to or ancestor of child."""
    b, c = _rdns(base), _rdns(child)
    return len(b) <= len(c) and (not b or c[-len(b):] == b)


def group_search_filter(base_filter: str, name_attribute: str) -> str:
    """createGroupSearchFilter: the configured filter (normalised with parentheses) AND (name=*)."""
    name_attr = name_attribute.strip() or "cn"
    base = base_filter.strip()
    if base and not base.startswith("("):
        base = f"({base})"
    return f"(&{base}({name_attr}=*))" if base else f"({name_attr}=*)"


def match_filter(expr: str, attrs: Mapping[str, Sequence[str]]) -> bool:
    """A small RFC 4515 evaluator (&, |, !, equality, presence, ``*`` substrings; case-insensitive) for the
    in-memory directory. Unparseable filters match nothing (Harbor: ErrInvalidFilter)."""
    lowered = {k.lower(): [v.lower() for v in vs] for k, vs in attrs.items()}
    try:
        ok, rest = _eval(expr.strip(), lowered)
    except (ValueError, IndexError):
        return False
    return ok and not rest.strip()


def _eval(s: str, attrs: dict[str, list[str]]) -> tuple[bool, str]:
    if not s.startswith("("):
        raise ValueError(s)
    s = s[1:].lstrip()
    if s[0] in "&|":
        op, s = s[0], s[1:].lstrip()
        results = []
        while s.startswith("("):
            r, s = _eval(s, attrs)
            results.append(r)
            s = s.lstrip()
        if not s.startswith(")"):
            raise ValueError(s)
        return (all(results) if op == "&" else any(results)), s[1:]
    if s[0] == "!":
        r, s = _eval(s[1:].lstrip(), attrs)
        s = s.lstrip()
        if not s.startswith(")"):
            raise ValueError(s)
        return not r, s[1:]
    end = s.index(")")
    item, s = s[:end], s[end + 1:]
    m = re.match(r"^\s*([\w.;-]+)\s*([~<>]?=)\s*(.*?)\s*$", item)
    if not m:
        raise ValueError(item)
    name, value = m[1].lower(), m[3].lower()
    values = attrs.get(name, [])
    if value == "*":
        return bool(values), s
    pattern = "^" + ".*".join(re.escape(p) for p in value.split("*")) + "$"
    return any(re.match(pattern, v) for v in values), s


class InMemoryLdap:
    """A tiny directory: users and groupOfNames-style groups, bind = password compare.

    Like slapd with the ``memberof`` overlay, `add_group` writes each member's ``memberOf``; a directory
    built with ``memberof=False`` (or a user added with ``memberof=[]`` afterwards) has none, and then
    Harbor attaches no LDAP group at login. Harbor's ``ldap_*`` settings come from the attached
    configuration (`attach`, as `HarborInstance` does).
    """

    def __init__(
        self,
        *,
        url: str = "ldap://ldap.sim:389",
        base_dn: str = "dc=example,dc=com",
        bind_dn: str = "cn=admin,dc=example,dc=com",
        bind_password: str = "admin",  # noqa: S107 - the test directory's bind password
        memberof: bool = True,
    ) -> None:
        self.url = url
        self.base_dn = base_dn
        self.bind_dn = bind_dn
        self.bind_password = bind_password
        self.memberof = memberof
        self.users: dict[str, LdapUserEntry] = {}
        self.groups: dict[str, LdapGroupEntry] = {}
        self.reachable = True
        self.config: Mapping[str, Any] = {}

    def attach(self, config: Mapping[str, Any]) -> None:
        """Read Harbor's ``ldap_group_*`` settings from this (live) configuration."""
        self.config = config

    # --- population ------------------------------------------------------------------------------
    def add_user(self, uid: str, password: str, *, realname: str = "", email: str = "",
                 memberof: Sequence[str] | None = None) -> LdapUserEntry:
        entry = LdapUserEntry(
            uid, f"cn={uid},ou=people,{self.base_dn}", password, realname or uid, email or f"{uid}@example.com"
        )
        entry.attributes = {"objectClass": ["inetOrgPerson"], "cn": [uid], "uid": [uid],
                            "memberOf": list(memberof or [])}
        self.users[uid.lower()] = entry
        return entry

    def add_group(self, name: str, members: Sequence[str] = (), *, dn: str | None = None,
                  object_class: str = "groupOfNames") -> LdapGroupEntry:
        dn = dn or f"cn={name},ou=groups,{self.base_dn}"
        grp = LdapGroupEntry(dn, name, {self.users[m.lower()].dn.lower() for m in members}, (object_class,))
        self.groups[dn.lower()] = grp
        if self.memberof and object_class == "groupOfNames":  # what the overlay maintains
            for m in members:
                self.users[m.lower()].attributes.setdefault("memberOf", []).append(dn)
        return grp

    @classmethod
    def harbor_test_directory(cls, *, memberof: bool = True) -> InMemoryLdap:
        """Users and groups like Harbor's tests/ldap_test.ldif (all passwords `Harbor12345`)."""
        d = cls(memberof=memberof)
        for uid in ("mike", "mike02", "admin_user", "dev_user", "guest_user", "test"):
            d.add_user(uid, "Harbor12345")
        d.add_group("harbor_users", ["mike", "mike02", "admin_user", "dev_user", "guest_user"])
        d.add_group("harbor_group", ["mike"])
        d.add_group("harbor_group2", ["mike02"])
        d.add_group("harbor_group3", [])
        d.add_group("harbor_admin", ["admin_user"])
        d.add_group("harbor_dev", ["dev_user"])
        d.add_group("harbor_guest", ["guest_user"])
        return d

    # --- helpers ----------------------------------------------------------------------------------
    def _setting(self, key: str, default: str = "") -> str:
        return str(self.config.get(key) or default)

    def _with_groups(self, entry: LdapUserEntry) -> LdapUserEntry:
        """SearchUser: GroupDNList = the trimmed values of the membership attribute on the entry."""
        attr = self._setting("ldap_group_membership_attribute").strip().lower()
        entry.group_dns = [v.strip() for k, vs in entry.attributes.items() if attr and k.lower() == attr for v in vs]
        return entry

    # --- LdapDirectory ---------------------------------------------------------------------------
    def ping(self, conf: dict[str, Any], stored_password: str) -> tuple[bool, str]:
        url = str(conf.get("ldap_url") or "")
        if not self.reachable or url.rstrip("/") not in (self.url, self.url.rsplit(":", 1)[0]):
            return False, f"error: failed to connect to LDAP server {url}: Network Error"
        password = conf.get("ldap_search_password") or stored_password
        if conf.get("ldap_search_dn") and (
            conf.get("ldap_search_dn") != self.bind_dn or password != self.bind_password
        ):
            return False, 'error: LDAP Result Code 49 "Invalid Credentials"'
        return True, ""

    def bind(self, uid: str, password: str) -> LdapUserEntry | None:
        entry = self.users.get(uid.lower())
        if not self.reachable or entry is None or entry.password != password:
            return None
        return self._with_groups(entry)

    def find_user(self, uid: str) -> LdapUserEntry | None:
        if not self.reachable:
            raise LdapUnavailable(f"failed to connect to LDAP server {self.url}")
        entry = self.users.get(uid.lower())
        return self._with_groups(entry) if entry else None

    def search_users(self, username: str) -> list[LdapUserEntry]:
        if not self.reachable:
            return []
        low = username.lower()
        return [u for k, u in sorted(self.users.items()) if low in k]

    def search_groups(self, name: str | None, dn: str | None) -> list[LdapGroupEntry]:
        if not self.reachable:
            return []
        # As the real-server backend (ldap_backend.LdapServerDirectory.search_groups, from
        # src/pkg/ldap/manager.go@v2.13.0 SearchGroup): a name wins over a DN; the exact name (LDAP's
        # case-insensitive match), only the first group; by DN, `group_by_dn`.
        if name:
            if not self._setting("ldap_group_base_dn"):
                return []
            base = self._setting("ldap_group_base_dn")
            for _, grp in sorted(self.groups.items()):
                if grp.name.lower() == name.lower() and under_base_dn(base, grp.dn) and self.group_by_dn(grp.dn):
                    return [grp]
            return []
        if dn:
            try:
                found = self.group_by_dn(dn)
            except (LdapNoSuchObject, LdapUnavailable):
                return []
            return [found] if found else []
        return []

    def group_by_dn(self, dn: str) -> LdapGroupEntry | None:
        """SearchGroupByDN: None outside the group base DN or when the group filter rejects the entry;
        `LdapNoSuchObject` when no entry has this DN (LDAP matches DNs case-insensitively)."""
        if not self.reachable:
            raise LdapUnavailable(f"failed to connect to LDAP server {self.url}")
        base = self._setting("ldap_group_base_dn") or self._setting("ldap_base_dn")
        if not under_base_dn(base, dn):
            return None
        grp = self.groups.get(",".join(_rdns(dn)))
        if grp is None:
            grp = next((g for g in self.groups.values() if _rdns(g.dn) == _rdns(dn)), None)
        if grp is None:
            raise LdapNoSuchObject(dn)
        name_attr = self._setting("ldap_group_attribute_name", "cn")
        attrs = {"objectClass": list(grp.object_classes), "cn": [grp.name], name_attr: [grp.name],
                 "member": sorted(grp.member_dns)}
        flt = group_search_filter(self._setting("ldap_group_search_filter"), name_attr)
        return grp if match_filter(flt, attrs) else None
