"""Certificate alert conditions (the contract in harborops/core/conditions.py), from stored data only.

* ``certificates.expired`` — a served certificate (any in the chain) or a certificate file on a
  managed host is past its not-after;
* ``certificates.expires_30d`` / ``_14d`` / ``_7d`` / ``_1d`` — days left in that band, one key per
  band (only the tightest band applies), so each fires once as the date comes closer, severity rising;
* ``certificates.chain_invalid`` — the last scan failed the hostname, trust, completeness or
  strength check (hostname mismatch, untrusted, missing intermediate, weak key or SHA-1);
* ``certificates.disk_differs`` — a managed host's ``https.certificate`` file is not what its
  endpoint serves (renewed without ``./prepare`` and a restart), or the key does not match it;
* ``certificates.trust_drift`` — a trust-matrix cell that is not OK.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.urls import reverse

from harborops.certificates.models import ChainEntry, DiskFile, Endpoint, TrustState
from harborops.core.conditions import Occurrence, Severity, conditions

# (key, days below which it applies, severity), tightest first.
EXPIRY_BANDS: tuple[tuple[str, int, Severity], ...] = (
    ("certificates.expires_1d", 1, "critical"),
    ("certificates.expires_7d", 7, "warning"),
    ("certificates.expires_14d", 14, "warning"),
    ("certificates.expires_30d", 30, "info"),
)
CHAIN_CHECKS = ("hostname", "trust", "complete", "strength")

TITLES = {
    "certificates.expired": "certificate expired",
    "certificates.expires_1d": "certificate expires within 1 day",
    "certificates.expires_7d": "certificate expires within 7 days",
    "certificates.expires_14d": "certificate expires within 14 days",
    "certificates.expires_30d": "certificate expires within 30 days",
    "certificates.chain_invalid": "certificate chain invalid",
    "certificates.disk_differs": "served certificate differs from the file on disk",
    "certificates.trust_drift": "CA trust on a pulling host drifted",
}


# What the occurrences read, and nothing else: the rows come with large columns (PEM, checks, install
# steps) and encrypted ones (an SSH host's key, decrypted for each row loaded), thousands of them per call.
CHAIN_FIELDS = ("position", "certificate__fingerprint", "certificate__not_after", "certificate__common_name",
                "certificate__subject", "certificate__issuer", "endpoint__label", "endpoint__host", "endpoint__port",
                "endpoint__instance")
FILE_FIELDS = ("target", "path", "kind", "fingerprint", "served_fingerprint", "subject", "not_after",
               "matches_served", "key_matches", "target__instance", "target__host__name")
TRUST_FIELDS = ("state", "message", "path", "pulling_host__runtime", "pulling_host__host__name", "endpoint__label",
                "endpoint__instance")


def expiry_condition(not_after: dt.datetime, at: dt.datetime) -> tuple[str, Severity] | None:
    seconds = (not_after - at).total_seconds()
    if seconds <= 0:
        return "certificates.expired", "critical"
    for key, days, severity in EXPIRY_BANDS:
        if seconds < days * 86400:
            return key, severity
    return None


def _left(not_after: dt.datetime, at: dt.datetime) -> str:
    seconds = (not_after - at).total_seconds()
    if seconds <= 0:
        return f"expired {not_after:%Y-%m-%d %H:%M} UTC"
    return f"expires {not_after:%Y-%m-%d %H:%M} UTC ({int(seconds // 86400)} days left)"


def _endpoint_link(endpoint: Endpoint) -> str:
    return reverse("certificates:endpoint_detail", args=[endpoint.pk])


def _expiry(at: dt.datetime) -> Iterator[Occurrence]:
    entries = (ChainEntry.objects.filter(endpoint__enabled=True).select_related("certificate", "endpoint")
               .only(*CHAIN_FIELDS).order_by("endpoint_id", "position"))
    for entry in entries:
        cert, endpoint = entry.certificate, entry.endpoint
        found = expiry_condition(cert.not_after, at)
        if found is None:
            continue
        key, severity = found
        role = "server certificate" if entry.position == 0 else f"chain certificate #{entry.position}"
        yield Occurrence(
            key, f"endpoint:{endpoint.pk}:cert:{cert.fingerprint}", severity,
            f"{endpoint.label} ({endpoint.host}:{endpoint.port}): {role} {cert.common_name or cert.subject} "
            f"{_left(cert.not_after, at)}",
            details=f"fingerprint {cert.fingerprint}; issuer {cert.issuer}", link=_endpoint_link(endpoint),
            instance_id=endpoint.instance_id, labels={"band": key.rsplit(".", 1)[1], "endpoint": endpoint.label})
    files = DiskFile.objects.exclude(not_after=None).select_related("target__host").only(*FILE_FIELDS)
    for row in files:
        assert row.not_after is not None
        found = expiry_condition(row.not_after, at)
        if found is None:
            continue
        key, severity = found
        yield Occurrence(
            key, f"file:{row.target_id}:{row.path}", severity,
            f"{row.target.host.name}: {row.path} ({row.get_kind_display()}) {_left(row.not_after, at)}",
            details=f"fingerprint {row.fingerprint}; {row.subject}", link=reverse("certificates:managed_list"),
            instance_id=row.target.instance_id, labels={"band": key.rsplit(".", 1)[1], "host": row.target.host.name})


def _chains() -> Iterator[Occurrence]:
    for endpoint in Endpoint.objects.filter(enabled=True).exclude(leaf=None).order_by("pk"):
        failed = [c for c in endpoint.failed_checks() if c.get("name") in CHAIN_CHECKS]
        if not failed:
            continue
        names = sorted({c["name"] for c in failed})
        yield Occurrence(
            "certificates.chain_invalid", f"endpoint:{endpoint.pk}", "critical" if "trust" in names else "warning",
            f"{endpoint.label} ({endpoint.host}:{endpoint.port}): " + "; ".join(c.get("message", "") for c in failed),
            details=f"failed checks: {', '.join(names)}", link=_endpoint_link(endpoint),
            instance_id=endpoint.instance_id, labels={"checks": ",".join(names)})


def _disk() -> Iterator[Occurrence]:
    rows = DiskFile.objects.filter(kind__in=(DiskFile.Kind.HTTPS_CERTIFICATE, DiskFile.Kind.HTTPS_PRIVATE_KEY)) \
        .select_related("target__host").only(*FILE_FIELDS)
    for row in rows:
        host = row.target.host.name
        if row.matches_served is False:
            yield Occurrence(
                "certificates.disk_differs", f"file:{row.target_id}:{row.path}", "warning",
                f"{host}: {row.path} holds {row.fingerprint[:23]}… but the endpoint serves "
                f"{row.served_fingerprint[:23]}…: run ./prepare and recreate the containers (or rotate)",
                link=reverse("certificates:managed_list"), instance_id=row.target.instance_id, labels={"host": host})
        elif row.key_matches is False:
            yield Occurrence(
                "certificates.disk_differs", f"file:{row.target_id}:{row.path}", "critical",
                f"{host}: the key {row.path} does not belong to the certificate harbor.yml names: "
                "nginx will not start with this pair", link=reverse("certificates:managed_list"),
                instance_id=row.target.instance_id, labels={"host": host})


def _trust() -> Iterator[Occurrence]:
    cells = TrustState.objects.exclude(state=TrustState.State.OK).select_related(
        "pulling_host__host", "endpoint").only(*TRUST_FIELDS).order_by("pk")
    link = reverse("certificates:trust_matrix")  # once: ~40 µs a call, for hundreds of cells
    for cell in cells:
        yield Occurrence(
            "certificates.trust_drift", f"trust:{cell.pulling_host_id}:{cell.endpoint_id}", "warning",
            f"{cell.pulling_host} × {cell.endpoint.label}: {cell.get_state_display()}: {cell.message}"[:500],
            details=cell.path, link=link, instance_id=cell.endpoint.instance_id,
            labels={"state": cell.state, "host": cell.pulling_host.host.name})


@conditions("certificates", TITLES)
def certificate_conditions(at: dt.datetime) -> Iterator[Occurrence]:
    yield from _expiry(at)
    yield from _chains()
    yield from _disk()
    yield from _trust()


def attention(at: dt.datetime) -> list[Occurrence]:
    """The conditions in order of severity, for the pages and the API."""
    order = {"critical": 0, "warning": 1, "info": 2}
    return sorted(certificate_conditions(at), key=lambda o: (order[o.severity], o.condition, o.summary))
