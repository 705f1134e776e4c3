from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from harborops.certificates.models import (
    Certificate,
    ChainEntry,
    Deployment,
    DiskFile,
    Endpoint,
    IssuedCertificate,
    ManagedCA,
    PullingHost,
    Rotation,
    TrustState,
)
from harborops.fleet.models import Instance


class CertificateSerializer(serializers.ModelSerializer[Certificate]):
    days_left = serializers.IntegerField(read_only=True)
    band = serializers.CharField(read_only=True)

    class Meta:
        model = Certificate
        fields = ("id", "fingerprint", "subject", "common_name", "issuer", "serial", "not_before", "not_after",
                  "days_left", "band", "dns_names", "ip_addresses", "signature_algorithm", "key_type", "key_size",
                  "is_ca", "self_signed", "first_seen_at", "pem")
        read_only_fields = fields


class RotationSerializer(serializers.ModelSerializer[Rotation]):
    old: serializers.SlugRelatedField[Certificate] = serializers.SlugRelatedField(
        slug_field="fingerprint", read_only=True, allow_null=True)
    new: serializers.SlugRelatedField[Certificate] = serializers.SlugRelatedField(slug_field="fingerprint",
                                                                                  read_only=True)
    old_not_after = serializers.DateTimeField(source="old.not_after", read_only=True, allow_null=True, default=None)
    new_not_after = serializers.DateTimeField(source="new.not_after", read_only=True)

    class Meta:
        model = Rotation
        fields = ("at", "old", "old_not_after", "new", "new_not_after")


class CheckSerializer(serializers.Serializer[dict[str, str]]):
    name = serializers.CharField()
    status = serializers.CharField(help_text="ok | warn | fail | skip")
    message = serializers.CharField()


class EndpointSerializer(serializers.ModelSerializer[Endpoint]):
    """Instance endpoints follow the fleet; admins add, change and remove the others."""

    checks = CheckSerializer(many=True, read_only=True)
    leaf: serializers.SlugRelatedField[Certificate] = serializers.SlugRelatedField(
        slug_field="fingerprint", read_only=True, allow_null=True)
    days_left = serializers.SerializerMethodField()

    class Meta:
        model = Endpoint
        fields = ("id", "label", "host", "port", "server_name", "ca_bundle", "trust_ca", "enabled", "instance",
                  "source", "status", "last_scan_at", "address", "error", "checks", "leaf", "days_left")
        read_only_fields = ("instance", "source", "status", "last_scan_at", "address", "error", "checks", "leaf")

    def get_days_left(self, endpoint: Endpoint) -> int | None:
        return endpoint.leaf.days_left if endpoint.leaf is not None else None


class EndpointDetailSerializer(EndpointSerializer):
    chain = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()

    class Meta(EndpointSerializer.Meta):
        fields = (*EndpointSerializer.Meta.fields, "chain", "history")  # type: ignore[assignment]

    @extend_schema_field(CertificateSerializer(many=True))
    def get_chain(self, endpoint: Endpoint) -> list[dict[str, object]]:
        entries = ChainEntry.objects.filter(endpoint=endpoint).select_related("certificate")
        return [CertificateSerializer(e.certificate).data for e in entries]

    @extend_schema_field(RotationSerializer(many=True))
    def get_history(self, endpoint: Endpoint) -> list[dict[str, object]]:
        return list(RotationSerializer(endpoint.rotations.select_related("old", "new")[:100], many=True).data)


class ExpirySerializer(serializers.ModelSerializer[ChainEntry]):
    endpoint_label = serializers.CharField(source="endpoint.label", read_only=True)
    instance_id = serializers.IntegerField(source="endpoint.instance_id", read_only=True, allow_null=True)
    certificate = CertificateSerializer(read_only=True)

    class Meta:
        model = ChainEntry
        fields = ("endpoint", "endpoint_label", "instance_id", "position", "certificate")


class ManagedCASerializer(serializers.ModelSerializer[ManagedCA]):
    """A managed CA as the API shows it: never its private key (only ``can_issue``)."""

    days_left = serializers.IntegerField(read_only=True)
    can_issue = serializers.BooleanField(read_only=True)

    class Meta:
        model = ManagedCA
        fields = ("id", "name", "scope", "label", "origin", "subject", "key_description", "fingerprint",
                  "not_before", "not_after", "days_left", "can_issue", "certificate", "created_at", "created_by")
        read_only_fields = fields


class CACreateSerializer(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(max_length=100)
    key_type = serializers.ChoiceField(choices=ManagedCA.KeyType.choices, default=ManagedCA.KeyType.RSA4096)
    days = serializers.IntegerField(default=3650)
    common_name = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    organization = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    scope = serializers.ChoiceField(choices=ManagedCA.Scope.choices, default=ManagedCA.Scope.INSTALL)
    label = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")  # type: ignore[assignment]


class CAImportSerializer(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(max_length=100)
    certificate = serializers.CharField(trim_whitespace=False, help_text="the CA certificate, PEM")
    private_key = serializers.CharField(write_only=True, required=False, allow_blank=True, default="",
                                        trim_whitespace=False, style={"input_type": "password"},
                                        help_text="PEM; omit for a trust-only CA. Write-only.")
    passphrase = serializers.CharField(write_only=True, required=False, allow_blank=True, default="",
                                       trim_whitespace=False, style={"input_type": "password"})
    scope = serializers.ChoiceField(choices=ManagedCA.Scope.choices, default=ManagedCA.Scope.INSTALL)
    label = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")  # type: ignore[assignment]


class IssueSerializer(serializers.Serializer[dict[str, Any]]):
    hostname = serializers.CharField(max_length=253)
    sans = serializers.ListField(child=serializers.CharField(max_length=253), required=False, default=list,
                                 help_text="more DNS names and IP addresses")
    days = serializers.IntegerField(default=365)
    key_type = serializers.ChoiceField(choices=IssuedCertificate.KeyType.choices,
                                       default=IssuedCertificate.KeyType.RSA4096)


class IssuedCertificateSerializer(serializers.ModelSerializer[IssuedCertificate]):
    """An issued server certificate: certificate and chain; the key only through ``export-key`` (admin)."""

    chain = serializers.SerializerMethodField()
    days_left = serializers.IntegerField(read_only=True)

    class Meta:
        model = IssuedCertificate
        fields = ("id", "ca", "hostname", "dns_names", "ip_addresses", "key_type", "fingerprint", "serial",
                  "not_before", "not_after", "days_left", "certificate", "chain", "created_at", "created_by")
        read_only_fields = fields

    def get_chain(self, issued: IssuedCertificate) -> str:
        return issued.chain_pem()


class KeyExportSerializer(serializers.Serializer[dict[str, Any]]):
    private_key = serializers.CharField(help_text="PEM (for an issued certificate: key, certificate and CA)")


class PullingHostSerializer(serializers.ModelSerializer[PullingHost]):
    host_name = serializers.CharField(source="host.name", read_only=True)

    class Meta:
        model = PullingHost
        fields = ("id", "host", "host_name", "runtime", "path_prefix", "created_at")
        read_only_fields = ("created_at",)
        validators: list[object] = []  # the service says which host already has which runtime


class TrustStateSerializer(serializers.ModelSerializer[TrustState]):
    """One cell of the trust matrix: a pulling host × a registry endpoint."""

    class Meta:
        model = TrustState
        fields = ("pulling_host", "endpoint", "state", "message", "path", "checked_at")


class TrustPushSerializer(serializers.Serializer[dict[str, Any]]):
    pulling_hosts = serializers.ListField(child=serializers.IntegerField(), required=False, default=list,
                                         help_text="pulling host ids; empty = all")
    endpoints = serializers.ListField(child=serializers.IntegerField(), required=False, default=list,
                                      help_text="endpoint ids with a trust CA; empty = all")


class DiskFileSerializer(serializers.ModelSerializer[DiskFile]):
    host = serializers.CharField(source="target.host.name", read_only=True)
    install = serializers.CharField(source="target.install.name", read_only=True)
    instance_id = serializers.IntegerField(source="target.instance_id", read_only=True, allow_null=True)
    days_left = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = DiskFile
        fields = ("id", "host", "install", "instance_id", "kind", "path", "fingerprint", "subject", "not_after",
                  "days_left", "served_fingerprint", "matches_served", "key_matches", "error", "checked_at")
        read_only_fields = fields


class DeploymentMemberSerializer(serializers.Serializer[dict[str, Any]]):
    host = serializers.CharField()
    instance_name = serializers.CharField(source="instance")
    status = serializers.CharField(help_text="pending | succeeded | restored | restore_failed | failed | skipped")
    message = serializers.CharField()
    old_fingerprint = serializers.CharField(required=False)
    new_fingerprint = serializers.CharField(required=False)
    backup = serializers.CharField(required=False, help_text="where the previous files are kept on the host")
    at = serializers.CharField(required=False)


class DeploymentSerializer(serializers.ModelSerializer[Deployment]):
    issued_fingerprint = serializers.CharField(source="issued.fingerprint", read_only=True)
    issued_not_after = serializers.DateTimeField(source="issued.not_after", read_only=True)
    members = DeploymentMemberSerializer(many=True, read_only=True)

    class Meta:
        model = Deployment
        fields = ("id", "instance", "instance_name", "issued", "issued_fingerprint", "issued_not_after",
                  "renewal_of", "status", "members", "job", "created_at", "created_by")
        read_only_fields = fields


class RotateSerializer(serializers.Serializer[dict[str, Any]]):
    # Unknown ids are a 400 naming the field (the body refers to them), not a 404 of the URL.
    instance_id = serializers.PrimaryKeyRelatedField(
        queryset=Instance.objects.all(), help_text="a fleet instance harborops installed (its HA group rotates "
                                                   "member by member)")
    issued_id = serializers.PrimaryKeyRelatedField(queryset=IssuedCertificate.objects.defer("private_key"),
                                                   help_text="an issued certificate (managed CA)")


class RenewSerializer(serializers.Serializer[dict[str, Any]]):
    instance_id = serializers.PrimaryKeyRelatedField(queryset=Instance.objects.all())


class OccurrenceSerializer(serializers.Serializer[Any]):
    condition = serializers.CharField()
    title = serializers.CharField()
    subject = serializers.CharField()
    severity = serializers.CharField(help_text="critical | warning | info")
    summary = serializers.CharField()
    details = serializers.CharField()
    link = serializers.CharField()
    instance_id = serializers.IntegerField(allow_null=True)
    labels = serializers.DictField(child=serializers.CharField())
