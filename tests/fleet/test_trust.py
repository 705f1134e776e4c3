"""'Trust this CA': a failed handshake proposes the CA that makes it succeed, never another one."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from harborops.fleet.models import Instance
from harborops.fleet.services.inventory import check_connection
from harborops.fleet.services.trust import find_trust_candidate
from harborops.harbor_sim import Fleet, SimServer
from harborops.harbor_sim.server import ssl_context
from tests.fleet.conftest import ADMIN_PASSWORD
from tests.support.certs import Issued, make_ca, make_server_cert

pytestmark = [pytest.mark.embedded]


def _serve(tmp_path: Path, leaf: Issued, getcert: Issued | None) -> SimServer:
    cert, key = leaf.write(tmp_path, "server")
    fleet = Fleet.create(1, "2.15.0", ca_cert=getcert.cert_pem.encode() if getcert else None)
    return SimServer(fleet, ssl=ssl_context(cert, key))


def test_a_ca_signed_server_proposes_the_ca_harbor_offers_and_it_works(tmp_path: Path):
    ca = make_ca("Corp Root CA")
    with _serve(tmp_path, make_server_cert(ca), getcert=ca) as server:
        got = check_connection(server.instance_url(1), "admin", ADMIN_PASSWORD, timeout=5)
        assert (got.ok, got.problem) == (False, "tls"), got.message
        proposed = got.details["trust_ca"]
        assert proposed["subject"] == "CN=Corp Root CA" and "getcert" in proposed["source"]
        assert proposed["pem"].strip() == ca.cert_pem.strip()
        assert len(proposed["sha256"].split(":")) == 32
        assert check_connection(server.instance_url(1), "admin", ADMIN_PASSWORD, proposed["pem"], timeout=5).ok


def test_a_ca_that_does_not_verify_the_server_is_never_proposed(tmp_path: Path):
    real, other = make_ca("Real CA"), make_ca("Some Other CA")
    with _serve(tmp_path, make_server_cert(real), getcert=other) as server:
        assert find_trust_candidate(server.instance_url(1)) is None
        got = check_connection(server.instance_url(1), "admin", ADMIN_PASSWORD, timeout=5)
        assert got.problem == "tls" and got.details["trust_ca"] is None


def test_a_self_signed_server_proposes_its_own_certificate(tmp_path: Path):
    own = make_ca("harbor.self")  # self-signed, with 127.0.0.1 in its SAN
    with _serve(tmp_path, own, getcert=None) as server:
        candidate = find_trust_candidate(server.instance_url(1))
        assert candidate is not None and candidate.subject == "CN=harbor.self"
        assert "self-signed" in candidate.source


@pytest.mark.django_db
def test_the_trust_button_puts_the_ca_in_the_form_and_saving_stores_it(tmp_path: Path, alice: User):
    ca = make_ca("Corp Root CA")
    with _serve(tmp_path, make_server_cert(ca), getcert=ca) as server:
        client = Client()
        client.force_login(alice)
        form = {"name": "eu-tls", "url": server.instance_url(1), "username": "admin", "password": ADMIN_PASSWORD,
                "credential_kind": "sysadmin", "ca_bundle": "", "labels_text": "", "notes": "", "enabled": "on"}
        first = client.post("/fleet/test-connection/", form, HTTP_HX_REQUEST="true")
        assert b'data-problem="tls"' in first.content and b"Trust this CA" in first.content
        assert ADMIN_PASSWORD.encode() not in first.content
        trusted = client.post("/fleet/test-connection/", {**form, "trusted_pem": ca.cert_pem}, HTTP_HX_REQUEST="true")
        assert b"Connection works" in trusted.content
        assert b'hx-swap-oob="true"' in trusted.content and b"BEGIN CERTIFICATE" in trusted.content
        saved = client.post("/fleet/add/", {**form, "ca_bundle": ca.cert_pem})
        assert saved.status_code == 302
        assert Instance.objects.get(name="eu-tls").ca_bundle.strip() == ca.cert_pem.strip()


@pytest.mark.django_db
def test_saving_tests_first_and_a_failure_offers_save_anyway_keeping_the_password_sealed(alice: User):
    client = Client()
    client.force_login(alice)
    form = {"name": "later", "url": "http://127.0.0.1:9/h/1", "username": "admin", "password": "Typed-Secret-77",
            "credential_kind": "sysadmin", "ca_bundle": "", "labels_text": "", "notes": "", "enabled": "on"}
    first = client.post("/fleet/add/", form)
    assert first.status_code == 200 and b'data-problem="refused"' in first.content and b"Save anyway" in first.content
    assert b"Typed-Secret-77" not in first.content and not Instance.objects.exists()
    sealed = first.context["form"].data["sealed_password"]
    again = client.post("/fleet/add/", {**form, "password": "", "sealed_password": sealed, "save_anyway": "1"})
    assert again.status_code == 302
    assert Instance.objects.get(name="later").password == "Typed-Secret-77"
