"""harborops' own LDAP over TLS against a real slapd serving a certificate from a test CA: StartTLS on
ldap://, and ldaps://; a CA that does not match is refused with a clear error (login and directory
searches alike), and local accounts still log in."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from harborops.access.services import directory
from harborops.core.roles import role_of
from tests.support.certs import make_ca
from tests.support.fixtures import PASSWORD, make_user
from tests.support.slapd import USER_PASSWORD, Slapd, group_dn, ldap_settings, slapd_tls  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def configure(settings: Any, server: Slapd, **env: str) -> None:
    for key, value in ldap_settings({**server.env("groupOfNames"), **env}).items():
        setattr(settings, key, value)


def login(username: str, password: str = USER_PASSWORD) -> int:
    return Client().post("/login/", {"username": username, "password": password}).status_code


def test_start_tls_with_the_directorys_ca(settings: Any, slapd_tls: tuple[Slapd, str]) -> None:  # noqa: F811
    server, ca_file = slapd_tls
    configure(settings, server, HARBOROPS_LDAP_START_TLS="true", HARBOROPS_LDAP_CA_FILE=ca_file)
    assert login("ann") == 302
    from django.contrib.auth.models import User

    assert role_of(User.objects.get(username="ann")) == "admin"
    assert directory.get_group(group_dn("team-payments")).dn == group_dn("team-payments")


def test_ldaps_with_the_directorys_ca(settings: Any, slapd_tls: tuple[Slapd, str]) -> None:  # noqa: F811
    server, ca_file = slapd_tls
    assert server.ldaps_url.startswith("ldaps://127.0.0.1:")
    configure(settings, server, HARBOROPS_LDAP_URI=server.ldaps_url, HARBOROPS_LDAP_CA_FILE=ca_file)
    assert login("oscar") == 302
    assert [g.dn for g in directory.search_groups("team-pay")][:1] == [group_dn("team-payments")]


@pytest.mark.parametrize("mode", ["starttls", "ldaps"])
def test_a_ca_that_does_not_match_is_refused_clearly(settings: Any, slapd_tls: tuple[Slapd, str],  # noqa: F811
                                                    tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture, mode: str) -> None:
    server, _ = slapd_tls
    other_ca, _ = make_ca("Some Other CA").write(tmp_path, "other")
    extra = {"HARBOROPS_LDAP_START_TLS": "true"} if mode == "starttls" else {"HARBOROPS_LDAP_URI": server.ldaps_url}
    configure(settings, server, HARBOROPS_LDAP_CA_FILE=other_ca, **extra)
    make_user("local-admin", "admin")
    caplog.set_level(logging.INFO)
    assert login("ann") == 200  # refused: the directory's certificate is not from the configured CA
    with pytest.raises(directory.DirectoryError) as err:
        directory.search_groups("team")
    assert str(err.value).startswith("no verified TLS connection to the LDAP directory: the certificate of 127.0.0.1:")
    assert f"does not verify against the CA in {other_ca}" in str(err.value)
    assert "does not verify against the CA in" in caplog.text  # the login's log line says why as well
    assert login("local-admin", PASSWORD) == 302  # local accounts are not held hostage by the directory
    assert USER_PASSWORD not in caplog.text
