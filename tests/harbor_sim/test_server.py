"""The simulator on real sockets: faults with real timeouts, TLS, many instances, the CLI."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harborops.harbor import contract
from harborops.harbor_sim import (
    AsyncSimTransport,
    Faults,
    Fleet,
    Latency,
    SimServer,
    SimTransport,
    push_artifact,
)
from tests.harbor_sim.conftest import ADMIN, drop_cookies

TIMEOUT = httpx.Timeout(10.0)  # generous: a loaded machine is slow, not broken
HANG_TIMEOUT = httpx.Timeout(2.0, read=0.5)


@pytest.fixture
def served() -> Iterator[tuple[Fleet, SimServer]]:
    fleet = Fleet.create(3, ["2.8.0", "2.13.0", "2.15.0"])
    with SimServer(fleet) as server:
        yield fleet, server


def client(server: SimServer, n: int, **kw: object) -> httpx.Client:
    transport = contract.ContractTransport(httpx.HTTPTransport(), mode="record")
    return httpx.Client(
        transport=transport,
        base_url=server.instance_url(n) + "/api/v2.0",
        auth=ADMIN,
        timeout=kw.pop("timeout", TIMEOUT),
        event_hooks={"request": [drop_cookies]},
        **kw,
    )  # type: ignore[arg-type]


def test_instances_behind_one_port_answer_with_their_version(served: tuple[Fleet, SimServer]) -> None:
    _, server = served
    for n, version in ((1, "2.8.0"), (2, "2.13.0"), (3, "2.15.0")):
        with client(server, n) as c:
            r = c.get("/systeminfo")
            assert r.headers["X-Harborops-Sim-Version"] == version
            assert r.json()["harbor_version"].startswith(f"v{version}-")
            assert c.get("/ping").text == "Pong"
    assert httpx.get(server.base_url + "/h/9/api/v2.0/ping").status_code == 404


def test_double_encoded_repository_names_survive_the_socket(served: tuple[Fleet, SimServer]) -> None:
    fleet, server = served
    push_artifact(fleet[2], "library", "team/app", "v1", 10)
    with client(server, 2) as c:
        assert c.get("/projects/library/repositories/team%252Fapp").json()["name"] == "library/team/app"


def test_hang_times_out_on_the_client(served: tuple[Fleet, SimServer]) -> None:
    fleet, server = served
    fleet[1].faults = Faults(hang_rate=1.0, path_pattern="^/health")
    with client(server, 1, timeout=HANG_TIMEOUT) as c:
        t0 = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            c.get("/health")
        assert time.monotonic() - t0 < 5
        assert c.get("/ping").status_code == 200  # other paths unaffected


def test_slow_body_trips_a_read_timeout_but_arrives_whole_with_patience(served: tuple[Fleet, SimServer]) -> None:
    fleet, server = served
    fleet[1].faults = Faults(slow_body_rate=1.0, slow_chunk=64, slow_interval=0.1)
    with client(server, 1) as c:
        with pytest.raises(httpx.ReadTimeout):
            c.get("/health", timeout=httpx.Timeout(2.0, read=0.05))
        r = c.get("/health", timeout=httpx.Timeout(10.0))
        assert r.json()["status"] == "healthy"


def test_connection_reset(served: tuple[Fleet, SimServer]) -> None:
    fleet, server = served
    fleet[2].faults = Faults(reset_rate=1.0)
    with client(server, 2) as c, pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        c.get("/ping")


def test_malformed_bodies_errors_and_forced_status(served: tuple[Fleet, SimServer]) -> None:
    fleet, server = served
    with httpx.Client(
        base_url=server.instance_url(3) + "/api/v2.0",
        auth=ADMIN,
        timeout=TIMEOUT,
        event_hooks={"request": [drop_cookies]},
    ) as c:
        fleet[3].faults = Faults(malformed_rate=1.0)
        r = c.get("/projects")
        assert r.status_code == 200
        with pytest.raises(ValueError, match=r"Expecting|Unterminated|Extra|Invalid"):
            r.json()
        fleet[3].faults = Faults(error_rate=1.0)
        r = c.get("/projects")
        assert r.status_code == 500 and r.json()["errors"][0]["code"] == "UNKNOWN"
        fleet[3].faults = Faults(force_status=401)
        assert c.get("/projects").status_code == 401
        fleet[3].faults = Faults(error_rate=0.5, seed=7)
        codes = {c.get("/ping").status_code for _ in range(40)}
        assert codes == {200, 500}


def test_latency_does_not_block_other_requests(served: tuple[Fleet, SimServer]) -> None:
    """Ordering, not timing: 20 requests to a fast instance all finish while one request to an
    instance with 5 s of latency is still pending (they are not serialised behind it)."""
    fleet, server = served
    fleet[1].faults = Faults(latency=Latency("fixed", 5000))
    fleet[2].faults = Faults(latency=Latency("normal", 5, 2))

    async def run() -> tuple[bool, list[int]]:
        async with httpx.AsyncClient(timeout=10) as c:
            slow = asyncio.create_task(c.get(server.instance_url(1) + "/api/v2.0/ping"))
            await asyncio.sleep(0.05)
            fast = await asyncio.gather(*(c.get(server.instance_url(2) + "/api/v2.0/ping") for _ in range(20)))
            slow_still_pending = not slow.done()
            slow.cancel()
            return slow_still_pending, [r.status_code for r in fast]

    slow_still_pending, codes = asyncio.run(run())
    assert codes == [200] * 20
    assert slow_still_pending


def test_throughput_sanity_many_instances_concurrent_clients() -> None:
    """Functional only (no timing): 3,000 concurrent requests over 50 instances all succeed.
    aiohttp as the client: httpx's own pool is the bottleneck at this concurrency (see DESIGN.md)."""
    import aiohttp

    fleet = Fleet.create(50, ["2.8.0", "2.13.0"])
    headers = {"Authorization": aiohttp.encode_basic_auth(*ADMIN)}
    with SimServer(fleet) as server:

        async def run() -> list[int]:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50), headers=headers) as s:

                async def one(i: int) -> int:
                    async with s.get(f"{server.instance_url(i % 50 + 1)}/api/v2.0/projects") as r:
                        assert len(await r.json()) == 1
                        return r.status

                return await asyncio.gather(*(one(i) for i in range(3000)))

        assert asyncio.run(run()) == [200] * 3000
    assert sum(inst.requests_served for inst in fleet) == 3000


def test_one_port_per_instance() -> None:
    fleet = Fleet.create(2, "2.6.0")
    with SimServer(fleet, per_instance_ports=True) as server:
        assert len(set(server.ports)) == 2
        for url in server.urls():
            assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
            assert httpx.get(url + "/api/v2.0/ping").text == "Pong"


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "harbor-sim")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def test_tls_with_a_self_signed_certificate(tmp_path: Path) -> None:
    import ssl

    from harborops.harbor_sim.server import ssl_context

    cert, key = _self_signed(tmp_path)
    fleet = Fleet.create(1, "2.15.0", ca_cert=cert.read_bytes())
    with SimServer(fleet, ssl=ssl_context(str(cert), str(key))) as server:
        assert server.instance_url(1).startswith("https://127.0.0.1:")
        verify = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(base_url=server.instance_url(1) + "/api/v2.0", verify=verify, timeout=5) as c:
            assert c.get("/ping").text == "Pong"
            got = c.get("/systeminfo/getcert")
            assert got.headers["Content-Disposition"] == "attachment; filename=ca.crt"
            assert got.content == cert.read_bytes()
        with pytest.raises(httpx.ConnectError):
            httpx.get(server.instance_url(1) + "/api/v2.0/ping", timeout=5)  # untrusted by default


def test_in_process_transports_turn_faults_into_httpx_errors() -> None:
    fleet = Fleet.create(1, "2.13.0")
    fleet[1].faults = Faults(hang_rate=1.0)
    with (
        httpx.Client(transport=SimTransport(fleet), base_url="http://sim/h/1/api/v2.0") as c,
        pytest.raises(httpx.ReadTimeout),
    ):
        c.get("/ping")
    fleet[1].faults = Faults(latency=Latency("fixed", 50))

    async def run() -> float:
        async with httpx.AsyncClient(transport=AsyncSimTransport(fleet), base_url="http://sim/h/1/api/v2.0") as c:
            t0 = time.monotonic()
            r = await c.get("/ping")
            assert r.text == "Pong"
            return time.monotonic() - t0

    assert asyncio.run(run()) >= 0.05


def test_cli_prints_urls_and_credentials_and_serves() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harborops.harbor_sim",
            "--instances",
            "2",
            "--port",
            "0",
            "--version",
            "2.8,2.15",
            "--seed-audit",
            "1000",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(2)]
        assert "v2.8.0" in lines[0] and "v2.15.0" in lines[1]
        url = re.search(r"(http://\S+)", lines[1])
        assert url and lines[1].endswith("admin / Harbor12345")
        r = httpx.get(url.group(1) + "/api/v2.0/auditlog-exts", auth=ADMIN, timeout=5)
        assert r.headers["X-Total-Count"] == "1000"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
