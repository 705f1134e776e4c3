"""Error classification, retries (only GETs, only when asked) and secrets kept out of errors."""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from harborops.harbor import errors as e
from harborops.harbor.client import AsyncHarborClient, HarborClient
from tests.harbor.fakes import FakeHarbor, json_response

SECRET = "Sup3rSecretPw"


def _errors(code: str, message: str, status: int) -> httpx.Response:
    return json_response({"errors": [{"code": code, "message": message}]}, status)


@pytest.mark.off_spec("answers Harbor never sends, to test the error mapping")
@pytest.mark.parametrize(
    ("status", "kind", "transient"),
    [
        (401, e.AuthFailed, False),
        (403, e.Forbidden, False),
        (404, e.NotFound, False),
        (409, e.Conflict, False),
        (400, e.ValidationFailed, False),
        (412, e.ValidationFailed, False),
        (422, e.ValidationFailed, False),
        (500, e.ServerError, False),
        (502, e.ServerError, True),
        (503, e.ServerError, True),
        (429, e.ServerError, True),
    ],
)
def test_status_classification(fake: FakeHarbor, status: int, kind: type[e.HarborError], transient: bool) -> None:
    fake.on("GET", "/statistics", lambda r: _errors("X", "went wrong", status))
    with pytest.raises(kind) as info:
        HarborClient("http://h", transport=fake.transport()).statistics()
    assert info.value.status == status and info.value.transient is transient
    assert "went wrong" in str(info.value)


def test_csrf_403_explains_the_cookie(fake: FakeHarbor) -> None:
    fake.on("PUT", "/configurations", lambda r: _errors("FORBIDDEN", "CSRF token invalid", 403))
    with pytest.raises(e.Forbidden, match="must not keep cookies"):
        HarborClient("http://h", transport=fake.transport()).update_configurations({"read_only": True})


@pytest.mark.off_spec("answers Harbor never sends, to test the error mapping")
def test_non_json_body_is_bad_response(fake: FakeHarbor) -> None:
    fake.on("GET", "/statistics", lambda r: httpx.Response(200, text="<html>proxy</html>"))
    with pytest.raises(e.BadResponse, match="expected JSON"):
        HarborClient("http://h", transport=fake.transport()).statistics()
    fake.on("GET", "/health", lambda r: json_response({"status": ["not", "a", "string"]}))
    with pytest.raises(e.BadResponse, match="Health: status"):
        HarborClient("http://h", transport=fake.transport()).health()


def test_secrets_never_in_error_text(fake: FakeHarbor) -> None:
    echo = f"could not bind with password={SECRET} and ldap_search_password {SECRET}"
    fake.on("PUT", "/configurations", lambda r: _errors("BAD_REQUEST", echo, 400))
    fake.on("POST", "/ldap/ping", lambda r: _errors("UNKNOWN", f"dial failed for {SECRET}", 500))
    client = HarborClient("http://h", username="admin", password=SECRET, transport=fake.transport())
    for call in (
        lambda: client.update_configurations({"ldap_search_password": SECRET}),
        lambda: client.ldap_ping({"ldap_url": "ldap://x", "ldap_search_password": SECRET}),
    ):
        with pytest.raises(e.HarborError) as info:
            call()
        assert SECRET not in str(info.value) and SECRET not in repr(info.value)
    assert SECRET not in repr(client)
    assert e.scrub("redis://:pw123@redis:6379 Authorization: Basic YWRtaW4=") == (
        "redis://:********@redis:6379 Authorization: Basic ********"
    )


def test_robot_secret_is_secretstr(fake: FakeHarbor) -> None:
    created = {"id": 4, "name": "robot$fleet", "secret": "R0botSecretValue", "expires_at": -1}
    fake.on("POST", "/robots", lambda r: json_response(created, 201, {"Location": "/api/v2.0/robots/4"}))
    robot = HarborClient("http://h", transport=fake.transport()).create_robot(
        "fleet", [{"kind": "system", "namespace": "/", "access": [{"resource": "audit-log", "action": "list"}]}]
    )
    assert robot.secret.get_secret_value() == "R0botSecretValue"
    assert "R0botSecretValue" not in repr(robot)


def test_retries_only_when_asked_and_only_for_get(fake: FakeHarbor) -> None:
    fake.on("GET", "/statistics", lambda r: _errors("X", "busy", 503))
    fake.on("PUT", "/quotas/1", lambda r: _errors("X", "busy", 503))
    client = HarborClient("http://h", transport=fake.transport(), backoff=0.0)
    with pytest.raises(e.ServerError):
        client.statistics()
    assert len(fake.api_requests("/statistics")) == 1  # default: no retry
    with pytest.raises(e.ServerError):
        client.with_retries(2).statistics()
    assert len(fake.api_requests("/statistics")) == 1 + 3
    with pytest.raises(e.ServerError):
        client.with_retries(2).set_quota(1, -1)
    assert len(fake.api_requests("/quotas/1")) == 1  # never for writes


def test_retry_recovers_a_transient_get(fake: FakeHarbor) -> None:
    answers = iter([_errors("X", "busy", 502), json_response({"total_project_count": 3})])
    fake.on("GET", "/statistics", lambda r: next(answers))
    assert (
        HarborClient("http://h", transport=fake.transport(), retries=1, backoff=0.0).statistics().total_project_count
        == 3
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_connection_refused_is_unreachable_and_transient() -> None:
    port = _free_port()
    with pytest.raises(e.Unreachable) as info:
        HarborClient(f"http://127.0.0.1:{port}", timeout=2).ping()
    assert info.value.transient


def test_async_aiohttp_connection_refused_is_unreachable() -> None:
    import asyncio

    port = _free_port()

    async def run() -> None:
        async with AsyncHarborClient(f"http://127.0.0.1:{port}", timeout=2) as client:
            await client.ping()

    with pytest.raises(e.Unreachable):
        asyncio.run(run())


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    yield srv.getsockname()[1]
    srv.close()


def test_read_timeout_is_timeout(silent_server: int) -> None:
    with pytest.raises(e.Timeout) as info:
        HarborClient(f"http://127.0.0.1:{silent_server}", timeout=0.3).ping()
    assert info.value.transient


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "harbor.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "c.pem", tmp / "k.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class _Ping(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"status": "healthy", "components": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.mark.off_spec("answers Harbor never sends, to test the error mapping")
def test_tls_error_reports_the_presented_certificate(tmp_path: Path) -> None:
    cert_path, key_path = _self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ping)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_path, key_path)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://localhost:{server.server_address[1]}"
    try:
        with pytest.raises(e.TLSError) as info:
            HarborClient(url, timeout=3).health()
        assert info.value.subject == "CN=harbor.test" and info.value.issuer == "CN=harbor.test"
        assert info.value.not_after is not None and info.value.not_after > dt.datetime.now(dt.UTC)
        assert not info.value.transient
        # Trusting that CA (one cached SSLContext per PEM) makes it work.
        assert HarborClient(url, ca_pem=cert_path.read_text(), timeout=3).health().healthy
    finally:
        server.shutdown()
        server.server_close()
