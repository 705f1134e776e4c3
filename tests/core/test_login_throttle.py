"""Login throttling: per user name and per client address, local and LDAP alike, in the action log, and
cleared by an admin on the Users page or through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from harborops.audit.models import ActionLogEntry
from harborops.core.models import LoginFailureCounter
from harborops.core.roles import ADMIN
from tests.access.conftest import UseLdap, use_ldap  # noqa: F401  (fixture)
from tests.support.fixtures import PASSWORD, make_user
from tests.support.slapd import USER_PASSWORD, slapd  # noqa: F401  (session fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


@pytest.fixture(autouse=True)
def limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_WINDOW = 600
    settings.LOGIN_LOCKOUT_SECONDS = 900


def attempt(username: str, password: str, address: str = "198.51.100.4") -> tuple[int, str]:
    client = Client(REMOTE_ADDR=address)
    response = client.post("/login/", {"username": username, "password": password})
    return response.status_code, response.content.decode()


def test_a_user_name_is_locked_after_the_limit_even_with_the_right_password():
    make_user("vera", "viewer")
    for n in range(3):
        status, page = attempt("vera", "wrong", address=f"198.51.100.{n + 10}")  # three addresses: the name counts
        assert status == 200 and "Wrong user name or password." in page
    status, page = attempt("Vera", PASSWORD, address="198.51.100.99")  # user names are counted case-insensitively
    assert status == 200 and "Too many failed logins" in page
    entry = ActionLogEntry.objects.get(action="login.locked_out")
    assert entry.outcome == "failure" and entry.object_repr == "user name vera" and "3 failed logins" in entry.message
    assert entry.source_ip == "198.51.100.12"


def test_an_address_is_locked_for_every_user_name():
    make_user("vera", "viewer")
    for name in ("a", "b", "c"):
        attempt(name, "wrong")
    assert "Too many failed logins" in attempt("vera", PASSWORD)[1]
    assert attempt("vera", PASSWORD, address="198.51.100.5")[0] == 302  # another address is not affected


def test_failures_outside_the_window_do_not_add_up_and_a_success_resets_the_name():
    make_user("vera", "viewer")
    attempt("vera", "wrong", address="198.51.100.1")
    attempt("vera", "wrong", address="198.51.100.2")
    LoginFailureCounter.objects.filter(kind="username").update(
        window_started_at=timezone.now() - timedelta(seconds=601))
    attempt("vera", "wrong", address="198.51.100.3")
    assert LoginFailureCounter.objects.get(kind="username").failures == 1
    assert attempt("vera", PASSWORD, address="198.51.100.4")[0] == 302
    assert not LoginFailureCounter.objects.filter(kind="username").exists()
    assert LoginFailureCounter.objects.filter(kind="address").count() == 3  # addresses keep their count


def test_a_lockout_ends_by_itself():
    make_user("vera", "viewer")
    for _ in range(3):
        attempt("vera", "wrong")
    LoginFailureCounter.objects.update(locked_until=timezone.now() - timedelta(seconds=1))
    assert attempt("vera", PASSWORD)[0] == 302


def test_an_admin_clears_a_lockout_on_the_users_page_and_through_the_api():
    make_user("vera", "viewer")
    admin = make_user("root-admin", ADMIN)
    for _ in range(3):
        attempt("vera", "wrong", address="198.51.100.7")
    web = Client()
    web.force_login(admin)
    page = web.get("/users/").content.decode()
    assert "Login lockouts" in page and "<code>vera</code>" in page and "<code>198.51.100.7</code>" in page
    name = LoginFailureCounter.objects.get(kind="username")
    assert web.post(f"/users/lockouts/{name.pk}/clear/").status_code == 302
    address = LoginFailureCounter.objects.get(kind="address")
    listed = web.get("/api/login-lockouts/").json()
    assert [row["key"] for row in listed["results"]] == ["198.51.100.7"]
    assert web.post(f"/api/login-lockouts/{address.pk}/clear/").status_code == 204
    assert attempt("vera", PASSWORD, address="198.51.100.7")[0] == 302
    cleared = ActionLogEntry.objects.filter(action="login.lockout_cleared").order_by("id")
    assert [e.actor_name for e in cleared] == ["root-admin", "root-admin"]
    assert User.objects.get(username="vera").last_login is not None


def test_ldap_logins_are_throttled_before_any_bind(use_ldap: UseLdap, monkeypatch):  # noqa: F811
    use_ldap("groupOfNames")
    for _ in range(3):
        assert attempt("ann", "not-her-password")[0] == 200
    from harborops.access import login as ldap_login

    def no_bind(*args, **kwargs):
        raise AssertionError("a locked-out login must not reach the directory")

    monkeypatch.setattr(ldap_login.HarboropsLDAPBackend, "authenticate", no_bind)
    status, page = attempt("ann", USER_PASSWORD)
    assert status == 200 and "Too many failed logins" in page
