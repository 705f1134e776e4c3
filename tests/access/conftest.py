"""Access test helpers: the real slapd (session), harborops' LDAP settings pointed at it, and
simulated Harbors on a real socket whose LDAP is that same slapd."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from harborops.access.ldap_config import auth_ldap_settings
from harborops.harbor_sim import Fleet, SimServer
from harborops.harbor_sim.ldap_backend import LdapServerDirectory
from tests.support.slapd import BASE, Slapd, slapd  # noqa: F401  (session fixture)

UseLdap = Callable[..., dict[str, Any]]


@pytest.fixture
def use_ldap(settings: Any, monkeypatch: pytest.MonkeyPatch, slapd: Slapd) -> UseLdap:  # noqa: F811
    """``use_ldap("posixGroup", HARBOROPS_LDAP_URI=...)``: harborops' LDAP settings for this test."""

    def apply(shape: str = "groupOfNames", **overrides: str) -> dict[str, Any]:
        env = {**slapd.env(shape), **overrides}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        values = auth_ldap_settings()
        for key, value in values.items():
            setattr(settings, key, value)
        return values

    return apply


def ldap_harbor_config(slapd: Slapd) -> dict[str, Any]:  # noqa: F811
    """The /configurations a Harbor in LDAP mode against the test slapd would have."""
    return {"auth_mode": "ldap_auth", "ldap_url": slapd.url, "ldap_search_dn": slapd.bind_dn,
            "ldap_search_password": slapd.bind_password, "ldap_base_dn": f"ou=people,{BASE}",
            "ldap_uid": "uid", "ldap_filter": "(objectClass=inetOrgPerson)",
            "ldap_group_base_dn": f"ou=groups,{BASE}", "ldap_group_search_filter": "(objectClass=groupOfNames)",
            "ldap_group_attribute_name": "cn"}


@pytest.fixture
def ldap_fleet(slapd: Slapd) -> Iterator[tuple[Fleet, SimServer]]:  # noqa: F811
    """Three simulated Harbors (2.8, 2.13, 2.15) in LDAP mode against the real slapd, on a socket."""
    fleet = Fleet.create(3, ["2.8.0", "2.13.0", "2.15.0"])
    for inst in fleet:
        inst.ldap = LdapServerDirectory(inst.config)
        inst.config.update(ldap_harbor_config(slapd))
    with SimServer(fleet) as server:
        yield fleet, server
