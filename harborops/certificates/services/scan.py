"""Scan endpoints: handshake (in threads), then record chains, findings and rotations.

A scan of the fleet:
1. bring the instance endpoints in step with the fleet;
2. probe every enabled endpoint concurrently (network only, no database in the threads); one
   failing endpoint is a finding on that endpoint, never a stop;
3. record each probe: certificates upserted by fingerprint, the chain replaced when it changed, a
   new server certificate recorded as a rotation (old → new).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.timezone import now

from harborops.certificates import tls
from harborops.certificates.models import Certificate, ChainEntry, Endpoint, Rotation
from harborops.certificates.services.endpoints import sync_instance_endpoints
from harborops.fleet.services.inventory import system_resolver

# Tests set this to map names to 127.0.0.x (they never resolve real names); None = the system resolver.
RESOLVER: tls.Resolver | None = None
CONCURRENCY = 8
TIMEOUT = 5.0


@dataclass
class ScanOutcome:
    endpoint_id: int
    label: str
    status: str
    message: str
    rotated: bool = False


@dataclass
class ScanSummary:
    outcomes: list[ScanOutcome] = field(default_factory=list)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for o in self.outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        rotated = sum(o.rotated for o in self.outcomes)
        parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        return f"{len(self.outcomes)} endpoint(s) scanned" + (f": {parts}" if parts else "") + (
            f"; {rotated} new server certificate(s)" if rotated else "")


def _getcert(endpoint: Endpoint, timeout: float) -> Callable[[], bytes | None] | None:
    instance = endpoint.instance
    if instance is None:
        return None

    def fetch() -> bytes | None:
        with instance.client(timeout=timeout) as client:
            return client.getcert()

    return fetch


def probe_endpoint(endpoint: Endpoint, *, resolver: tls.Resolver | None = None, timeout: float = TIMEOUT) -> tls.Probe:
    """The network part of a scan; touches no database (safe in a thread)."""
    return tls.probe(endpoint.host, endpoint.port, server_name=endpoint.server_name,
                     ca_pem=endpoint.effective_ca_bundle, resolver=resolver or RESOLVER or system_resolver,
                     timeout=timeout, harbor_ca=_getcert(endpoint, timeout))


def _upsert(info: tls.CertInfo) -> Certificate:
    cert, _ = Certificate.objects.get_or_create(fingerprint=info.fingerprint, defaults={
        "pem": info.pem, "subject": info.subject, "common_name": info.common_name[:255], "issuer": info.issuer,
        "serial": info.serial[:128], "not_before": info.not_before, "not_after": info.not_after,
        "dns_names": info.dns_names, "ip_addresses": info.ip_addresses,
        "signature_algorithm": info.signature_algorithm[:64], "key_type": info.key_type[:32],
        "key_size": info.key_size, "is_ca": info.is_ca, "self_signed": info.self_signed})
    return cert


def record_probe(endpoint: Endpoint, probe: tls.Probe, *, at: dt.datetime | None = None) -> ScanOutcome:
    at = at or now()
    with transaction.atomic():
        if probe.error:
            # Unreachable: keep the last chain seen (its expiry still matters), say why.
            Endpoint.objects.filter(pk=endpoint.pk).update(status=probe.status, last_scan_at=at, error=probe.error,
                                                           address=probe.address)
            return ScanOutcome(endpoint.pk, endpoint.label, probe.status, probe.error)
        certs = [_upsert(info) for info in probe.chain]
        current = list(ChainEntry.objects.filter(endpoint=endpoint).order_by("position")
                       .values_list("certificate_id", flat=True))
        if current != [c.pk for c in certs]:
            ChainEntry.objects.filter(endpoint=endpoint).delete()
            ChainEntry.objects.bulk_create([ChainEntry(endpoint=endpoint, certificate=c, position=i)
                                            for i, c in enumerate(certs)])
        leaf = certs[0]
        # The row, not the object we were handed: another scan may have recorded a newer leaf.
        previous = Endpoint.objects.select_for_update().values_list("leaf_id", flat=True).get(pk=endpoint.pk)
        rotated = previous != leaf.pk
        if rotated:
            old = Certificate.objects.filter(pk=previous).first() if previous else None
            Rotation.objects.create(endpoint=endpoint, at=at, old=old, new=leaf)
        Endpoint.objects.filter(pk=endpoint.pk).update(
            status=probe.status, last_scan_at=at, error="", address=probe.address, leaf=leaf,
            checks=[c.as_dict() for c in probe.checks])
    failed = [c.message for c in probe.checks if c.status == tls.FAIL]
    message = "; ".join(failed) if failed else f"{leaf.common_name or leaf.subject}: {leaf.days_left} days left"
    return ScanOutcome(endpoint.pk, endpoint.label, probe.status, message, rotated=rotated and previous is not None)


def scan_endpoints(endpoints: list[Endpoint], *, resolver: tls.Resolver | None = None, timeout: float = TIMEOUT,
                   say: Callable[[str, str], None] | None = None) -> ScanSummary:
    """Probe concurrently, record one by one; ``say(level, text)`` reports each endpoint."""
    summary = ScanSummary()
    for endpoint in endpoints:
        _ = endpoint.instance  # load the relation here: the probing threads must not query the database

    def safe_probe(endpoint: Endpoint) -> tls.Probe:
        try:
            return probe_endpoint(endpoint, resolver=resolver, timeout=timeout)
        except Exception as exc:  # a bug or a surprise on one endpoint must not stop the others
            return tls.Probe(host=endpoint.host, port=endpoint.port, server_name=endpoint.name_to_verify,
                             error=f"internal error: {type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="cert-scan") as pool:
        for endpoint, probe in zip(endpoints, pool.map(safe_probe, endpoints), strict=True):
            outcome = record_probe(endpoint, probe)
            summary.outcomes.append(outcome)
            if say is not None:
                level = "info" if outcome.status == "ok" else "warning" if outcome.status == "warning" else "error"
                say(level, f"{endpoint.label} {endpoint.host}:{endpoint.port}: {outcome.status}: {outcome.message}")
    return summary


def scan_all(*, resolver: tls.Resolver | None = None, timeout: float = TIMEOUT,
             say: Callable[[str, str], None] | None = None) -> ScanSummary:
    sync_instance_endpoints()
    endpoints = list(Endpoint.objects.filter(enabled=True).select_related("instance").order_by("label", "pk"))
    return scan_endpoints(endpoints, resolver=resolver, timeout=timeout, say=say)
