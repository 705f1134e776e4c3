"""The LDAP directory behind a simulated Harbor's `ldap_auth` mode.

`LdapDirectory` is the seam: `InMemoryLdap` serves tests and demos; a real directory
(python-ldap against slapd) can implement the same protocol later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(slots=True)
class LdapUserEntry:
    uid: str
    dn: str
    password: str
    realname: str = ""
    email: str = ""


@dataclass(slots=True)
class LdapGroupEntry:
    dn: str
    name: str
    member_dns: set[str] = field(default_factory=set)


class LdapDirectory(Protocol):
    def ping(self, conf: dict[str, Any], stored_password: str) -> tuple[bool, str]: ...
    def bind(self, uid: str, password: str) -> LdapUserEntry | None: ...
    def find_user(self, uid: str) -> LdapUserEntry | None: ...
    def search_users(self, username: str) -> list[LdapUserEntry]: ...
    def search_groups(self, name: str | None, dn: str | None) -> list[LdapGroupEntry]: ...
    def groups_of(self, user_dn: str) -> list[str]: ...


class InMemoryLdap:
    """A tiny directory: users and groupOfNames-style groups, bind = password compare."""

    def __init__(
        self,
        *,
        url: str = "ldap://ldap.sim:389",
        base_dn: str = "dc=example,dc=com",
        bind_dn: str = "cn=admin,dc=example,dc=com",
        bind_password: str = "admin",  # noqa: S107 - the test directory's bind password
    ) -> None:
        self.url = url
        self.base_dn = base_dn
        self.bind_dn = bind_dn
        self.bind_password = bind_password
        self.users: dict[str, LdapUserEntry] = {}
        self.groups: dict[str, LdapGroupEntry] = {}
        self.reachable = True

    # --- population ------------------------------------------------------------------------------
    def add_user(self, uid: str, password: str, *, realname: str = "", email: str = "") -> LdapUserEntry:
        entry = LdapUserEntry(
            uid, f"cn={uid},ou=people,{self.base_dn}", password, realname or uid, email or f"{uid}@example.com"
        )
        self.users[uid.lower()] = entry
        return entry

    def add_group(self, name: str, members: Sequence[str] = ()) -> LdapGroupEntry:
        dn = f"cn={name},ou=groups,{self.base_dn}"
        grp = LdapGroupEntry(dn, name, {self.users[m.lower()].dn.lower() for m in members})
        self.groups[dn.lower()] = grp
        return grp

    @classmethod
    def harbor_test_directory(cls) -> InMemoryLdap:
        """Users and groups like Harbor's tests/ldap_test.ldif (all passwords `Harbor12345`)."""
        d = cls()
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
        return entry

    def find_user(self, uid: str) -> LdapUserEntry | None:
        return self.users.get(uid.lower()) if self.reachable else None

    def search_users(self, username: str) -> list[LdapUserEntry]:
        if not self.reachable:
            return []
        low = username.lower()
        return [u for k, u in sorted(self.users.items()) if low in k]

    def search_groups(self, name: str | None, dn: str | None) -> list[LdapGroupEntry]:
        if not self.reachable:
            return []
        out = list(self.groups.values())
        if dn:
            out = [g for g in out if g.dn.lower() == dn.lower()]
        if name:
            out = [g for g in out if name.lower() in g.name.lower()]
        return out

    def groups_of(self, user_dn: str) -> list[str]:
        low = user_dn.lower()
        return [g.dn for g in self.groups.values() if low in g.member_dns]
