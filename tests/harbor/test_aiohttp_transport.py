"""The async client's aiohttp send path over real sockets: errors classified like the httpx path's,
one session shared by many clients without mixing TLS trust, and the contract gate still seeing
every exchange."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
from collections.abc import Callable, Coroutine, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from harborops.harbor import aio, contract
from harborops.harbor import errors as e
from harborops.harbor.client import AsyncHarborClient
from harborops.harbor.http import install_transport_wrapper, remove_transport_wrapper, wrappers_installed
from tests.support.certs import Issued, make_ca, make_server_cert

STATS = {"private_project_count": 1, "private_repo_count": 2, "public_project_count": 3,
         "public_repo_count": 4, "total_project_count": 4, "total_repo_count": 6, "total_storage_consumption": 7}


class _Handler(BaseHTTPRequestHandler):
    """Answers by path: /api/v2.0/statistics (JSON or what ``server.body`` says), 401 for a wrong
    password, a 200 with garbage, or bytes that are not HTTP at all. Keeps connections alive."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def do_GET(self) -> None:
        self.server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        mode = self.server.mode
        if mode == "not-http":
            self.wfile.write(b"\x00\x01 this is no HTTP answer\r\n\r\n")
            self.close_connection = True
            return
        if mode == "401":
            status, body, ctype = 401, json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "unauthorized"}]}), \
                "application/json"
        elif mode == "garbage":
            status, body, ctype = 200, '{"private_project_count": 1, "tot', "application/json"
        elif mode == "off-spec":
            status, body, ctype = 200, json.dumps({**STATS, "total_project_count": "many"}), "application/json"
        else:
            status, body, ctype = 200, json.dumps(STATS), "application/json"
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header(contract.VERSION_HEADER, "2.13.0")  # which spec the contract gate checks against
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "ok"
        self.connections = 0
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[[Issued | None], _Server]]:
    servers: list[_Server] = []

    def start(cert: Issued | None = None) -> _Server:
        srv = _Server()
        if cert is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            cpath, kpath = cert.write(tmp_path, f"s{len(servers)}")
            ctx.load_cert_chain(cpath, kpath)
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def _url(srv: _Server, scheme: str = "http") -> str:
    return f"{scheme}://127.0.0.1:{srv.server_address[1]}"


@pytest.fixture(params=["direct", "hooked"])
def path(request: pytest.FixtureRequest) -> Iterator[str]:
    """Both ways the aiohttp path sends: straight to aiohttp (no transport wrapper installed, as in
    production) and through the installed wrappers (the suite's contract gate, recording)."""
    if request.param == "direct":
        remove_transport_wrapper(contract.wrap)
        assert not wrappers_installed()
        yield "direct"
        install_transport_wrapper(contract.wrap)  # the suite's fixture removes it again
    else:
        assert wrappers_installed()
        yield "hooked"


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


async def _stats(url: str, **kw: Any) -> Any:
    async with AsyncHarborClient(url, username="admin", password="Harbor12345", **kw) as client:
        return await client.statistics()


def test_a_good_answer_goes_through_aiohttp(server_factory: Callable[..., _Server], path: str) -> None:
    srv = server_factory()
    srv.mode = "ok"
    stats = _run(_stats(_url(srv)))
    assert stats.total_repo_count == 6
    (got_path, headers), = srv.requests
    assert got_path == "/api/v2.0/statistics"
    assert headers["authorization"].startswith("Basic ") and headers["x-request-id"] and "cookie" not in headers
    assert headers["accept"] == "application/json" and headers["user-agent"].startswith("harborops-harbor-client")


def test_refused_is_unreachable(path: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(e.Unreachable) as info:
        _run(_stats(f"http://127.0.0.1:{port}", timeout=2))
    assert info.value.transient and info.value.path == "/statistics"


def test_timeout_is_timeout(path: str) -> None:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)  # accepts, never answers
    try:
        with pytest.raises(e.Timeout) as info:
            _run(_stats(f"http://127.0.0.1:{srv.getsockname()[1]}", timeout=0.3))
        assert info.value.transient
    finally:
        srv.close()


def test_tls_failure_is_tls_error_with_the_presented_certificate(
        server_factory: Callable[..., _Server], path: str) -> None:
    ca = make_ca("Private Root")
    srv = server_factory(make_server_cert(ca, name="harbor.private"))
    with pytest.raises(e.TLSError) as info:
        _run(_stats(_url(srv, "https"), timeout=3))  # system CAs: the private CA is not trusted
    assert "harbor.private" in (info.value.subject or "") and "Private Root" in (info.value.issuer or "")
    assert _run(_stats(_url(srv, "https"), timeout=3, ca_pem=ca.cert_pem, version="2.13.0")).total_repo_count == 6


@pytest.mark.off_spec("answers Harbor never sends, to test the error mapping")
@pytest.mark.parametrize(("mode", "kind"), [("garbage", e.BadResponse), ("not-http", e.Unreachable),
                                            ("401", e.AuthFailed)])
def test_bad_answers_map_like_the_httpx_path(server_factory: Callable[..., _Server], mode: str,
                                             kind: type[e.HarborError]) -> None:
    srv = server_factory()
    srv.mode = mode
    for transport_kind in ("aiohttp", "httpx"):
        with pytest.raises(kind) as info:
            _run(_stats(_url(srv), timeout=3, transport_kind=transport_kind))
        assert "Harbor12345" not in str(info.value)
        if kind is e.AuthFailed:
            assert info.value.status == 401 and not info.value.transient


def test_one_session_never_shares_a_connection_across_ca_bundles(server_factory: Callable[..., _Server]) -> None:
    """Instances with the same bundle reuse a connection; one with another bundle gets its own,
    verified with its own trust (reusing the first's would have let an untrusted server pass)."""
    ca, other = make_ca("Fleet CA"), make_ca("Some Other CA")
    srv = server_factory(make_server_cert(ca))
    url = _url(srv, "https")

    async def run() -> tuple[int, type[BaseException] | None]:
        async with aio.new_session(limit=10) as session:
            for _ in range(3):  # same bundle, one after another: one pooled connection
                await _stats(url, session=session, ca_pem=ca.cert_pem, version="2.13.0")
            reused = srv.connections
            try:
                await _stats(url, session=session, ca_pem=other.cert_pem, version="2.13.0", peek_tls=False)
            except e.HarborError as exc:
                return reused, type(exc)
            return reused, None

    reused, failure = _run(run())
    assert reused == 1, "same-bundle instances should share the pooled connection"
    assert failure is e.TLSError, "an instance with another CA bundle was served over a connection it cannot trust"


def test_the_shared_session_outlives_its_clients(server_factory: Callable[..., _Server]) -> None:
    srv = server_factory()

    async def run() -> bool:
        async with aio.new_session() as session:
            await _stats(_url(srv), session=session, version="2.13.0")
            await _stats(_url(srv), session=session, version="2.13.0")  # the first client's close left it open
            return bool(session.closed)

    assert _run(run()) is False
    assert srv.connections == 1


@pytest.mark.off_spec("tests the contract gate itself on the aiohttp path")
def test_the_contract_gate_catches_a_violation_on_this_path(server_factory: Callable[..., _Server]) -> None:
    srv = server_factory()

    def gate(transport: Any, *, asynchronous: bool) -> Any:
        return contract.wrap(transport, asynchronous=asynchronous, version="2.13.0", mode="raise")

    install_transport_wrapper(gate)
    try:
        srv.mode = "off-spec"  # total_project_count is an integer in Harbor's spec
        with pytest.raises(contract.ContractViolation, match="total_project_count"):
            _run(_stats(_url(srv)))
        srv.mode = "ok"
        contract.reset_coverage()
        _run(_stats(_url(srv)))
        assert ("2.13.0", "GET", "/statistics", 200) in contract.coverage()
    finally:
        remove_transport_wrapper(gate)


def test_aiohttp_errors_are_classified() -> None:
    kw: dict[str, Any] = {"method": "GET", "path": "/x"}
    assert isinstance(aio.map_aiohttp_error(aiohttp.ServerTimeoutError("slow"), **kw), e.Timeout)
    assert isinstance(aio.map_aiohttp_error(aiohttp.ServerDisconnectedError(), **kw), e.Unreachable)
    assert isinstance(aio.map_aiohttp_error(ssl.SSLError(1, "CERTIFICATE_VERIFY_FAILED"), **kw), e.TLSError)


def test_the_direct_path_keeps_no_cookie_keeps_double_encoding_and_sends_json(path: str) -> None:
    """Against the simulator on a real socket, both routes: Harbor's ``sid`` cookie never comes back
    (a write would be a CSRF 403), a repository ``team/app`` stays ``team%252Fapp``, and a JSON body
    arrives as JSON."""
    from harborops.harbor_sim import Fleet, HarborInstance, SimServer, push_artifact

    inst = HarborInstance("2.13.0", session_cookie=True)
    push_artifact(inst, "library", "team/app", "v1", 10)

    async def run(url: str) -> None:
        async with aio.new_session() as session:
            h = AsyncHarborClient(url, username="admin", password="Harbor12345", timeout=5, session=session)
            assert (await h.health()).healthy
            await h.create_project("via-aiohttp")
            await h.create_project("via-aiohttp-2")  # the second write: CSRF 403 if a cookie was kept
            assert [a.digest for a in await h.list_artifacts("library", "team/app")]
            assert {p.name for p in await h.list_projects()} >= {"via-aiohttp", "via-aiohttp-2"}

    with SimServer(Fleet([inst])) as server:
        _run(run(server.instance_url(1)))
