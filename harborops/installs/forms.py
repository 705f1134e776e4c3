from __future__ import annotations

from typing import Any

from django import forms

from harborops.core.forms import SecretField
from harborops.installs.models import STEPS, Installer
from harborops.ssh.models import SSHHost


class InstallerURLForm(forms.Form):
    url = forms.URLField(label="Internal URL", assume_scheme="https",
                         help_text="the host fetches it itself, e.g. from a mirror")
    checksum = forms.CharField(help_text="SHA-256, or the release's md5sum asset")


class InstallForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="fleet name of the new Harbor")
    installer = forms.ModelChoiceField(queryset=Installer.objects.all())
    hosts = forms.ModelMultipleChoiceField(
        queryset=SSHHost.objects.exclude(host_key=""), widget=forms.CheckboxSelectMultiple,
        help_text="hosts with an accepted host key; two hosts make an HA pair installed by one job")
    hostnames = forms.CharField(required=False, help_text="harbor.yml hostname per chosen host, comma-separated in "
                                                          "the order shown; blank = the host's address")
    install_dir = forms.CharField(initial="/opt/harbor-installer")
    data_volume = forms.CharField(initial="/data")
    http_port = forms.IntegerField(initial=80, min_value=1, max_value=65535)
    https_enabled = forms.BooleanField(required=False, label="HTTPS")
    https_port = forms.IntegerField(initial=443, min_value=1, max_value=65535)
    tls_certificate = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                      label="Certificate (PEM, with chain)")
    tls_private_key = SecretField(label="Certificate private key (PEM)", widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text="write-only")
    ca_bundle = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                label="CA bundle", help_text="the CA that signed the certificate")
    with_trivy = forms.BooleanField(required=False, label="Trivy scanner")
    admin_password = SecretField(label="Admin password",
                                 help_text="leave blank to generate one (stored encrypted, never shown)")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hosts = list(data.get("hosts") or [])
        names = [n.strip() for n in (data.get("hostnames") or "").split(",") if n.strip()]
        if names and len(names) != len(hosts):
            self.add_error("hostnames", f"{len(names)} hostnames for {len(hosts)} hosts")
        data["host_pairs"] = [(h, names[i] if names else h.address) for i, h in enumerate(hosts)]
        return data

    def service_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"name": d["name"], "installer": d["installer"], "hosts": d["host_pairs"],
                "install_dir": d["install_dir"], "data_volume": d["data_volume"], "http_port": d["http_port"],
                "https_enabled": d["https_enabled"], "https_port": d["https_port"],
                "tls_certificate": d["tls_certificate"], "tls_private_key": d.get("tls_private_key") or "",
                "ca_bundle": d["ca_bundle"], "with_trivy": d["with_trivy"],
                "admin_password": d.get("admin_password") or ""}


class StartForm(forms.Form):
    from_step = forms.ChoiceField(choices=[("", "continue (skip steps already done)"), *[(s, s) for s in STEPS]],
                                  required=False)
