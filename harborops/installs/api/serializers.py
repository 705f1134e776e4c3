from __future__ import annotations

from typing import Any

from rest_framework import serializers

from harborops.installs.models import STEPS, Install, Installer, InstallTarget
from harborops.ssh.models import SSHHost


class InstallerSerializer(serializers.ModelSerializer[Installer]):
    class Meta:
        model = Installer
        fields = ("id", "filename", "version", "kind", "arch", "source", "url", "size", "sha256", "md5",
                  "created_at", "created_by")
        read_only_fields = fields


class InstallerCreateSerializer(serializers.Serializer[dict[str, Any]]):
    """Multipart with an ``installer`` file (streamed to disk), or JSON with ``url`` for the host to fetch."""

    installer = serializers.FileField(required=False, help_text="harbor-offline-installer-vX.Y.Z[-arch].tgz")
    url = serializers.URLField(required=False)
    checksum = serializers.CharField(required=False, allow_blank=True, default="",
                                     help_text="SHA-256 or the release's md5sum (required with url)")


class InstallTargetSerializer(serializers.ModelSerializer[InstallTarget]):
    host: serializers.SlugRelatedField[SSHHost] = serializers.SlugRelatedField(slug_field="name", read_only=True)
    url = serializers.CharField(read_only=True)
    failed_step = serializers.CharField(read_only=True)

    class Meta:
        model = InstallTarget
        fields = ("id", "host", "hostname", "url", "steps", "failed_step", "preflight", "config_diff", "instance")
        read_only_fields = fields


class HostEntrySerializer(serializers.Serializer[dict[str, Any]]):
    host = serializers.PrimaryKeyRelatedField(queryset=SSHHost.objects.all())
    hostname = serializers.CharField(required=False, allow_blank=True, default="")


class InstallSerializer(serializers.ModelSerializer[Install]):
    """Passwords: ``admin_password`` is write-only (blank = generated); the database password is
    always generated. Neither is ever returned."""

    hosts = HostEntrySerializer(many=True, write_only=True)
    targets = InstallTargetSerializer(many=True, read_only=True)
    admin_password = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                           trim_whitespace=False, style={"input_type": "password"})
    tls_private_key = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                            trim_whitespace=False, style={"input_type": "password"})
    installer = serializers.PrimaryKeyRelatedField(queryset=Installer.objects.all())

    class Meta:
        model = Install
        fields = ("id", "name", "installer", "hosts", "targets", "install_dir", "http_port", "https_enabled",
                  "https_port", "tls_certificate", "tls_private_key", "ca_bundle", "data_volume", "with_trivy",
                  "admin_password", "status", "last_job", "created_at", "created_by")
        read_only_fields = ("status", "last_job", "created_at", "created_by")


class StartSerializer(serializers.Serializer[dict[str, Any]]):
    from_step = serializers.ChoiceField(choices=["", *STEPS], required=False, default="",
                                        help_text="re-run this step and every later one; blank = continue")
