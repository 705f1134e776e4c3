"""The scan against real TLS servers on 127.0.0.x: every kind of certificate gives its finding."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from harborops.certificates import tls
from harborops.certificates.models import Certificate, ChainEntry, Endpoint, Rotation
from harborops.certificates.services import scan
from harborops.certificates.services.endpoints import sync_instance_endpoints
from harborops.fleet.models import Instance
from harborops.harbor_sim import Fleet, SimServer
from harborops.harbor_sim.server import ssl_context
from tests.certificates import pki
from tests.certificates.conftest import Zoo
from tests.certificates.tls_server import TLSServer
from tests.fleet.conftest import ADMIN_PASSWORD

pytestmark = [pytest.mark.embedded, pytest.mark.timeout(60)]


def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"tests never resolve real names ({host})")


# kind: (failing checks, a word each failing message must contain)
EXPECTED: dict[str, dict[str, str]] = {
    "valid": {},
    "openssl_valid": {},
    "missing_intermediate": {"trust": "local issuer", "complete": "missing intermediate"},
    "expired": {"trust": "expired", "validity": "expired"},
    "not_yet_valid": {"trust": "not yet valid", "validity": "not valid before"},
    "wrong_host": {"hostname": "matches no SAN"},
    "cn_only": {"hostname": "only the subject CN"},
    "openssl_self_signed": {"trust": "self-signed"},
    "openssl_sha1": {"trust": "too weak", "strength": "SHA1"},
    "openssl_rsa1024": {"trust": "too weak", "strength": "RSA 1024"},
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_it_finds_what_is_wrong_with_each_kind_of_certificate(zoo: Zoo, kind: str):
    host, port = zoo.at(kind)
    ca = zoo.openssl_ca.pem if kind.startswith("openssl") else zoo.root.pem
    probe = tls.probe(host, port, server_name="harbor.test", ca_pem=ca, resolver=no_dns)
    assert not probe.error
    failed = {c.name: c.message for c in probe.checks if c.status == "fail"}
    assert set(failed) == set(EXPECTED[kind]), failed
    for name, word in EXPECTED[kind].items():
        assert word in failed[name], failed[name]
    assert probe.status == ("failing" if EXPECTED[kind] else "ok")


def test_it_stores_the_full_presented_chain_parsed(zoo: Zoo):
    host, port = zoo.at("valid")
    probe = tls.probe(host, port, server_name="harbor.test", ca_pem=zoo.root.pem, resolver=no_dns)
    leaf, inter = probe.chain
    assert leaf.subject == "CN=harbor.test,O=harborops tests"
    assert inter.subject == "CN=Test Intermediate CA,O=harborops tests"
    assert leaf.issuer == inter.subject and leaf.dns_names == ["harbor.test"] and not leaf.is_ca and inter.is_ca
    assert leaf.key_type == "EC secp256r1" and leaf.key_size == 256
    assert leaf.signature_algorithm == "ecdsa-with-SHA256" and len(leaf.fingerprint.split(":")) == 32
    openssl = tls.probe(*zoo.at("openssl_valid"), server_name="harbor.test", ca_pem=zoo.openssl_ca.pem,
                        resolver=no_dns)
    assert openssl.chain[0].key_type == "RSA" and openssl.chain[0].key_size == 4096
    assert openssl.chain[0].signature_algorithm == "sha512WithRSAEncryption"


def test_it_resolves_names_only_through_the_injected_resolver_and_sends_sni(zoo: Zoo):
    host, port = zoo.at("valid")
    asked: list[tuple[str, int]] = []

    def resolver(name: str, p: int) -> list[str]:
        asked.append((name, p))
        return [host]

    probe = tls.probe("harbor.test", port, ca_pem=zoo.root.pem, resolver=resolver)
    assert asked == [("harbor.test", port)] and probe.address == host and probe.status == "ok"


def test_an_unreachable_endpoint_is_a_finding_not_a_crash():
    probe = tls.probe("127.0.0.1", 9, resolver=no_dns, timeout=2)
    assert probe.status == "unreachable" and "refused" in probe.error.lower()


@pytest.mark.django_db
def test_a_scan_records_chains_and_a_new_fingerprint_is_a_rotation(zoo: Zoo, tmp_path: Path):
    old = pki.make_leaf(tmp_path, "old", zoo.root, ips=("127.0.0.20",))
    new = pki.make_leaf(tmp_path, "new", zoo.root, ips=("127.0.0.20",), days=365)
    with TLSServer(old.chain, old.key, host="127.0.0.20") as first:
        endpoint = Endpoint.objects.create(label="lb", host="127.0.0.20", port=first.port, ca_bundle=zoo.root.pem)
        broken = Endpoint.objects.create(label="dead", host="127.0.0.1", port=9)
        result = scan.scan_endpoints([broken, endpoint], resolver=no_dns, timeout=2)
        assert [o.status for o in result.outcomes] == ["unreachable", "ok"]  # one dead endpoint stops nothing
    endpoint.refresh_from_db()
    first_leaf = endpoint.leaf
    assert first_leaf is not None and first_leaf.pem.strip() == old.pem.strip()
    assert Rotation.objects.get(endpoint=endpoint).old is None  # the first sighting
    with TLSServer(new.chain, new.key, host="127.0.0.20") as second:
        Endpoint.objects.filter(pk=endpoint.pk).update(port=second.port)
        endpoint.refresh_from_db()
        outcome = scan.scan_endpoints([endpoint], resolver=no_dns).outcomes[0]
        assert outcome.rotated
        scan.scan_endpoints([endpoint], resolver=no_dns)  # the same certificate again: no new rotation
    rotation = Rotation.objects.filter(endpoint=endpoint).first()
    assert rotation is not None and rotation.old == first_leaf and rotation.new.pem.strip() == new.pem.strip()
    assert Rotation.objects.filter(endpoint=endpoint).count() == 2
    assert list(ChainEntry.objects.filter(endpoint=endpoint).values_list("certificate__fingerprint", flat=True)) == [
        rotation.new.fingerprint]
    broken.refresh_from_db()
    assert broken.status == "unreachable" and broken.error and broken.leaf is None
    assert Certificate.objects.count() == 2


@pytest.mark.django_db
def test_instances_are_endpoints_and_getcert_must_be_the_chains_root(zoo: Zoo, tmp_path: Path):
    """Two simulated Harbors over TLS: one offers the CA that issued its certificate, one another CA."""
    served = pki.make_leaf(tmp_path, "harbor", zoo.root, ips=("127.0.0.1",))
    other = pki.make_authority("Unrelated CA")
    fleet = Fleet.create(2, "2.13.0", ca_cert=zoo.root.pem.encode())
    fleet[2].ca_cert = other.pem.encode()
    with SimServer(fleet, ssl=ssl_context(str(served.chain), str(served.key))) as server:
        good = Instance.objects.create(name="eu-1", url=server.instance_url(1), username="admin",
                                       password=ADMIN_PASSWORD, ca_bundle=zoo.root.pem)
        bad = Instance.objects.create(name="eu-2", url=server.instance_url(2), username="admin",
                                      password=ADMIN_PASSWORD, ca_bundle=zoo.root.pem)
        Instance.objects.create(name="plain", url="http://127.0.0.1:9/h/3", username="admin", password="x")
        assert sync_instance_endpoints() == 2
        summary = scan.scan_all(resolver=no_dns)
    assert "2 endpoint(s) scanned" in summary.summary()
    good_ep, bad_ep = Endpoint.objects.get(instance=good), Endpoint.objects.get(instance=bad)
    checks = {c["name"]: c for c in good_ep.checks}
    assert checks["harbor_ca"]["status"] == "ok" and good_ep.status == "ok", good_ep.checks
    bad_checks = {c["name"]: c for c in bad_ep.checks}
    assert bad_checks["harbor_ca"]["status"] == "fail" and "Unrelated CA" in bad_checks["harbor_ca"]["message"]
    Instance.objects.filter(pk=bad.pk).update(enabled=False)
    assert sync_instance_endpoints() == 1 and not Endpoint.objects.filter(instance=bad).exists()


def test_bands_follow_days_left():
    from harborops.certificates.models import band_of

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    days = [-1, 3, 20, 60, 200]
    assert [band_of(now + dt.timedelta(days=d), now) for d in days] == ["expired", "7", "30", "90", "ok"]
