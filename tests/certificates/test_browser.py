"""From the browser: an admin adds TLS endpoints, an operator scans with a real worker, and the
expiry page, its filters and the endpoint's chain show what the scan saw."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from tests.browser.test_job_live import login
from tests.certificates.conftest import Zoo
from tests.certificates.tls_server import TLSServer
from tests.support.processes import start_worker, stop
from tests.support.sshd import REAL_HOST, SSHD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.timeout(120)]


def add_endpoint(page: Page, base: str, label: str, host: str, port: int, ca_pem: str) -> None:
    page.goto(f"{base}/certificates/endpoints/add/")
    page.fill("#id_label", label)
    page.fill("#id_host", host)
    page.fill("#id_port", str(port))
    page.fill("#id_server_name", "harbor.test")
    page.fill("#id_ca_bundle", ca_pem)
    page.click("button:has-text('Save')")
    expect(page.locator("h1")).to_contain_text(label)


def test_an_admin_adds_endpoints_scans_them_and_reads_expiry_and_chain(page: Page, live_server, alice: User,
                                                                       zoo: Zoo, tmp_path: Path):
    foreign: list[str] = []
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(live_server.url) else None)
    login(page, live_server.url, "alice")
    page.click("nav >> text=Certificates")
    expect(page.locator(".empty")).to_contain_text("No certificate seen yet")
    add_endpoint(page, live_server.url, "harbor-vip", *zoo.at("valid"), zoo.root.pem)
    add_endpoint(page, live_server.url, "old-port", *zoo.at("expired"), zoo.root.pem)
    add_endpoint(page, live_server.url, "bad-name", *zoo.at("wrong_host"), zoo.root.pem)

    worker = start_worker(tmp_path / "worker.log")
    try:
        page.click("nav >> text=Certificates")
        page.click("#scan-all")
        expect(page.locator("#job-status-label")).to_have_text("Succeeded", timeout=60_000)
        expect(page.locator("#job-log")).to_contain_text("3 endpoint(s) scanned")
    finally:
        stop(worker)

    page.click("nav >> text=Certificates")
    expect(page.locator('[data-band="expired"] b')).to_have_text("1")
    expect(page.locator('[data-band="ok"] b')).to_have_text("1")  # the intermediate CA: ten years
    expect(page.locator("#expiry-timeline .bar")).to_have_count(14)
    expect(page.locator('#expiry-timeline [data-label="expired"]')).to_have_attribute("data-count", "1")
    rows = page.locator("#expiry-table tbody tr")
    expect(rows).to_have_count(4)  # three server certificates and the intermediate harbor-vip serves
    expect(rows.first).to_contain_text("old-port")
    page.select_option("select[name=band]", "expired")
    expect(rows).to_have_count(1)
    page.select_option("select[name=band]", "")
    page.fill("input[name=label]", "vip")
    expect(rows).to_have_count(2)

    page.click("#expiry-table >> text=harbor-vip >> nth=0")
    expect(page.locator("#endpoint-status")).to_have_text("OK")
    expect(page.locator("details.cert")).to_have_count(2)
    expect(page.locator("details.cert").nth(1)).to_contain_text("CN=Test Intermediate CA")
    expect(page.locator("#history")).to_contain_text("first seen")

    page.goto(f"{live_server.url}/certificates/endpoints/")
    page.click("text=bad-name")
    expect(page.locator("#endpoint-status")).to_have_text("Failing")
    expect(page.locator('[data-check="hostname"]')).to_contain_text("matches no SAN")
    assert not foreign, f"requests left the server: {foreign}"


def test_an_admin_creates_a_ca_issues_a_certificate_and_downloads_it(page: Page, live_server, alice: User,
                                                                     tmp_path: Path):
    from harborops.audit.models import ActionLogEntry
    from harborops.certificates.models import IssuedCertificate, ManagedCA

    login(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/certificates/")
    page.click("text=Managed CAs")
    page.click("text=Create CA")
    page.fill("#id_name", "lab")
    page.select_option("#id_key_type", "ecp256")
    page.fill("#id_days", "730")
    page.click("button[type=submit]:has-text('Create')")
    expect(page.locator("h1")).to_contain_text("lab")
    page.fill("#id_hostname", "harbor.lab.test")
    page.fill("#id_sans", "harbor, 127.0.0.41")
    page.select_option("#id_key_type", "ecp256")
    page.fill("#id_days", "5000")
    page.click("#issue-submit")
    expect(page.locator(".errorlist")).to_contain_text("between 1 and")
    page.fill("#id_days", "365")
    page.click("#issue-submit")
    expect(page.locator("#issued-sans")).to_have_text("harbor.lab.test, harbor, 127.0.0.41")
    assert "PRIVATE KEY" not in page.content()
    with page.expect_download() as chain:
        page.click("#download-chain")
    assert chain.value.suggested_filename == "harbor.lab.test-chain.crt"
    chain_path = tmp_path / "chain.crt"
    chain.value.save_as(chain_path)
    assert chain_path.read_text().count("BEGIN CERTIFICATE") == 2
    with page.expect_download() as bundle:
        page.click("#download-bundle")
    bundle_path = tmp_path / "bundle.pem"
    bundle.value.save_as(bundle_path)
    issued = IssuedCertificate.objects.get()
    assert bundle_path.read_text().startswith(issued.private_key.strip())
    assert ActionLogEntry.objects.filter(action="certificates.issued.export_key", actor_name="alice").exists()
    assert ManagedCA.objects.get(name="lab").issued.count() == 1


def test_an_admin_pushes_the_ca_to_a_pulling_host_and_the_matrix_turns_ok(
        page: Page, live_server, alice: User, sshd: SSHD, fake_root: Path, tmp_path: Path):
    from harborops.certificates.models import Endpoint
    from harborops.certificates.services import ca as ca_services
    from harborops.core.actor import Actor
    from harborops.ssh.models import SSHHost

    ca = ca_services.create_ca(actor=Actor.system("test"), name="corp", key_type="ecp256", days=365)
    issued = ca_services.issue_certificate(ca, actor=Actor.system("test"), hostname="harbor.test", days=30,
                                           key_type="ecp256")
    (tmp_path / "chain.crt").write_text(issued.chain_pem())
    (tmp_path / "server.key").write_text(issued.private_key)
    SSHHost.objects.create(name="node-1", address=REAL_HOST, port=sshd.port, username=sshd.user,
                           private_key=sshd.private_key, host_key=sshd.host_public_key, role="docker")
    with TLSServer(tmp_path / "chain.crt", tmp_path / "server.key", host="127.0.0.60") as registry:
        endpoint = Endpoint.objects.create(label="harbor", host="127.0.0.60", port=registry.port,
                                           server_name="harbor.test")
        login(page, live_server.url, "alice")
        page.goto(f"{live_server.url}/certificates/endpoints/{endpoint.pk}/edit/")
        page.select_option("#id_trust_ca", label="corp")
        page.click("button:has-text('Save')")
        page.goto(f"{live_server.url}/certificates/trust/")
        expect(page.locator(".empty")).to_contain_text("No pulling host yet")
        page.select_option("#id_host", label="node-1")
        page.select_option("#id_runtime", "docker")
        page.fill("#id_path_prefix", str(fake_root))
        page.click("#add-pulling-host")
        cell = page.locator('td.trust-cell[data-endpoint="harbor"]')
        expect(cell).to_have_attribute("data-state", "unchecked")
        worker = start_worker(tmp_path / "worker.log")
        try:
            cell.locator("button:has-text('Push')").click()
            expect(page.locator("#job-status-label")).to_have_text("Succeeded", timeout=60_000)
            expect(page.locator("#job-log")).to_contain_text("no daemon restart needed")
        finally:
            stop(worker)
        page.goto(f"{live_server.url}/certificates/trust/")
        expect(cell).to_have_attribute("data-state", "ok")
        expect(cell).to_contain_text("verified harbor.test")
    assert (fake_root / f"etc/docker/certs.d/harbor.test:{registry.port}/ca.crt").read_text() == ca.certificate


def test_the_demo_certificate_pages_render_with_local_assets_only(page: Page, live_server, alice: User):
    """Also writes the README screenshots of the certificate pages with HARBOROPS_UPDATE_SCREENSHOTS=1."""
    import os

    from harborops.certificates import demo
    from harborops.certificates.models import Endpoint, ManagedCA
    from harborops.certificates.services import scan
    from harborops.core.actor import Actor

    servers, endpoints = demo.start("127.0.0.1", Actor.system("test"))
    try:
        scan.scan_endpoints(endpoints, timeout=5.0)
    finally:
        for server in servers:
            server.stop()
    foreign: list[str] = []
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith((live_server.url, "data:")) else None)
    out = Path(__file__).resolve().parents[2] / "docs" / "screenshots" \
        if os.environ.get("HARBOROPS_UPDATE_SCREENSHOTS") else None
    page.set_viewport_size({"width": 1280, "height": 800})
    login(page, live_server.url, "alice")
    missing = Endpoint.objects.get(label="demo-tls-missing-intermediate")
    pages = [("certificates", "/certificates/", "Certificates"),
             ("certificates-endpoint", f"/certificates/endpoints/{missing.pk}/", "demo-tls-missing-intermediate"),
             ("certificates-ca", f"/certificates/cas/{ManagedCA.objects.get(name='demo-ca').pk}/", "demo-ca"),
             ("certificates-trust", "/certificates/trust/", "CA trust on pulling hosts")]
    for name, path, heading in pages:
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("h1")).to_contain_text(heading)
        if out is not None:
            page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    page.goto(f"{live_server.url}/certificates/")
    expect(page.locator('[data-band="expired"] b')).to_have_text("1")
    expect(page.locator('[data-band="7"] b')).to_have_text("1")
    expect(page.locator('[data-band="30"] b')).to_have_text("1")
    assert not foreign, f"requests left the server: {foreign}"


def test_an_admin_rotates_a_managed_instance_sees_a_restore_then_renews_and_the_served_certificate_changes(
        page: Page, live_server, alice: User, managed_hosts, no_getcert: None, tmp_path: Path):
    from harborops.certificates.models import Deployment
    from harborops.certificates.services import ca as ca_services
    from harborops.certificates.services import disk, rotation, scan
    from harborops.core.actor import Actor
    from tests.support.sshd import FAKE_HOSTS

    actor = Actor.system("test")
    ca = ca_services.create_ca(actor=actor, name="corp", key_type="ecp256", days=365)
    old = ca_services.issue_certificate(ca, actor=actor, hostname=FAKE_HOSTS[0], days=30, key_type="ecp256")
    host = managed_hosts(FAKE_HOSTS[0], old, name="managed-1")
    scan.scan_all()
    disk.observe_all()
    other = ca_services.issue_certificate(ca, actor=actor, hostname=FAKE_HOSTS[0], days=90, key_type="ecp256")
    host.fail_next_prepare()

    login(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/certificates/")
    page.click("h1 >> text=Managed hosts")
    section = page.locator('section.managed-target[data-host="harbor-127.0.0.2"]')
    expect(section.locator('tr[data-kind="https_certificate"]')).to_have_attribute("data-matches", "yes")
    worker = start_worker(tmp_path / "worker.log")
    try:
        section.locator('[data-rotate="managed-1"]').click()
        expect(page.locator("#members")).to_contain_text("harbor-127.0.0.2")
        page.select_option("#id_issued", str(other.pk))
        page.click("#start-rotation")
        page.click("#rotation-job")
        expect(page.locator("#job-status-label")).to_have_text("Failed", timeout=60_000)
        expect(page.locator("#job-log")).to_contain_text("restored the previous certificate")
        assert rotation.served_fingerprint(host.address, host.port)[0] == old.fingerprint

        page.goto(f"{live_server.url}/certificates/managed/")
        section.locator('[data-renew="managed-1"]').click()
        page.click("#rotation-job")
        expect(page.locator("#job-status-label")).to_have_text("Succeeded", timeout=60_000)
        expect(page.locator("#job-log")).to_contain_text("verified")
    finally:
        stop(worker)
    renewal = Deployment.objects.get(renewal_of=old)
    assert rotation.served_fingerprint(host.address, host.port)[0] == renewal.issued.fingerprint
    import os

    shots = Path(__file__).resolve().parents[2] / "docs" / "screenshots" \
        if os.environ.get("HARBOROPS_UPDATE_SCREENSHOTS") else None
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/certificates/rotations/{renewal.pk}/")
    expect(page.locator("#deployment-status")).to_have_attribute("data-status", "succeeded")
    if shots is not None:
        page.screenshot(path=str(shots / "certificates-rotation.png"), full_page=True)
    page.goto(f"{live_server.url}/certificates/managed/")
    expect(section).to_contain_text(renewal.issued.fingerprint[:23])
    expect(section.locator('tr[data-kind="https_certificate"]')).to_have_attribute("data-matches", "yes")
    if shots is not None:
        page.screenshot(path=str(shots / "certificates-managed.png"), full_page=True)
