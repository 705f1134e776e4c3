from __future__ import annotations

import json
from typing import Any

from django import forms

from harborops.core import crypto
from harborops.core.forms import SecretField
from harborops.core.widgets import LongCheckboxSelectMultiple
from harborops.fleet.models import HAGroup, Instance
from harborops.fleet.services import inventory


class InstanceForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https", help_text="Base URL, e.g. https://harbor.example.com")
    password = SecretField(label="Password or robot secret")
    labels_text = forms.CharField(
        label="Labels", required=False, widget=forms.TextInput(attrs={"placeholder": "env=prod, region=eu"}),
        help_text="key=value pairs, comma-separated")
    # After a failed connection check on save, the typed password comes back encrypted (never as text).
    sealed_password = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Instance
        fields = ("name", "url", "credential_kind", "username", "ca_bundle", "notes", "enabled", "ha_group")
        widgets = {"ca_bundle": forms.Textarea(attrs={"rows": 4}), "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["labels_text"].initial = ", ".join(f"{k}={v}" for k, v in self.instance.labels.items())
        else:
            self.fields["password"].help_text = ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("password") and data.get("sealed_password"):
            try:
                data["password"] = crypto.decrypt(data["sealed_password"])
            except Exception:
                self.add_error("password", "type the password again")
        if not self.instance.pk and not data.get("password") and "password" not in self.errors:
            self.add_error("password", "This field is required.")
        return data

    def seal_password(self) -> None:
        """Keep the typed password across a re-render of the form, encrypted."""
        password = self.cleaned_data.get("password") or ""
        data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict on POST
        data["sealed_password"] = crypto.encrypt(password) if password else ""
        self.data = data

    def clean_labels_text(self) -> dict[str, str]:
        labels: dict[str, str] = {}
        for item in self.cleaned_data["labels_text"].split(","):
            if not item.strip():
                continue
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(f"{item.strip()!r} is not key=value")
            labels[key.strip()] = value.strip()
        return labels

    def service_fields(self) -> dict[str, Any]:
        data = {k: self.cleaned_data[k] for k in self.Meta.fields}
        data["labels"] = self.cleaned_data["labels_text"]
        data["password"] = self.cleaned_data.get("password") or ""
        return data

    def connection_check(self, stored_password: str = "") -> inventory.ConnectionCheck:
        d = self.cleaned_data
        return inventory.check_connection(d["url"], d["username"], d.get("password") or stored_password,
                                          d.get("ca_bundle") or "")

    def labels_json(self) -> str:
        return json.dumps(self.cleaned_data.get("labels_text", {}))


class ConnectionTestForm(forms.Form):
    """What the "Test connection" button sends (the instance form's fields, read loosely)."""

    url = forms.URLField(assume_scheme="https")
    username = forms.CharField()
    password = forms.CharField(required=False, strip=False)
    ca_bundle = forms.CharField(required=False)
    trusted_pem = forms.CharField(required=False)


class HAGroupForm(forms.ModelForm):
    members = forms.ModelMultipleChoiceField(
        queryset=Instance.objects.order_by("name").defer("password"), widget=LongCheckboxSelectMultiple,
        help_text="Two or more instances that serve the hostname; an instance belongs to one group at most.")

    class Meta:
        model = HAGroup
        fields = ("name", "hostname", "mode", "notes")
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["members"].initial = list(self.instance.instances.values_list("pk", flat=True))


class ImportForm(forms.Form):
    file = forms.FileField(required=False, help_text="CSV or YAML")
    text = SecretField(widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}), label="…or paste it here",
                       help_text="not shown again after a check (it holds passwords)")
    format = forms.ChoiceField(choices=(("", "guess from the content"), ("csv", "CSV"), ("yaml", "YAML")),
                               required=False)
    dry_run = forms.BooleanField(required=False, initial=True, label="Check only (import nothing)")
    # After a check, the checked content comes back encrypted (it holds passwords): never as text.
    sealed = forms.CharField(required=False, widget=forms.HiddenInput)

    MAX_BYTES = 5 * 1024 * 1024

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if data.get("sealed") and upload is None and not data.get("text"):
            try:
                data["content"] = crypto.decrypt(data["sealed"])
            except Exception:
                raise forms.ValidationError("the checked file expired; choose it again") from None
        elif upload is not None:
            if upload.size > self.MAX_BYTES:
                raise forms.ValidationError("the file is larger than 5 MB")
            try:
                data["content"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError("the file is not UTF-8 text") from None
        else:
            data["content"] = data.get("text") or ""
        if not data["content"].strip():
            raise forms.ValidationError("choose a file or paste its content")
        return data

    def sealed_after_check(self) -> ImportForm:
        """A fresh form for the next step: the checked content sealed, the text area empty."""
        return ImportForm(initial={"sealed": crypto.encrypt(self.cleaned_data["content"]), "dry_run": False,
                                   "format": self.cleaned_data["format"]})
