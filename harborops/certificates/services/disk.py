"""Over SSH, the certificate files of the instances harborops manages.

Per install target: ``harbor.yml``'s ``https.certificate`` and ``https.private_key`` and, when
``internal_tls.enabled``, every ``*.crt`` of its ``dir`` (default /etc/harbor/tls/internal):
expiry, and whether the served certificate (the instance endpoint's last scan) is the file on
disk — a renewed file without ``./prepare`` and a restart is a finding. The private key is never
read here: its public half is computed on the host (``openssl pkey -pubout``) and compared with
the certificate file's.
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.db import transaction
from django.utils.timezone import now

from harborops.certificates import tls
from harborops.certificates.models import DiskFile, Endpoint
from harborops.certificates.services import managed
from harborops.installs.models import InstallTarget
from harborops.ssh import client

Say = Callable[[str, str], None]
K = DiskFile.Kind


def _parse(text: str | None) -> tuple[x509.Certificate | None, str]:
    if text is None:
        return None, "the file does not exist"
    try:
        certs = x509.load_pem_x509_certificates(text.encode())
    except ValueError:
        return None, "no PEM certificate in the file"
    return (certs[0], "") if certs else (None, "no PEM certificate in the file")


def _served(target: InstallTarget) -> str:
    if target.instance_id is None:
        return ""
    endpoint = Endpoint.objects.filter(instance_id=target.instance_id).select_related("leaf").first()
    return endpoint.leaf.fingerprint if endpoint is not None and endpoint.leaf is not None else ""


def _public_pem(cert: x509.Certificate) -> str:
    return cert.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo).decode().strip()


def observe_target(target: InstallTarget) -> list[DiskFile]:
    """Read the files, store one row per path (rows of paths no longer named are dropped). A host that
    cannot be reached stores one row saying why (on harbor.yml's path)."""
    served = _served(target)
    rows: list[DiskFile] = []
    at = now()
    try:
        with target.host.connect() as ssh:
            conf = managed.read_config(ssh, target.install)
            cert: x509.Certificate | None = None
            if conf.certificate:
                cert, error = _parse(managed.cat(ssh, conf.certificate))
                row = DiskFile(target=target, kind=K.HTTPS_CERTIFICATE, path=conf.certificate, error=error,
                               served_fingerprint=served, checked_at=at)
                if cert is not None:
                    row.fingerprint, row.subject = tls.fingerprint(cert), cert.subject.rfc4514_string()
                    row.not_after = cert.not_valid_after_utc
                    row.matches_served = (row.fingerprint == served) if served else None
                rows.append(row)
            if conf.private_key:
                row = DiskFile(target=target, kind=K.HTTPS_PRIVATE_KEY, path=conf.private_key, checked_at=at)
                try:
                    public = managed.public_key_of_key_file(ssh, conf.private_key)
                    row.key_matches = (public == _public_pem(cert)) if cert is not None else None
                except client.SSHError as exc:
                    row.error = exc.message
                rows.append(row)
            internal = conf.data.get("internal_tls")
            if isinstance(internal, dict) and internal.get("enabled"):
                directory = str(internal.get("dir") or managed.INTERNAL_TLS_DEFAULT_DIR)
                for path in managed.list_crt(ssh, directory):
                    found, error = _parse(managed.cat(ssh, path))
                    row = DiskFile(target=target, kind=K.INTERNAL_TLS, path=path, error=error, checked_at=at)
                    if found is not None:
                        row.fingerprint, row.subject = tls.fingerprint(found), found.subject.rfc4514_string()
                        row.not_after = found.not_valid_after_utc
                    rows.append(row)
                if not any(r.kind == K.INTERNAL_TLS for r in rows):
                    rows.append(DiskFile(target=target, kind=K.INTERNAL_TLS, path=directory, checked_at=at,
                                         error="internal_tls is enabled but the directory holds no *.crt"))
    except client.SSHError as exc:
        rows = [DiskFile(target=target, kind=K.HTTPS_CERTIFICATE, path=target.install.harbor_dir + "/harbor.yml",
                         error=f"cannot read the files: {exc.message}", checked_at=at)]
    with transaction.atomic():
        DiskFile.objects.filter(target=target).exclude(path__in=[r.path for r in rows]).delete()
        for row in rows:
            fields = {f.name: getattr(row, f.name) for f in DiskFile._meta.concrete_fields
                      if f.name not in ("id", "target", "path")}
            DiskFile.objects.update_or_create(target=target, path=row.path, defaults=fields)
    return list(DiskFile.objects.filter(target=target))


def observe_all(*, say: Say | None = None) -> int:
    """Every managed target; one unreachable host is a row, never a stop. Returns how many findings."""
    findings = 0
    for target in managed.managed_targets():
        for row in observe_target(target):
            bad = row.error or row.matches_served is False or row.key_matches is False
            findings += bool(bad)
            if say is not None:
                say("warning" if bad else "info", f"{target.host.name}: {row.get_kind_display()} {row.path}: "
                    + describe(row))
    return findings


def describe(row: DiskFile) -> str:
    if row.error:
        return row.error
    parts = []
    if row.not_after is not None:
        parts.append(f"expires {row.not_after:%Y-%m-%d} ({row.days_left} days)")
    if row.matches_served is False:
        parts.append("NOT what the endpoint serves: renewed on disk without ./prepare and a restart?")
    elif row.matches_served:
        parts.append("is what the endpoint serves")
    if row.key_matches is False:
        parts.append("the key does NOT belong to the certificate file")
    elif row.key_matches:
        parts.append("belongs to the certificate file")
    return "; ".join(parts) or "ok"
