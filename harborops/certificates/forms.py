from __future__ import annotations

from typing import Any

from django import forms

from harborops.certificates.models import Endpoint, IssuedCertificate, ManagedCA, PullingHost
from harborops.core.forms import SecretField
from harborops.ssh.models import SSHHost


class EndpointForm(forms.ModelForm):
    class Meta:
        model = Endpoint
        fields = ("label", "host", "port", "server_name", "ca_bundle", "trust_ca", "enabled")
        widgets = {"ca_bundle": forms.Textarea(attrs={"rows": 4, "placeholder": "-----BEGIN CERTIFICATE-----"})}
        help_texts = {"host": "host name or IP address, e.g. harbor-vip.example.com or ldap.example.com"}

    def service_fields(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k] for k in self.Meta.fields}


class CAForm(forms.Form):
    name = forms.CharField(max_length=100)
    key_type = forms.ChoiceField(choices=ManagedCA.KeyType.choices, initial=ManagedCA.KeyType.RSA4096)
    days = forms.IntegerField(min_value=1, initial=3650, help_text="validity in days (Harbor's guide: 3650)")
    common_name = forms.CharField(max_length=64, required=False, help_text="blank: “<name> Root CA”")
    organization = forms.CharField(max_length=64, required=False)
    scope = forms.ChoiceField(choices=ManagedCA.Scope.choices, initial=ManagedCA.Scope.INSTALL)
    label = forms.CharField(max_length=200, required=False, help_text="for an environment CA: key=value, e.g. env=prod")


class CAImportForm(forms.Form):
    name = forms.CharField(max_length=100)
    certificate = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), help_text="the CA certificate (PEM)")
    private_key = SecretField(label="Private key", widget=forms.Textarea(attrs={"rows": 5, "autocomplete": "off"}),
                              help_text="PEM; leave blank to import the certificate only (trust-only). "
                                        "Write-only: it is encrypted and never shown again.")
    passphrase = SecretField(label="Key passphrase", help_text="only if the key is encrypted")
    scope = forms.ChoiceField(choices=ManagedCA.Scope.choices, initial=ManagedCA.Scope.INSTALL)
    label = forms.CharField(max_length=200, required=False)


class IssueForm(forms.Form):
    hostname = forms.CharField(max_length=253, help_text="the registry's name, e.g. harbor.example.com")
    sans = forms.CharField(required=False, label="More SANs",
                           help_text="DNS names and IP addresses, comma- or space-separated")
    days = forms.IntegerField(min_value=1, initial=365)
    key_type = forms.ChoiceField(choices=IssuedCertificate.KeyType.choices, initial=IssuedCertificate.KeyType.RSA4096)


class PullingHostForm(forms.Form):
    host = forms.ModelChoiceField(queryset=SSHHost.objects.all(), help_text="an SSH host with an accepted host key")
    runtime = forms.ChoiceField(choices=PullingHost.Runtime.choices)
    path_prefix = forms.CharField(required=False, max_length=255,
                                  help_text="prepended to /etc/…/certs.d (blank = the host's root)")


class IssuedChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.hostname} — {', '.join(obj.sans)} — {obj.ca.name}, until {obj.not_after:%Y-%m-%d} " \
               f"({obj.fingerprint[:17]}…)"


class RotateForm(forms.Form):
    issued = IssuedChoiceField(queryset=IssuedCertificate.objects.none(), label="New certificate",
                               help_text="issued by a managed CA (issue one on the CA's page first)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from django.utils.timezone import now

        super().__init__(*args, **kwargs)
        field = self.fields["issued"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = IssuedCertificate.objects.filter(not_after__gt=now()).select_related(
            "ca").order_by("-created_at")
