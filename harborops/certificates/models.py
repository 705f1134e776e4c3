"""TLS endpoints, the certificates they present, and how those change over time."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.timezone import now

from harborops.core.fields import EncryptedTextField
from harborops.fleet.models import Instance

__all__ = ("Certificate", "ChainEntry", "Deployment", "DiskFile", "Endpoint", "IssuedCertificate", "ManagedCA",
           "PullingHost", "Rotation", "TrustState", "band_of")

# Expiry bands, tightest first: (name, days left below which a certificate is in it).
BANDS = (("expired", 0), ("7", 7), ("30", 30), ("90", 90))
BAND_LABELS = {"expired": "Expired", "7": "< 7 days", "30": "< 30 days", "90": "< 90 days", "ok": "≥ 90 days"}
BAND_COLORS = {"expired": "#c5221f", "7": "#d93025", "30": "#b06000", "90": "#f9ab00", "ok": "#1e8e3e"}


def band_of(not_after: dt.datetime, at: dt.datetime | None = None) -> str:
    seconds = (not_after - (at or now())).total_seconds()
    for name, days in BANDS:
        if seconds < days * 86400:
            return name
    return "ok"


class Certificate(models.Model):
    """One certificate, by SHA-256 fingerprint, as ``cryptography`` parsed it. Kept while any
    endpoint's chain or history refers to it."""

    fingerprint = models.CharField(max_length=95, unique=True)
    pem = models.TextField()
    subject = models.TextField()
    common_name = models.CharField(max_length=255, blank=True)
    issuer = models.TextField()
    serial = models.CharField(max_length=128)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField(db_index=True)
    dns_names = models.JSONField(default=list, blank=True)
    ip_addresses = models.JSONField(default=list, blank=True)
    signature_algorithm = models.CharField(max_length=64)
    key_type = models.CharField(max_length=32)
    key_size = models.PositiveIntegerField(null=True, blank=True)
    is_ca = models.BooleanField(default=False)
    self_signed = models.BooleanField(default=False)
    first_seen_at = models.DateTimeField(default=now)

    objects: ClassVar[models.Manager[Certificate]] = models.Manager()

    class Meta:
        ordering = ("not_after",)

    def __str__(self) -> str:
        return self.common_name or self.subject

    @property
    def seconds_left(self) -> float:
        return (self.not_after - now()).total_seconds()

    @property
    def days_left(self) -> int:
        return int(self.seconds_left // 86400)

    @property
    def band(self) -> str:
        return band_of(self.not_after)

    @property
    def band_label(self) -> str:
        return BAND_LABELS[self.band]

    @property
    def sans(self) -> list[str]:
        return [*self.dns_names, *self.ip_addresses]


class Endpoint(models.Model):
    """A TLS endpoint to scan: an instance's URL (kept in step with the fleet) or one an admin added."""

    class Source(models.TextChoices):
        INSTANCE = "instance", "Fleet instance"
        MANUAL = "manual", "Added by an admin"

    class Status(models.TextChoices):
        OK = "ok", "OK"
        WARNING = "warning", "Warning"
        FAILING = "failing", "Failing"
        UNREACHABLE = "unreachable", "Unreachable"
        UNKNOWN = "unknown", "Not scanned yet"

    STATUS_COLORS = {Status.OK: "success", Status.WARNING: "warning", Status.FAILING: "danger",
                     Status.UNREACHABLE: "danger", Status.UNKNOWN: "secondary"}

    label = models.CharField(max_length=100)
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(default=443)
    server_name = models.CharField(max_length=255, blank=True,
                                   help_text="SNI and the name the certificate must carry; blank = the host")
    ca_bundle = models.TextField(blank=True, help_text="PEM to verify with; blank = the instance's or the system CAs")
    instance = models.ForeignKey(Instance, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="tls_endpoints")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Written by the scan (services/scan.py).
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNKNOWN)
    last_scan_at = models.DateTimeField(null=True, blank=True)
    address = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    checks = models.JSONField(default=list, blank=True)  # [{"name", "status", "message"}]
    leaf = models.ForeignKey(Certificate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    trust_ca = models.ForeignKey("ManagedCA", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 help_text="the CA pulling hosts should trust for this registry")

    instance_id: int | None
    trust_ca_id: int | None
    leaf_id: int | None
    objects: ClassVar[models.Manager[Endpoint]] = models.Manager()

    class Meta:
        ordering = ("label", "host", "port")
        constraints = (
            models.UniqueConstraint(fields=("instance",), condition=Q(instance__isnull=False),
                                    name="certificates_endpoint_one_per_instance"),
            models.UniqueConstraint(fields=("host", "port", "server_name"), condition=Q(instance__isnull=True),
                                    name="certificates_endpoint_unique_manual"),
        )

    def __str__(self) -> str:
        return f"{self.label} ({self.host}:{self.port})"

    def get_absolute_url(self) -> str:
        return reverse("certificates:endpoint_detail", args=[self.pk])

    @property
    def name_to_verify(self) -> str:
        return self.server_name or self.host

    @property
    def effective_ca_bundle(self) -> str:
        if self.ca_bundle.strip():
            return self.ca_bundle
        return self.instance.ca_bundle if self.instance is not None else ""

    def failed_checks(self) -> list[dict[str, str]]:
        return [c for c in self.checks if c.get("status") == "fail"]


class ChainEntry(models.Model):
    """Position ``position`` (0 = the server certificate) of what an endpoint presented at its last scan."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="chain_entries")
    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="chain_entries")
    position = models.PositiveSmallIntegerField()

    endpoint_id: int
    certificate_id: int
    objects: ClassVar[models.Manager[ChainEntry]] = models.Manager()

    class Meta:
        ordering = ("endpoint", "position")
        constraints = (models.UniqueConstraint(fields=("endpoint", "position"),
                                               name="certificates_chain_position"),)

    def __str__(self) -> str:
        return f"{self.endpoint_id}#{self.position}: {self.certificate_id}"


class Rotation(models.Model):
    """The server certificate of an endpoint changed (old → new), or was seen for the first time (no old)."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="rotations")
    at = models.DateTimeField(default=now, db_index=True)
    old = models.ForeignKey(Certificate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    new = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="+")

    endpoint_id: int
    objects: ClassVar[models.Manager[Rotation]] = models.Manager()

    class Meta:
        ordering = ("-at", "-pk")

    def __str__(self) -> str:
        return f"{self.endpoint_id} @ {self.at:%Y-%m-%d %H:%M}"


class ManagedCA(models.Model):
    """A CA harborops holds: generated here, imported with its key, or imported trust-only (no key).

    The private key is encrypted at rest (core/fields.py), never shown, and leaves only through an
    admin's logged export."""

    class KeyType(models.TextChoices):
        RSA4096 = "rsa4096", "RSA 4096"
        ECP256 = "ecp256", "ECDSA P-256"

    class Scope(models.TextChoices):
        INSTALL = "install", "This harborops install"
        LABEL = "label", "An environment label"

    class Origin(models.TextChoices):
        GENERATED = "generated", "Generated here"
        IMPORTED = "imported", "Imported with its key"
        TRUST_ONLY = "trust_only", "Imported, certificate only (trust-only)"

    name = models.CharField(max_length=100, unique=True)
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.INSTALL)
    label = models.CharField(max_length=200, blank=True, help_text="the environment label, e.g. env=prod")
    origin = models.CharField(max_length=16, choices=Origin.choices)
    certificate = models.TextField(help_text="PEM")
    private_key = EncryptedTextField(blank=True)
    fingerprint = models.CharField(max_length=95)
    subject = models.TextField()
    key_description = models.CharField(max_length=40)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)

    objects: ClassVar[models.Manager[ManagedCA]] = models.Manager()

    class Meta:
        ordering = ("name",)
        verbose_name = "managed CA"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("certificates:ca_detail", args=[self.pk])

    @property
    def can_issue(self) -> bool:
        return self.origin != self.Origin.TRUST_ONLY

    @property
    def days_left(self) -> int:
        return int((self.not_after - now()).total_seconds() // 86400)

    @property
    def band(self) -> str:
        return band_of(self.not_after)


class IssuedCertificate(models.Model):
    """A server certificate issued by a managed CA; its key is encrypted and leaves only through an
    admin's logged download."""

    class KeyType(models.TextChoices):
        RSA2048 = "rsa2048", "RSA 2048"
        RSA4096 = "rsa4096", "RSA 4096"
        ECP256 = "ecp256", "ECDSA P-256"

    ca = models.ForeignKey(ManagedCA, on_delete=models.PROTECT, related_name="issued")
    hostname = models.CharField(max_length=253)
    dns_names = models.JSONField(default=list, blank=True)
    ip_addresses = models.JSONField(default=list, blank=True)
    key_type = models.CharField(max_length=16, choices=KeyType.choices, default=KeyType.RSA4096)
    certificate = models.TextField(help_text="PEM")
    private_key = EncryptedTextField()
    fingerprint = models.CharField(max_length=95)
    serial = models.CharField(max_length=128)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)

    ca_id: int
    objects: ClassVar[models.Manager[IssuedCertificate]] = models.Manager()

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"{self.hostname} ({self.not_after:%Y-%m-%d})"

    def get_absolute_url(self) -> str:
        return reverse("certificates:issued_detail", args=[self.pk])

    @property
    def days_left(self) -> int:
        return int((self.not_after - now()).total_seconds() // 86400)

    @property
    def band(self) -> str:
        return band_of(self.not_after)

    @property
    def sans(self) -> list[str]:
        return [*self.dns_names, *self.ip_addresses]

    def chain_pem(self) -> str:
        return self.certificate.strip() + "\n" + self.ca.certificate.strip() + "\n"


class PullingHost(models.Model):
    """A machine that pulls from the registries (an SSH host) and the container runtime whose
    ``certs.d`` gets the registries' CA. ``path_prefix`` is prepended to every path harborops
    writes (a host's root mounted elsewhere; tests use a writable fake root)."""

    class Runtime(models.TextChoices):
        DOCKER = "docker", "Docker"
        CONTAINERD = "containerd", "containerd"
        PODMAN = "podman", "Podman / CRI-O"

    BASES = {Runtime.DOCKER: "/etc/docker/certs.d", Runtime.CONTAINERD: "/etc/containerd/certs.d",
             Runtime.PODMAN: "/etc/containers/certs.d"}

    host = models.ForeignKey("ssh.SSHHost", on_delete=models.CASCADE, related_name="pulling_runtimes")
    runtime = models.CharField(max_length=16, choices=Runtime.choices, default=Runtime.DOCKER)
    path_prefix = models.CharField(max_length=255, blank=True, help_text="prepended to /etc/…; blank = the root")
    created_at = models.DateTimeField(auto_now_add=True)

    host_id: int
    objects: ClassVar[models.Manager[PullingHost]] = models.Manager()

    class Meta:
        ordering = ("host__name", "runtime")
        constraints = (models.UniqueConstraint(fields=("host", "runtime"), name="certificates_pulling_host_runtime"),)

    def __str__(self) -> str:
        return f"{self.host} ({self.get_runtime_display()})"

    @property
    def base(self) -> str:
        return self.BASES[self.Runtime(self.runtime)]


class TrustState(models.Model):
    """What the last push or check found for one pulling host and one registry endpoint."""

    class State(models.TextChoices):
        OK = "ok", "OK"
        MISSING = "missing", "Missing"
        STALE = "stale", "Stale (another CA)"
        WRONG_DIRECTORY = "wrong_directory", "Wrong directory (port)"
        VERIFY_FAILED = "verify_failed", "CA in place, handshake fails"
        UNREACHABLE = "unreachable", "Unreachable"

    pulling_host = models.ForeignKey(PullingHost, on_delete=models.CASCADE, related_name="trust_states")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="trust_states")
    state = models.CharField(max_length=16, choices=State.choices)
    message = models.TextField(blank=True)
    path = models.CharField(max_length=500, blank=True)
    checked_at = models.DateTimeField(default=now)

    pulling_host_id: int
    endpoint_id: int
    objects: ClassVar[models.Manager[TrustState]] = models.Manager()

    class Meta:
        constraints = (models.UniqueConstraint(fields=("pulling_host", "endpoint"), name="certificates_trust_cell"),)

    def __str__(self) -> str:
        return f"{self.pulling_host_id}×{self.endpoint_id}: {self.state}"


class DiskFile(models.Model):
    """A certificate file on a host harborops manages over SSH (an install target), as the last look
    saw it: what ``harbor.yml`` points at (``https.certificate``, ``https.private_key``) and the
    ``*.crt`` of Harbor's internal TLS directory when ``internal_tls.enabled``."""

    class Kind(models.TextChoices):
        HTTPS_CERTIFICATE = "https_certificate", "https.certificate"
        HTTPS_PRIVATE_KEY = "https_private_key", "https.private_key"
        INTERNAL_TLS = "internal_tls", "internal TLS"

    target = models.ForeignKey("installs.InstallTarget", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=95, blank=True)
    subject = models.TextField(blank=True)
    not_after = models.DateTimeField(null=True, blank=True)
    served_fingerprint = models.CharField(max_length=95, blank=True,
                                          help_text="what the instance's endpoint served at the last scan")
    matches_served = models.BooleanField(null=True, blank=True)
    key_matches = models.BooleanField(null=True, blank=True, help_text="the key file belongs to the certificate file")
    error = models.TextField(blank=True)
    checked_at = models.DateTimeField(default=now)

    target_id: int
    objects: ClassVar[models.Manager[DiskFile]] = models.Manager()

    class Meta:
        ordering = ("target", "kind", "path")
        constraints = (models.UniqueConstraint(fields=("target", "path"), name="certificates_disk_file_path"),)

    def __str__(self) -> str:
        return f"{self.target_id}:{self.path}"

    @property
    def days_left(self) -> int | None:
        return None if self.not_after is None else int((self.not_after - now()).total_seconds() // 86400)

    @property
    def band(self) -> str:
        return "" if self.not_after is None else band_of(self.not_after)


class Deployment(models.Model):
    """A rotation: an issued certificate deployed to the managed members of one instance (its HA
    group's members one at a time), as a job. ``members`` is the per-host record, in order."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Rotated and verified"
        RESTORED = "restored", "Failed; previous certificate restored"
        FAILED = "failed", "Failed"

    STATUS_COLORS = {Status.PENDING: "secondary", Status.RUNNING: "info", Status.SUCCEEDED: "success",
                     Status.RESTORED: "warning", Status.FAILED: "danger"}

    instance = models.ForeignKey(Instance, null=True, on_delete=models.SET_NULL, related_name="+")
    instance_name = models.CharField(max_length=200)
    issued = models.ForeignKey(IssuedCertificate, on_delete=models.PROTECT, related_name="deployments")
    renewal_of = models.ForeignKey(IssuedCertificate, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", help_text="the certificate this renewal replaces")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    members = models.JSONField(default=list, blank=True)
    job = models.ForeignKey("core.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)

    instance_id: int | None
    issued_id: int
    objects: ClassVar[models.Manager[Deployment]] = models.Manager()

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"rotation #{self.pk} of {self.instance_name}"

    def get_absolute_url(self) -> str:
        return reverse("certificates:deployment_detail", args=[self.pk])

    @property
    def status_color(self) -> str:
        return self.STATUS_COLORS.get(self.Status(self.status), "secondary")
