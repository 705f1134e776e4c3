"""The Users page tells local from LDAP accounts and where each role comes from."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from harborops.access.login import apply_role_mapping
from harborops.core.roles import OPERATOR, set_role
from tests.support.fixtures import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

OPS = "cn=harborops-operators,ou=groups,dc=example,dc=org"


def row(page: str, username: str) -> str:
    start = page.index(f'data-user="{username}"')
    return page[start:page.index("</tr>", start)]


def test_accounts_and_role_sources(settings, alice: User):
    settings.LDAP_ROLE_GROUPS = {"viewer": [], "operator": [OPS], "admin": []}
    make_user("carl", "viewer")
    oscar = User.objects.create_user("oscar")
    oscar.set_unusable_password()
    oscar.save()
    apply_role_mapping(oscar, dn="uid=oscar,ou=people,dc=example,dc=org", group_dns=[OPS, "cn=other,dc=example,dc=org"])
    dana = User.objects.create_user("dana")
    apply_role_mapping(dana, dn="uid=dana,ou=people,dc=example,dc=org", group_dns=[])
    set_role(dana, OPERATOR)  # an admin on this page

    web = Client()
    web.force_login(alice)
    page = web.get("/users/").content.decode()
    carl, osc, dan = row(page, "carl"), row(page, "oscar"), row(page, "dana")
    assert "<td class=\"small\" data-account>local</td>" in carl and "given by hand" in carl
    assert "LDAP: uid=oscar,ou=people,dc=example,dc=org" in osc and f"LDAP group {OPS}" in osc
    assert "cn=other" not in osc  # only the groups that map to a role are named
    assert "LDAP: uid=dana" in dan and "given by hand" in dan
