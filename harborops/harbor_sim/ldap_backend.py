"""A real LDAP server behind a simulated Harbor (python-ldap), implementing `LdapDirectory`.

Harbor reads its LDAP settings from its configuration (``ldap_url``, ``ldap_search_dn``, …), so this
directory does too: give it the instance's live config dict (``LdapServerDirectory(inst.config)``,
or let `HarborInstance` attach it), and ``PUT /configurations`` changes where it points. Keyword
arguments are defaults for settings the configuration leaves empty, so a demo can say
``HarborInstance(ldap=LdapServerDirectory(url="ldap://127.0.0.1:3389", base_dn=...))``.

Every filter value is escaped (``escape_filter_chars``): a search for ``*)(uid=*`` finds nothing.
Like Harbor (src/pkg/ldap/ldap.go@v2.13.0 SearchUser / SearchLdap), a user's groups are read only from
the membership attribute the user search requests (``ldap_group_membership_attribute``, default
``memberof``): on slapd that is the memberof overlay's ``memberOf``; without the overlay there is none.
The in-memory `InMemoryLdap` stays for tests that need no slapd.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import ldap
from ldap.filter import escape_filter_chars

from harborops.harbor_sim.ldap import (
    LdapGroupEntry,
    LdapNoSuchObject,
    LdapSearchFailed,
    LdapUnavailable,
    LdapUserEntry,
    group_search_filter,
    under_base_dn,
)

ANY_GROUP = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup)(objectClass=group))"
SCOPES = {0: ldap.SCOPE_BASE, 1: ldap.SCOPE_ONELEVEL, 2: ldap.SCOPE_SUBTREE}


def ldap_scope(conf: Mapping[str, Any]) -> int:
    """``ldap_scope`` (0 base, 1 one level, 2 subtree; Harbor's default 2) as python-ldap's constant."""
    raw = conf.get("ldap_scope")
    try:
        value = 2 if raw is None or raw == "" else int(raw)
    except (TypeError, ValueError):
        value = 2
    return SCOPES.get(value, ldap.SCOPE_SUBTREE)


def _filter(expr: str) -> str:
    expr = expr.strip()
    if not expr:
        return "(objectClass=*)"
    return expr if expr.startswith("(") else f"({expr})"


def _text(attrs: Mapping[str, list[bytes]], name: str) -> str:
    for key, values in attrs.items():
        if key.lower() == name.lower() and values:
            return values[0].decode(errors="replace")
    return ""


def _all(attrs: Mapping[str, list[bytes]], name: str) -> list[str]:
    return [v.decode(errors="replace") for key, values in attrs.items() if key.lower() == name.lower()
            for v in values]


class LdapServerDirectory:
    """`LdapDirectory` over a real LDAP server, configured like Harbor (see module docstring)."""

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        url: str = "",
        bind_dn: str = "",
        bind_password: str = "",
        base_dn: str = "",
        uid_attribute: str = "",
        user_filter: str = "",
        group_base_dn: str = "",
        group_filter: str = "",
        group_name_attribute: str = "",
        timeout: int = 5,
    ) -> None:
        self.config: Mapping[str, Any] = config if config is not None else {}
        self.defaults: dict[str, Any] = {
            "ldap_url": url,
            "ldap_search_dn": bind_dn,
            "ldap_search_password": bind_password,
            "ldap_base_dn": base_dn,
            "ldap_uid": uid_attribute,
            "ldap_filter": user_filter,
            "ldap_group_base_dn": group_base_dn,
            "ldap_group_search_filter": group_filter,
            "ldap_group_attribute_name": group_name_attribute,
            "ldap_timeout": timeout,
        }

    def attach(self, config: Mapping[str, Any]) -> None:
        """Read settings from this (live) configuration from now on (HarborInstance calls it)."""
        self.config = config

    # --- settings -----------------------------------------------------------------------------
    def _conf(self, override: Mapping[str, Any] | None = None) -> dict[str, Any]:
        merged = dict(self.defaults)
        for source in (self.config, override or {}):
            merged.update({k: v for k, v in source.items() if k.startswith("ldap_") and v not in ("", None)})
        return merged

    def _connect(self, conf: Mapping[str, Any], *, dn: str | None = None, password: str | None = None) -> Any:
        url = str(conf.get("ldap_url") or "")
        if not url:
            raise ldap.SERVER_DOWN({"desc": "no LDAP URL configured"})
        if "://" not in url:
            url = f"ldap://{url}"
        conn = ldap.initialize(url)
        timeout = int(conf.get("ldap_timeout") or 5)
        conn.set_option(ldap.OPT_REFERRALS, 0)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, timeout)
        conn.set_option(ldap.OPT_TIMEOUT, timeout)
        if url.startswith("ldaps://") and not conf.get("ldap_verify_cert", True):
            conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_NEVER)
            conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        bind_dn = str(conf.get("ldap_search_dn") or "") if dn is None else dn
        bind_pw = str(conf.get("ldap_search_password") or "") if password is None else password
        conn.simple_bind_s(bind_dn, bind_pw)
        return conn

    def _search(self, base: str, scope: int, filterstr: str, attrs: list[str] | None = None, *,
                strict: bool = False) -> list[tuple[str, Any]]:
        """Search as the configured search DN. ``strict``: an unreachable server raises `LdapUnavailable`,
        a missing base entry `LdapNoSuchObject`, any other failure `LdapSearchFailed`; else they are []."""
        conf = self._conf()
        try:
            conn = self._connect(conf)
        except ldap.SERVER_DOWN as exc:
            if strict:
                raise LdapUnavailable(str(conf.get("ldap_url") or "")) from exc
            return []
        except ldap.LDAPError as exc:
            if strict:
                raise LdapSearchFailed(str(exc)) from exc
            return []
        try:
            rows = conn.search_s(base, scope, filterstr, attrs)
        except ldap.NO_SUCH_OBJECT as exc:
            if strict:
                raise LdapNoSuchObject(base) from exc
            return []
        except ldap.LDAPError as exc:
            if strict:
                raise LdapSearchFailed(str(exc)) from exc
            return []
        finally:
            conn.unbind_s()
        return [(dn, a) for dn, a in rows if dn]  # drop search references

    # --- users ----------------------------------------------------------------------------------
    def _user_filter(self, value: str, *, substring: bool) -> str:
        conf = self._conf()
        attr = str(conf.get("ldap_uid") or "uid")
        esc = escape_filter_chars(value)
        match = f"({attr}=*{esc}*)" if substring else f"({attr}={esc})"
        return f"(&{_filter(str(conf.get('ldap_filter') or ''))}{match})"

    def _membership_attribute(self) -> str:
        return str(self._conf().get("ldap_group_membership_attribute") or "memberof").strip()

    def _user_entry(self, dn: str, attrs: Mapping[str, list[bytes]]) -> LdapUserEntry:
        conf = self._conf()
        uid = _text(attrs, str(conf.get("ldap_uid") or "uid"))
        realname = _text(attrs, "displayName") or _text(attrs, "cn") or uid
        member_attr = self._membership_attribute()
        groups = [v.strip() for v in _all(attrs, member_attr)] if member_attr else []
        return LdapUserEntry(uid=uid, dn=dn, password="", realname=realname, email=_text(attrs, "mail"),
                             group_dns=groups)

    def _users(self, filterstr: str, *, strict: bool = False) -> list[LdapUserEntry]:
        """SearchLdap: requests uid, cn, mail, email, the uid attribute and the membership attribute
        (an operational attribute such as memberOf is only returned when asked for)."""
        conf = self._conf()
        scope = ldap_scope(conf)
        uid_attr = str(conf.get("ldap_uid") or "uid")
        wanted = ["uid", "cn", "mail", "email", "displayName", uid_attr]
        if member_attr := self._membership_attribute():
            wanted.append(member_attr)
        rows = self._search(str(conf.get("ldap_base_dn") or ""), scope, filterstr, wanted, strict=strict)
        return sorted((self._user_entry(dn, attrs) for dn, attrs in rows), key=lambda u: u.uid)

    def find_user(self, uid: str) -> LdapUserEntry | None:
        """The first entry for this uid (Harbor's import takes ldapUsers[0]); raises `LdapUnavailable` /
        `LdapSearchFailed` when the search cannot run (import: 500 vs ``failed_search_user``)."""
        if not uid:
            return None
        hits = self._users(self._user_filter(uid, substring=False), strict=True)
        return hits[0] if hits else None

    def search_users(self, username: str) -> list[LdapUserEntry]:
        return self._users(self._user_filter(username, substring=True))

    def bind(self, uid: str, password: str) -> LdapUserEntry | None:
        """Authenticate: exactly one entry for the uid, then a bind as that entry."""
        hits = self._users(self._user_filter(uid, substring=False)) if uid else []
        entry = hits[0] if len(hits) == 1 else None
        if entry is None or not password:  # an empty password would be an anonymous bind
            return None
        try:
            self._connect(self._conf(), dn=entry.dn, password=password).unbind_s()
        except ldap.LDAPError:
            return None
        return entry

    # --- groups ---------------------------------------------------------------------------------
    def _group_entry(self, dn: str, attrs: Mapping[str, list[bytes]]) -> LdapGroupEntry:
        name_attr = str(self._conf().get("ldap_group_attribute_name") or "cn")
        members = {m.lower() for m in _all(attrs, "member") + _all(attrs, "uniqueMember")}
        return LdapGroupEntry(dn=dn, name=_text(attrs, name_attr) or dn, member_dns=members)

    def search_groups(self, name: str | None, dn: str | None) -> list[LdapGroupEntry]:
        """GET /ldap/groups/search (src/pkg/ldap/manager.go@v2.13.0 manager.SearchGroup): a name wins over a
        DN. By name, SearchGroupByName searches from ``ldap_group_base_dn`` itself (no fallback to
        ``ldap_base_dn``: an empty group base DN is not under the base, so nothing is found) for the
        group filter AND ``(<name attr>=<name>)`` — the exact name, escaped, not a substring — and
        keeps only the first entry (searchGroup returns ``result.Entries[0]``). By DN, it is
        `group_by_dn`. Both search with ``ldap_scope``, the *user* search scope
        (SearchLdapAttribute: ``s.basicCfg.Scope``); ``ldap_group_search_scope`` is read into the
        group config but never used (same at v2.3.0, v2.8.0, v2.15.0)."""
        conf = self._conf()
        if name:
            name_attr = str(conf.get("ldap_group_attribute_name") or "cn").strip() or "cn"
            base = str(conf.get("ldap_group_base_dn") or "")
            if not base:  # UnderBaseDN(ldap_base_dn, "") is false: an empty DN is under no base
                return []
            gfilter = str(conf.get("ldap_group_search_filter") or "").strip()
            gfilter = _filter(gfilter) if gfilter else ""
            flt = f"(&{gfilter}({name_attr}={escape_filter_chars(name)}))" if gfilter else \
                f"({name_attr}={escape_filter_chars(name)})"
            rows = self._search(base, ldap_scope(conf), flt, [name_attr, "member", "uniqueMember"])
            return [self._group_entry(d, a) for d, a in rows[:1]]
        if dn:
            try:
                found = self.group_by_dn(dn)
            except (LdapNoSuchObject, LdapUnavailable, LdapSearchFailed):
                return []
            return [found] if found else []
        return []

    def group_by_dn(self, dn: str) -> LdapGroupEntry | None:
        """SearchGroupByDN (src/pkg/ldap/ldap.go@v2.13.0 searchGroup): None when ``dn`` is not under the group
        base DN (``ldap_base_dn`` when empty) or the group filter AND ``(<name attr>=*)`` rejects it;
        `LdapNoSuchObject` when the entry does not exist; the entry's DN as the server returns it. The
        search is based at ``dn`` with ``ldap_scope`` (SearchLdapAttribute: ``s.basicCfg.Scope``): with
        one-level (1) the group entry itself is outside the search, so Harbor never finds it — at
        login no LDAP group is attached (core/auth/ldap/ldap.go verifyGroupInLDAP)."""
        conf = self._conf()
        base = str(conf.get("ldap_group_base_dn") or conf.get("ldap_base_dn") or "")
        if not under_base_dn(base, dn):
            return None
        name_attr = str(conf.get("ldap_group_attribute_name") or "cn")
        flt = group_search_filter(str(conf.get("ldap_group_search_filter") or ""), name_attr)
        rows = self._search(dn, ldap_scope(conf), flt, [name_attr], strict=True)
        if not rows:
            return None
        found, attrs = rows[0]
        return LdapGroupEntry(dn=found, name=_text(attrs, name_attr) or dn)

    # --- ping -----------------------------------------------------------------------------------
    def ping(self, conf: dict[str, Any], stored_password: str) -> tuple[bool, str]:
        merged = self._conf(conf)
        merged["ldap_search_password"] = conf.get("ldap_search_password") or stored_password or merged.get(
            "ldap_search_password", "")
        url = str(merged.get("ldap_url") or "")
        try:
            self._connect(merged).unbind_s()
        except ldap.INVALID_CREDENTIALS:
            return False, 'error: LDAP Result Code 49 "Invalid Credentials"'
        except ldap.LDAPError:
            return False, f"error: failed to connect to LDAP server {url}: Network Error"
        return True, ""


def use_ldap_server(instances: Iterable[Any], *, url: str, bind_dn: str = "", bind_password: str = "",
                    base_dn: str = "", group_base_dn: str = "", uid_attribute: str = "uid",
                    group_filter: str = "(objectClass=groupOfNames)", ldap_auth: bool = True) -> None:
    """Point simulated Harbors at a real LDAP server: their ``ldap_*`` configuration is set (as an
    admin would in Harbor's Configuration page) and ``/ldap/*`` queries that server from now on.
    ``group_filter`` is ``ldap_group_search_filter``: Harbor attaches no LDAP group at login without one."""
    for inst in instances:
        inst.ldap = LdapServerDirectory(inst.config)
        inst.config.update({"ldap_url": url, "ldap_search_dn": bind_dn, "ldap_search_password": bind_password,
                            "ldap_base_dn": base_dn, "ldap_uid": uid_attribute,
                            "ldap_group_base_dn": group_base_dn or base_dn,
                            "ldap_group_search_filter": group_filter, "ldap_group_attribute_name": "cn"})
        if ldap_auth:
            inst.config["auth_mode"] = "ldap_auth"
