from __future__ import annotations

import json
from typing import Any

from django import forms

from harborops.core.forms import SecretField
from harborops.fleet.models import Instance


class InstanceForm(forms.ModelForm[Instance]):
    password = SecretField(label="Password or robot secret")
    labels_text = forms.CharField(
        label="Labels", required=False, widget=forms.TextInput(attrs={"placeholder": "env=prod, region=eu"}),
        help_text="key=value pairs, comma-separated")

    class Meta:
        model = Instance
        fields = ("name", "url", "credential_kind", "username", "ca_bundle", "notes", "enabled", "ha_group")
        widgets = {"ca_bundle": forms.Textarea(attrs={"rows": 4}), "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["labels_text"].initial = ", ".join(f"{k}={v}" for k, v in self.instance.labels.items())
        else:
            self.fields["password"].required = True
            self.fields["password"].help_text = ""

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

    def labels_json(self) -> str:
        return json.dumps(self.cleaned_data.get("labels_text", {}))
