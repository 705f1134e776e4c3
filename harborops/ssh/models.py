from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from harborops.core.fields import EncryptedTextField
from harborops.ssh import client


class SSHHost(models.Model):
    """A machine harborops reaches over SSH: a Harbor host, a docker host, or both.

    The private key (and its passphrase) are encrypted at rest and only decrypted into memory to
    connect. The host key is pinned: ``host_key`` is what an operator accepted; ``offered_key`` is
    what the host presented at the last scan and still waits for a decision.
    """

    class Role(models.TextChoices):
        HARBOR = "harbor", "Harbor host"
        DOCKER = "docker", "Docker host"
        BOTH = "both", "Harbor and docker host"

    name = models.CharField(max_length=100, unique=True)
    address = models.CharField(max_length=255, help_text="IP address or DNS name")
    port = models.PositiveIntegerField(default=22)
    username = models.CharField(max_length=64)
    private_key = EncryptedTextField(blank=True)
    key_passphrase = EncryptedTextField(blank=True)
    use_sudo = models.BooleanField(default=False, help_text="run remote commands through sudo -n")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.HARBOR)
    labels = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)

    host_key = models.TextField(blank=True, help_text="the accepted host key: 'type base64'")
    host_key_accepted_at = models.DateTimeField(null=True, blank=True)
    host_key_accepted_by = models.CharField(max_length=150, blank=True)
    offered_key = models.TextField(blank=True, help_text="the key presented at the last scan, not accepted")
    offered_at = models.DateTimeField(null=True, blank=True)

    last_check_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True, blank=True)
    last_check_message = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ("name",)
        verbose_name = "SSH host"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("ssh:host_detail", args=[self.pk])

    @property
    def host_key_fingerprint(self) -> str:
        return client.fingerprint(self.host_key.split()[1]) if self.host_key else ""

    @property
    def offered_fingerprint(self) -> str:
        return client.fingerprint(self.offered_key.split()[1]) if self.offered_key else ""

    @property
    def key_state(self) -> str:
        """accepted | changed (a scan saw a different key) | pending (never accepted) | unknown."""
        if self.host_key and self.offered_key and self.offered_key != self.host_key:
            return "changed"
        if self.host_key:
            return "accepted"
        return "pending" if self.offered_key else "unknown"

    def target(self, *, connect_timeout: float = 10.0) -> client.Target:
        """The one place a connection target is built (tests patch nothing: sshd is real)."""
        return client.Target(address=self.address, port=self.port, username=self.username,
                             private_key=self.private_key, passphrase=self.key_passphrase,
                             pinned_key=self.host_key, sudo=self.use_sudo, connect_timeout=connect_timeout)

    def connect(self, *, connect_timeout: float = 10.0) -> client.Connection:
        return client.Connection(self.target(connect_timeout=connect_timeout))
