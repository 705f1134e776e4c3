from __future__ import annotations

from typing import Any

from django import forms

from harborops.core.forms import SecretField
from harborops.ssh.models import SSHHost


def parse_labels(text: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise forms.ValidationError(f"{item.strip()!r} is not key=value")
        labels[key.strip()] = value.strip()
    return labels


class HostForm(forms.ModelForm):
    private_key = SecretField(label="Private key", widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
                              help_text="OpenSSH or PEM private key (Ed25519, ECDSA, RSA). Write-only: "
                                        "leave blank to keep the stored key.")
    key_passphrase = SecretField(label="Key passphrase")
    labels_text = forms.CharField(label="Labels", required=False,
                                  widget=forms.TextInput(attrs={"placeholder": "dc=fra, env=prod"}),
                                  help_text="key=value pairs, comma-separated")

    class Meta:
        model = SSHHost
        fields = ("name", "address", "port", "username", "role", "use_sudo", "notes")
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["labels_text"].initial = ", ".join(f"{k}={v}" for k, v in self.instance.labels.items())
        else:
            self.fields["private_key"].required = True
            self.fields["private_key"].help_text = "OpenSSH or PEM private key (Ed25519, ECDSA, RSA)."

    def clean_labels_text(self) -> dict[str, str]:
        return parse_labels(self.cleaned_data["labels_text"])

    def service_fields(self) -> dict[str, Any]:
        data = {k: self.cleaned_data[k] for k in self.Meta.fields}
        data["labels"] = self.cleaned_data["labels_text"]
        data["private_key"] = self.cleaned_data.get("private_key") or ""
        data["key_passphrase"] = self.cleaned_data.get("key_passphrase") or ""
        return data


class AcceptKeyForm(forms.Form):
    fingerprint = forms.CharField(widget=forms.HiddenInput)
