"""Login to harborops through the real slapd: every group type, role mapping that survives logins,
LDAP down (local admin still logs in), wrong password, and the two told apart in the log only."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import Client

from harborops.access.models import LdapAccount
from harborops.audit.models import ActionLogEntry
from harborops.core.roles import OPERATOR, role_of, set_role
from tests.access.conftest import UseLdap
from tests.support.fixtures import PASSWORD
from tests.support.slapd import USER_PASSWORD, group_dn, user_dn

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def login(username: str, password: str = USER_PASSWORD) -> tuple[Client, int]:
    client = Client()
    response = client.post("/login/", {"username": username, "password": password})
    return client, response.status_code


def fresh(username: str) -> User:
    return User.objects.get(username=username)


@pytest.mark.parametrize("shape", ["groupOfNames", "posixGroup", "groupOfUniqueNames", "nestedGroupOfNames"])
def test_each_group_type_maps_groups_to_roles(use_ldap: UseLdap, shape: str) -> None:
    use_ldap(shape)
    for username, role in (("ann", "admin"), ("oscar", "operator"), ("val", "viewer")):
        client, status = login(username)
        assert status == 302, f"{username} could not log in with {shape}"
        user = fresh(username)
        assert role_of(user) == role
        assert client.get("/").status_code == 200
        assert user.email == f"{username}@example.org" and not user.has_usable_password()
    _, status = login("nobody")
    assert status == 302 and role_of(fresh("nobody")) is None  # logged in, but no role: sees nothing


def test_nested_groups_count_with_the_nested_group_type(use_ldap: UseLdap) -> None:
    use_ldap("nestedGroupOfNames", HARBOROPS_LDAP_VIEWER_GROUPS=group_dn("team-payments"))
    login("nora")
    assert role_of(fresh("nora")) == "viewer"  # member of team-payments-contractors, nested in team-payments
    account = LdapAccount.objects.get(user__username="nora")
    assert account.dn == user_dn("nora") and group_dn("team-payments") in account.groups


def test_a_hand_given_role_survives_logins_and_a_directory_role_follows_the_directory(use_ldap: UseLdap) -> None:
    use_ldap("groupOfNames")
    login("dev1")
    assert role_of(fresh("dev1")) is None
    set_role(fresh("dev1"), OPERATOR)  # an admin on the Users page
    login("dev1")
    login("dev1")
    assert role_of(fresh("dev1")) == "operator"

    login("val")
    assert role_of(fresh("val")) == "viewer"
    entry = ActionLogEntry.objects.get(action="access.ldap_login.role", object_id=str(fresh("val").pk))
    assert entry.before == {"role": None} and entry.after is not None and entry.after["role"] == "viewer"
    use_ldap("groupOfNames", HARBOROPS_LDAP_VIEWER_GROUPS=group_dn("team-search"))  # val is no longer in it
    login("val")
    assert role_of(fresh("val")) is None  # a departed user loses the role at the next login
    # django-auth-ldap's group mirroring would have wiped the role groups: it stays off
    assert django_settings.AUTH_LDAP_MIRROR_GROUPS is False


def test_wrong_password_is_logged_as_such_and_shown_as_the_usual_error(use_ldap: UseLdap, caplog) -> None:
    use_ldap("groupOfNames")
    caplog.set_level(logging.INFO, logger="harborops.access.login")
    client = Client()
    response = client.post("/login/", {"username": "ann", "password": "not-her-password"})
    assert response.status_code == 200 and b"Wrong user name or password" in response.content
    said = "\n".join(r.getMessage() for r in caplog.records if r.name == "harborops.access.login")
    assert "LDAP login rejected for 'ann': wrong password or unknown user" in said
    assert "unreachable" not in said  # (other threads of earlier tests may log to the root logger meanwhile)


def test_ldap_down_local_admin_still_logs_in_and_the_log_says_unreachable(
        use_ldap: UseLdap, alice: User, caplog) -> None:
    from tests.support.processes import free_port

    use_ldap("groupOfNames", HARBOROPS_LDAP_URI=f"ldap://127.0.0.1:{free_port()}", HARBOROPS_LDAP_TIMEOUT="1")
    caplog.set_level(logging.INFO)
    client = Client()
    response = client.post("/login/", {"username": "ann", "password": USER_PASSWORD})
    assert response.status_code == 200 and b"Wrong user name or password" in response.content
    assert b"unreachable" not in response.content
    assert "LDAP directory unreachable" in caplog.text
    assert "wrong password" not in caplog.text
    _, status = login("alice", PASSWORD)
    assert status == 302 and role_of(fresh("alice")) == "admin"


def test_an_ldap_entry_cannot_take_over_a_local_account(use_ldap: UseLdap, alice: User) -> None:
    use_ldap("groupOfNames")
    _, status = login("alice", USER_PASSWORD)  # the directory's alice, with the directory's password
    assert status == 200
    user = fresh("alice")
    assert role_of(user) == "admin" and user.check_password(PASSWORD) and not hasattr(user, "ldap_account")


def test_ldap_login_is_off_without_a_uri(settings) -> None:
    settings.LDAP_ENABLED = False
    _, status = login("ann")
    assert status == 200
    assert "django.contrib.auth.backends.ModelBackend" in settings.AUTHENTICATION_BACKENDS


def test_filter_metacharacters_in_the_user_name_match_nobody(use_ldap: UseLdap) -> None:
    use_ldap("groupOfNames")
    for name in ("*", "*)(uid=*", "ann)(|(uid=*"):
        _, status = login(name)
        assert status == 200
    assert not User.objects.exists()


def test_system_checks_flag_risky_ldap_settings(use_ldap: UseLdap) -> None:
    from harborops.access.checks import check_ldap_settings

    use_ldap("groupOfNames")
    assert check_ldap_settings() == []
    use_ldap("groupOfNames", HARBOROPS_LDAP_URI="ldap://ldap.example.org", HARBOROPS_LDAP_USER_BASE="",
             HARBOROPS_LDAP_ADMIN_GROUPS="", HARBOROPS_LDAP_OPERATOR_GROUPS="", HARBOROPS_LDAP_VIEWER_GROUPS="")
    assert [m.id for m in check_ldap_settings()] == ["harborops.access.W001", "harborops.access.W002",
                                                     "harborops.access.W003"]
