from __future__ import annotations

from typing import Any

from rest_framework import serializers

from harborops.ssh.models import SSHHost


class SSHHostSerializer(serializers.ModelSerializer[SSHHost]):
    """``private_key`` and ``key_passphrase`` are write-only (blank on update keeps them); the
    host key is read-only here and changes only through scan-key / accept-key."""

    private_key = serializers.CharField(write_only=True, required=False, allow_blank=True, trim_whitespace=False,
                                        style={"input_type": "password"})
    key_passphrase = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                           trim_whitespace=False, style={"input_type": "password"})
    has_private_key = serializers.SerializerMethodField()
    host_key_fingerprint = serializers.CharField(read_only=True)
    offered_fingerprint = serializers.CharField(read_only=True)
    key_state = serializers.CharField(read_only=True)

    class Meta:
        model = SSHHost
        fields = ("id", "name", "address", "port", "username", "private_key", "key_passphrase", "has_private_key",
                  "use_sudo", "role", "labels", "notes", "key_state", "host_key_fingerprint",
                  "host_key_accepted_at", "host_key_accepted_by", "offered_fingerprint", "offered_at",
                  "last_check_at", "last_check_ok", "last_check_message")
        read_only_fields = ("host_key_accepted_at", "host_key_accepted_by", "offered_at", "last_check_at",
                            "last_check_ok", "last_check_message")

    def get_has_private_key(self, host: SSHHost) -> bool:
        return bool(host.private_key)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and not attrs.get("private_key"):
            raise serializers.ValidationError({"private_key": "required for a new host"})
        return attrs


class AcceptKeySerializer(serializers.Serializer[dict[str, Any]]):
    fingerprint = serializers.CharField(help_text="the SHA256:… fingerprint you compared out of band")


class KeyScanSerializer(serializers.Serializer[dict[str, Any]]):
    ok = serializers.BooleanField()
    state = serializers.CharField()
    fingerprint = serializers.CharField()
    key_type = serializers.CharField()
    message = serializers.CharField()
