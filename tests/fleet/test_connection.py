"""``test_connection`` says exactly what is wrong. No test resolves a real name: DNS is a fake."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harborops.fleet.services.inventory import test_connection as check_connection
from harborops.harbor_sim import Fleet, SimServer, SimTransport
from harborops.harbor_sim.server import ssl_context
from tests.fleet.conftest import ADMIN_PASSWORD

pytestmark = [pytest.mark.embedded]


def fake_resolver(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


def no_such_host(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_it_reports_a_dns_failure() -> None:
    got = check_connection("https://harbor.invalid", "admin", "x", resolver=no_such_host)
    assert (got.ok, got.problem) == (False, "dns")
    assert "harbor.invalid" in got.message


def test_it_reports_a_refused_connection() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    got = check_connection(f"http://127.0.0.1:{port}", "admin", "x", timeout=3)
    assert (got.ok, got.problem) == (False, "refused"), got.message


def test_it_reports_a_timeout() -> None:
    with socket.socket() as sock:  # listens, never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        got = check_connection(f"http://127.0.0.1:{sock.getsockname()[1]}", "admin", "x", timeout=0.5)
    assert (got.ok, got.problem) == (False, "timeout"), got.message


def test_it_reports_wrong_credentials_and_accepts_right_ones() -> None:
    fleet = Fleet.create(1, "2.12.0")
    got = check_connection("http://sim/h/1", "admin", "wrong", resolver=fake_resolver, transport=SimTransport(fleet))
    assert (got.ok, got.problem) == (False, "auth") and "401" in got.message
    got = check_connection("http://sim/h/1", "admin", ADMIN_PASSWORD, resolver=fake_resolver,
                           transport=SimTransport(fleet))
    assert got.ok and got.version.startswith("v2.12.0") and got.details["spec"] == "v2.12"


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "harbor.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "c.pem", tmp / "k.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[SimServer, str]]:
    cert, key = _self_signed(tmp_path)
    with SimServer(Fleet.create(1, "2.15.0"), ssl=ssl_context(str(cert), str(key))) as server:
        yield server, cert.read_text()


def test_it_reports_an_untrusted_certificate_with_what_the_server_presented(
        tls_server: tuple[SimServer, str]) -> None:
    server, pem = tls_server
    got = check_connection(server.instance_url(1), "admin", ADMIN_PASSWORD, timeout=5)
    assert (got.ok, got.problem) == (False, "tls"), got.message
    assert got.details["subject"] == "CN=harbor.test" and got.details["issuer"] == "CN=harbor.test"
    assert "valid until" in got.message and "CN=harbor.test" in got.message
    trusted = check_connection(server.instance_url(1), "admin", ADMIN_PASSWORD, pem, timeout=5)
    assert trusted.ok, trusted.message


def _mock(answers: dict[str, httpx.Response]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        for suffix, response in answers.items():
            if request.url.path.endswith(suffix):
                return response
        return httpx.Response(404, text="<html>not found</html>")

    return httpx.MockTransport(handler)


@pytest.mark.off_spec("a web server that is not Harbor, and a Harbor too old for any spec")
def test_it_recognises_not_a_harbor_and_an_unsupported_version() -> None:
    got = check_connection("http://sim", "admin", "x", resolver=fake_resolver, transport=_mock({}))
    assert (got.ok, got.problem) == (False, "not_harbor"), got.message
    html = _mock({"/health": httpx.Response(200, text="<html>hello</html>", headers={"content-type": "text/html"})})
    got = check_connection("http://sim", "admin", "x", resolver=fake_resolver, transport=html)
    assert (got.ok, got.problem) == (False, "not_harbor"), got.message
    old = _mock({"/health": httpx.Response(200, json={"status": "healthy", "components": []}),
                 "/systeminfo": httpx.Response(200, json={"harbor_version": "v2.2.3-6b2bcd0f"})})
    got = check_connection("http://sim", "admin", "x", resolver=fake_resolver, transport=old)
    assert (got.ok, got.problem, got.version) == (False, "unsupported_version", "v2.2.3-6b2bcd0f"), got.message
    assert "SSH-only" in got.message


def test_it_rejects_a_url_that_is_not_http() -> None:
    assert check_connection("ftp://harbor.invalid", "a", "b", resolver=no_such_host).problem == "invalid_url"
