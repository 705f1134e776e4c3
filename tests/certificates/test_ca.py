"""Managed CAs: the issued certificate passes `openssl verify`, Python's ssl and `openssl s_client
-verify_hostname` against a real TLS server; keys stay encrypted, write-only, exported only by
admins with a log entry."""

from __future__ import annotations

import socket
import ssl
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from harborops.audit.models import ActionLogEntry
from harborops.certificates.models import Endpoint, IssuedCertificate, ManagedCA
from harborops.certificates.services import ca as services
from harborops.certificates.services import scan
from harborops.core.actor import Actor
from tests.certificates import pki
from tests.certificates.tls_server import TLSServer

pytestmark = [pytest.mark.django_db, pytest.mark.embedded, pytest.mark.timeout(120)]
ACTOR = Actor.system("pytest")


def _files(tmp_path: Path, ca: ManagedCA, issued: IssuedCertificate) -> tuple[Path, Path, Path, Path]:
    ca_file, cert, chain, key = (tmp_path / "ca.crt", tmp_path / "server.crt", tmp_path / "chain.crt",
                                 tmp_path / "server.key")
    ca_file.write_text(ca.certificate)
    cert.write_text(issued.certificate)
    chain.write_text(issued.chain_pem())
    key.write_text(issued.private_key)
    return ca_file, cert, chain, key


def s_client(port: int, ca_file: Path, name: str, address: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["openssl", "s_client", "-connect", f"{address}:{port}", "-servername", name, "-verify_hostname", name,
         "-verify_return_error", "-CAfile", str(ca_file)],
        input="", capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("key_type", ["ecp256", "rsa4096"])
def test_an_issued_certificate_is_accepted_by_openssl_and_python(tmp_path: Path, key_type: str):
    ca = services.create_ca(actor=ACTOR, name=f"corp-{key_type}", key_type=key_type, days=365)
    assert ca.key_description == ("EC secp256r1" if key_type == "ecp256" else "RSA 4096")
    issued = services.issue_certificate(ca, actor=ACTOR, hostname="harbor.test", sans="registry.test, 127.0.0.30",
                                        days=90, key_type="ecp256" if key_type == "ecp256" else "rsa2048")
    assert (issued.dns_names, issued.ip_addresses) == (["harbor.test", "registry.test"], ["127.0.0.30"])
    ca_file, cert, chain, key = _files(tmp_path, ca, issued)

    verify = subprocess.run(["openssl", "verify", "-CAfile", str(ca_file), str(cert)], capture_output=True,
                            text=True, timeout=30)
    assert verify.returncode == 0 and verify.stdout.strip().endswith(": OK"), verify.stdout + verify.stderr
    purpose = subprocess.run(["openssl", "verify", "-purpose", "sslserver", "-CAfile", str(ca_file), str(cert)],
                             capture_output=True, text=True, timeout=30)
    assert purpose.returncode == 0

    with TLSServer(chain, key, host="127.0.0.30") as server:
        ctx = ssl.create_default_context(cafile=str(ca_file))
        for name in ("harbor.test", "registry.test"):
            with ctx.wrap_socket(socket.create_connection(("127.0.0.30", server.port), timeout=5),
                                 server_hostname=name) as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")
        ok = s_client(server.port, ca_file, "harbor.test", "127.0.0.30")
        assert ok.returncode == 0 and "Verify return code: 0 (ok)" in ok.stdout, ok.stdout[-2000:] + ok.stderr
        wrong = s_client(server.port, ca_file, "other.test", "127.0.0.30")
        assert wrong.returncode != 0 and "hostname mismatch" in (wrong.stdout + wrong.stderr)
        other_ca = services.create_ca(actor=ACTOR, name=f"other-{key_type}", key_type="ecp256", days=30)
        ctx2 = ssl.create_default_context(cadata=other_ca.certificate)
        sock = socket.create_connection(("127.0.0.30", server.port), timeout=5)
        with pytest.raises(ssl.SSLCertVerificationError):
            ctx2.wrap_socket(sock, server_hostname="harbor.test")
        sock.close()
        # The scanner agrees: with the managed CA as the endpoint's bundle, every check passes.
        endpoint = Endpoint.objects.create(label="issued", host="127.0.0.30", port=server.port,
                                           server_name="harbor.test", ca_bundle=ca.certificate)
        assert scan.scan_endpoints([endpoint]).outcomes[0].status == "ok"


def test_private_keys_are_encrypted_at_rest():
    ca = services.create_ca(actor=ACTOR, name="sealed", key_type="ecp256", days=30)
    issued = services.issue_certificate(ca, actor=ACTOR, hostname="harbor.test", days=10, key_type="ecp256")
    with connection.cursor() as cursor:
        cursor.execute("SELECT private_key FROM certificates_managedca WHERE id = %s", [ca.pk])
        raw_ca = cursor.fetchone()[0]
        cursor.execute("SELECT private_key FROM certificates_issuedcertificate WHERE id = %s", [issued.pk])
        raw_issued = cursor.fetchone()[0]
    assert "PRIVATE KEY" not in raw_ca and "PRIVATE KEY" not in raw_issued
    assert ManagedCA.objects.get(pk=ca.pk).private_key.startswith("-----BEGIN PRIVATE KEY-----")
    entry = ActionLogEntry.objects.get(action="certificates.ca.create")
    assert "BEGIN" not in str(entry.after) and entry.after["private_key"] == "stored (encrypted)"


def test_importing_a_ca_made_with_openssl_checks_the_key_and_trust_only_cannot_issue(tmp_path: Path):
    made = pki.openssl_ca(tmp_path, bits=2048)
    imported = services.import_ca(actor=ACTOR, name="seed", certificate=made.pem, private_key=made.key.read_text())
    assert imported.origin == "imported" and imported.key_description == "RSA 2048"
    assert imported.subject.startswith("CN=MyPersonal Root CA")
    issued = services.issue_certificate(imported, actor=ACTOR, hostname="harbor.test", key_type="ecp256")
    assert x509.load_pem_x509_certificate(issued.certificate.encode()).issuer.rfc4514_string() == imported.subject
    stranger = pki.make_authority("Stranger")
    from cryptography.hazmat.primitives import serialization

    stranger_key = stranger.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()).decode()
    with pytest.raises(ValidationError) as mismatch:
        services.import_ca(actor=ACTOR, name="mixed", certificate=made.pem, private_key=stranger_key)
    assert "does not belong to the certificate" in str(mismatch.value) and "BEGIN" not in str(mismatch.value)
    with pytest.raises(ValidationError, match="not a PEM private key"):
        services.import_ca(actor=ACTOR, name="garbled", certificate=made.pem, private_key="-----BEGIN nonsense")
    leaf = pki.make_leaf(tmp_path, "leaf", stranger)
    with pytest.raises(ValidationError, match="not a CA certificate"):
        services.import_ca(actor=ACTOR, name="leafy", certificate=leaf.pem)
    trust = services.import_ca(actor=ACTOR, name="partner", certificate=stranger.pem)
    assert trust.origin == "trust_only" and not trust.can_issue and trust.private_key == ""
    with pytest.raises(ValidationError, match="trust-only"):
        services.issue_certificate(trust, actor=ACTOR, hostname="harbor.test")
    with pytest.raises(ValidationError, match="trust-only"):
        services.export_ca_key(trust, actor=ACTOR)
    assert not ManagedCA.objects.filter(name__in=("mixed", "garbled", "leafy")).exists()


def test_bad_names_and_validity_are_refused_clearly():
    ca = services.create_ca(actor=ACTOR, name="short", key_type="ecp256", days=30)
    with pytest.raises(ValidationError, match="not a host name"):
        services.issue_certificate(ca, actor=ACTOR, hostname="harbor.test", sans="bad_name!", key_type="ecp256")
    with pytest.raises(ValidationError, match="the CA expires"):
        services.issue_certificate(ca, actor=ACTOR, hostname="harbor.test", days=60, key_type="ecp256")
    with pytest.raises(ValidationError, match="key=value"):
        services.create_ca(actor=ACTOR, name="env", key_type="ecp256", scope="label", label="prod")
    env = services.create_ca(actor=ACTOR, name="env", key_type="ecp256", scope="label", label="env=prod")
    assert env.label == "env=prod"
    wildcard = services.issue_certificate(ca, actor=ACTOR, hostname="*.apps.test", days=10, key_type="ecp256")
    assert wildcard.dns_names == ["*.apps.test"]
    assert IssuedCertificate.objects.count() == 1


def test_pages_issue_download_and_log_key_exports(alice: User, vera: User, tmp_path: Path):
    admin = Client()
    admin.force_login(alice)
    r = admin.post("/certificates/cas/add/", {"name": "lab", "key_type": "ecp256", "days": 365, "common_name": "",
                                              "organization": "Lab", "scope": "install", "label": ""})
    ca = ManagedCA.objects.get(name="lab")
    assert r.status_code == 302 and r["Location"] == f"/certificates/cas/{ca.pk}/"
    page = admin.get(f"/certificates/cas/{ca.pk}/").content.decode()
    assert "PRIVATE KEY" not in page and ca.fingerprint in page
    bad = admin.post(f"/certificates/cas/{ca.pk}/issue/", {"hostname": "harbor.test", "sans": "no_way!",
                                                           "days": 30, "key_type": "ecp256"})
    assert bad.status_code == 400 and "is not a host name" in bad.content.decode()
    r = admin.post(f"/certificates/cas/{ca.pk}/issue/", {"hostname": "harbor.test", "sans": "10.0.0.5",
                                                         "days": 30, "key_type": "ecp256"})
    issued = IssuedCertificate.objects.get()
    assert r["Location"] == f"/certificates/issued/{issued.pk}/"
    viewer = Client()
    viewer.force_login(vera)
    assert "PRIVATE KEY" not in viewer.get(f"/certificates/issued/{issued.pk}/").content.decode()
    chain = viewer.get(f"/certificates/issued/{issued.pk}/chain.pem")
    assert chain["Content-Disposition"] == 'attachment; filename="harbor.test-chain.crt"'
    assert chain.content.decode().count("BEGIN CERTIFICATE") == 2 and b"PRIVATE" not in chain.content
    assert viewer.get(f"/certificates/cas/{ca.pk}/ca.crt").content.decode().strip() == ca.certificate.strip()
    assert viewer.post(f"/certificates/cas/{ca.pk}/export-key/").status_code == 403
    assert viewer.post(f"/certificates/issued/{issued.pk}/bundle/").status_code == 403
    assert not ActionLogEntry.objects.filter(action__endswith="export_key").exists()
    key = admin.post(f"/certificates/cas/{ca.pk}/export-key/")
    assert key.content.decode() == ManagedCA.objects.get(pk=ca.pk).private_key and key["Cache-Control"] == "no-store"
    bundle = admin.post(f"/certificates/issued/{issued.pk}/bundle/").content.decode()
    assert bundle.startswith("-----BEGIN PRIVATE KEY-----") and bundle.count("BEGIN CERTIFICATE") == 2
    logged = ActionLogEntry.objects.filter(action__endswith="export_key").order_by("pk")
    assert [(e.action, e.actor_name) for e in logged] == [("certificates.ca.export_key", "alice"),
                                                          ("certificates.issued.export_key", "alice")]
    assert all("PRIVATE" not in f"{e.before} {e.after} {e.message}" for e in ActionLogEntry.objects.all())
    assert admin.post(f"/certificates/cas/{ca.pk}/delete/").status_code == 302  # refused: it issued one
    assert ManagedCA.objects.filter(pk=ca.pk).exists()


def test_the_api_creates_imports_issues_and_exports_only_for_admins(alice: User, bob: User):
    api = APIClient()
    api.force_login(alice)
    created = api.post("/api/certificates/cas/", {"name": "api-ca", "key_type": "ecp256", "days": 100},
                       format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert "private_key" not in body and body["can_issue"] and body["origin"] == "generated"
    issued = api.post(f"/api/certificates/cas/{body['id']}/issue/", {
        "hostname": "harbor.test", "sans": ["127.0.0.9"], "days": 30, "key_type": "ecp256"}, format="json")
    assert issued.status_code == 201, issued.content
    assert issued.json()["ip_addresses"] == ["127.0.0.9"] and "private_key" not in issued.json()
    assert issued.json()["chain"].count("BEGIN CERTIFICATE") == 2
    bad = api.post(f"/api/certificates/cas/{body['id']}/issue/", {"hostname": "x", "days": 500}, format="json")
    assert bad.status_code == 400 and "CA expires" in str(bad.json())
    trust = api.post("/api/certificates/cas/import/", {"name": "partner", "certificate": body["certificate"]},
                     format="json")
    assert trust.status_code == 201 and trust.json()["origin"] == "trust_only" and not trust.json()["can_issue"]
    refused = api.post(f"/api/certificates/cas/{trust.json()['id']}/issue/", {"hostname": "h.test"}, format="json")
    assert refused.status_code == 400 and "trust-only" in str(refused.json())
    operator = APIClient()
    operator.force_login(bob)
    assert operator.get("/api/certificates/cas/").status_code == 200
    assert operator.post(f"/api/certificates/cas/{body['id']}/export-key/").status_code == 403
    assert operator.post(f"/api/certificates/issued/{issued.json()['id']}/export-key/").status_code == 403
    assert operator.post("/api/certificates/cas/", {"name": "x"}, format="json").status_code == 403
    exported = api.post(f"/api/certificates/cas/{body['id']}/export-key/")
    assert exported.json()["private_key"] == ManagedCA.objects.get(pk=body["id"]).private_key
    assert ActionLogEntry.objects.filter(action="certificates.ca.export_key", actor_name="alice").count() == 1
