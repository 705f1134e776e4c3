from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse

from harborops.core.fields import EncryptedTextField

STEPS = ("preflight", "installer", "config", "prepare", "install", "verify", "register")
STEP_TITLES = {
    "preflight": "Preflight checks",
    "installer": "Installer: upload or fetch, checksum, extract",
    "config": "harbor.yml from the installer's template",
    "prepare": "./prepare",
    "install": "./install.sh",
    "verify": "Verify: health API and docker compose ps",
    "register": "Register in the fleet",
}


class Installer(models.Model):
    """A Harbor installer bundle: uploaded here (stored under HARBOROPS_INSTALLER_DIR) or fetched
    by the host from an internal URL."""

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded"
        URL = "url", "Fetched by the host from a URL"

    filename = models.CharField(max_length=200)
    version = models.CharField(max_length=32)
    kind = models.CharField(max_length=8, default="offline")  # offline | online
    arch = models.CharField(max_length=8, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.UPLOAD)
    url = models.URLField(max_length=500, blank=True)
    path = models.CharField(max_length=500, blank=True, help_text="the stored file (uploads)")
    size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    md5 = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return self.filename


class Install(models.Model):
    """One Harbor install job definition: the installer, harbor.yml values and the hosts (an HA pair
    is one install with two targets). Passwords are generated, encrypted, never shown or logged."""

    class Status(models.TextChoices):
        NEW = "new", "Not started"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Installed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField(max_length=100, unique=True, help_text="fleet name of the new Harbor")
    installer = models.ForeignKey(Installer, on_delete=models.PROTECT, related_name="installs")
    install_dir = models.CharField(max_length=300, default="/opt/harbor-installer")
    http_port = models.PositiveIntegerField(default=80)
    https_enabled = models.BooleanField(default=False)
    https_port = models.PositiveIntegerField(default=443)
    tls_certificate = models.TextField(blank=True, help_text="PEM server certificate (chain)")
    tls_private_key = EncryptedTextField(blank=True)
    ca_bundle = models.TextField(blank=True, help_text="CA that signed the certificate, for verification")
    data_volume = models.CharField(max_length=300, default="/data")
    with_trivy = models.BooleanField(default=False)
    admin_password = EncryptedTextField()
    db_password = EncryptedTextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    last_job = models.ForeignKey("core.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("installs:install_detail", args=[self.pk])

    @property
    def harbor_dir(self) -> str:
        return self.install_dir.rstrip("/") + "/harbor"


class InstallTarget(models.Model):
    """One host of an install, with its own recorded steps (the job retries from the failed one)."""

    install = models.ForeignKey(Install, on_delete=models.CASCADE, related_name="targets")
    host = models.ForeignKey("ssh.SSHHost", on_delete=models.PROTECT, related_name="install_targets")
    hostname = models.CharField(max_length=255, help_text="harbor.yml hostname (DNS name or IP)")
    position = models.PositiveIntegerField(default=0)
    steps = models.JSONField(default=dict, blank=True)  # step -> {"status", "at", "detail"}
    preflight = models.JSONField(default=list, blank=True)
    config_diff = models.TextField(blank=True)  # harbor.yml.tmpl -> harbor.yml, secrets redacted
    instance = models.ForeignKey("fleet.Instance", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ("install", "position", "pk")
        constraints = [models.UniqueConstraint(fields=("install", "host"), name="installtarget_unique_host")]

    def __str__(self) -> str:
        return f"{self.install.name} on {self.host.name}"

    @property
    def url(self) -> str:
        install = self.install
        if install.https_enabled:
            port = "" if install.https_port == 443 else f":{install.https_port}"
            return f"https://{self.hostname}{port}"
        port = "" if install.http_port == 80 else f":{install.http_port}"
        return f"http://{self.hostname}{port}"

    def step_status(self, step: str) -> str:
        return str(self.steps.get(step, {}).get("status", "pending"))

    def step_rows(self) -> list[dict[str, Any]]:
        return [{"name": s, "title": STEP_TITLES[s], "status": self.step_status(s),
                 "detail": self.steps.get(s, {}).get("detail", ""), "at": self.steps.get(s, {}).get("at", "")}
                for s in STEPS]

    @property
    def failed_step(self) -> str:
        return next((s for s in STEPS if self.step_status(s) == "failed"), "")
