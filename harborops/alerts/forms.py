from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.timezone import now

from harborops.alerts.models import SEVERITY_CHOICES, Channel, Route
from harborops.core.forms import SecretField
from harborops.core.widgets import LongSelect
from harborops.fleet.models import Instance

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def parse_pairs(text: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in text.replace("\n", ",").split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise forms.ValidationError(f"{item.strip()!r} is not key=value")
        labels[key.strip()] = value.strip()
    return labels


def pairs_text(labels: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in labels.items())


class AckForm(forms.Form):
    comment = forms.CharField(required=False, max_length=2000, widget=forms.TextInput(
        attrs={"placeholder": "what you are doing about it"}))


class SilenceForm(forms.Form):
    condition = forms.CharField(required=False, max_length=100, help_text="a condition key or glob (fleet.*)")
    instance = forms.ModelChoiceField(Instance.objects.order_by("name").defer("password"), required=False,
                                      widget=LongSelect)
    labels_text = forms.CharField(label="Labels", required=False, help_text="key=value pairs, comma-separated")
    starts_at = forms.DateTimeField(required=False, widget=DATETIME, help_text="blank = now")
    ends_at = forms.DateTimeField(required=False, widget=DATETIME, help_text="or give a duration")
    hours = forms.IntegerField(required=False, min_value=1, max_value=24 * 90, label="Duration (hours)")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def clean_labels_text(self) -> dict[str, str]:
        return parse_pairs(self.cleaned_data["labels_text"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start = data.get("starts_at") or now()
        if not data.get("ends_at"):
            if not data.get("hours"):
                raise forms.ValidationError("give an end or a duration")
            data["ends_at"] = start + dt.timedelta(hours=data["hours"])
        data["starts_at"] = start
        return data

    def service_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"condition": d["condition"].strip(), "instance": d["instance"], "labels": d["labels_text"],
                "starts_at": d["starts_at"], "ends_at": d["ends_at"], "reason": d["reason"]}


class RouteForm(forms.Form):
    name = forms.CharField(max_length=100)
    position = forms.IntegerField(min_value=0, initial=100, help_text="lower goes first")
    enabled = forms.BooleanField(required=False, initial=True)
    is_default = forms.BooleanField(required=False, label="Default route",
                                    help_text="takes the alerts no other route matched")
    severities = forms.MultipleChoiceField(choices=SEVERITY_CHOICES, required=False,
                                           widget=forms.CheckboxSelectMultiple, help_text="none = any")
    conditions_text = forms.CharField(label="Conditions", required=False,
                                      help_text="keys or globs, comma-separated (fleet.*, certificates.expiring)")
    labels_text = forms.CharField(label="Instance labels", required=False, help_text="team=payments, env=prod")
    continue_matching = forms.BooleanField(required=False, help_text="later routes get the alert too")
    channels = forms.ModelMultipleChoiceField(Channel.objects.all(), required=False,
                                              widget=forms.CheckboxSelectMultiple)

    @classmethod
    def for_route(cls, route: Route | None, data: Any = None) -> RouteForm:
        initial = {}
        if route is not None:
            initial = {"name": route.name, "position": route.position, "enabled": route.enabled,
                       "is_default": route.is_default, "severities": route.severities,
                       "conditions_text": ", ".join(route.conditions), "labels_text": pairs_text(route.labels),
                       "continue_matching": route.continue_matching, "channels": list(route.channels.all())}
        return cls(data, initial=initial)

    def clean_labels_text(self) -> dict[str, str]:
        return parse_pairs(self.cleaned_data["labels_text"])

    def service_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"name": d["name"], "position": d["position"], "enabled": d["enabled"], "is_default": d["is_default"],
                "severities": list(d["severities"]), "labels": d["labels_text"],
                "conditions": [c.strip() for c in d["conditions_text"].split(",") if c.strip()],
                "continue_matching": d["continue_matching"], "channels": list(d["channels"])}


class ChannelForm(forms.Form):
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=Channel.Kind.choices)
    enabled = forms.BooleanField(required=False, initial=True)
    email_to = forms.CharField(label="Recipients", required=False, widget=forms.Textarea(attrs={"rows": 2}),
                               help_text="email: addresses, comma or newline separated")
    url = forms.URLField(label="URL", required=False, max_length=500, assume_scheme="https",
                         help_text="webhook URL or Alertmanager base URL")
    webhook_format = forms.ChoiceField(choices=Channel.Format.choices, initial=Channel.Format.GENERIC)
    secret = SecretField(label="HMAC secret", help_text="webhook: signs the body (X-Harborops-Signature: "
                                                        "sha256=…). Write-only.")
    clear_secret = forms.BooleanField(required=False, label="Remove the stored secret")

    def __init__(self, *args: Any, channel: Channel | None = None, **kwargs: Any) -> None:
        self.channel = channel
        if channel is not None:
            kwargs.setdefault("initial", {"name": channel.name, "kind": channel.kind, "enabled": channel.enabled,
                                          "email_to": channel.email_to, "webhook_format": channel.webhook_format})
        super().__init__(*args, **kwargs)
        if channel is not None and channel.url:
            # Webhook URLs (Slack, Teams) carry tokens: never rendered back; blank keeps the stored one.
            self.fields["url"].help_text = "A URL is stored (not shown). Leave blank to keep it."

    def service_fields(self) -> dict[str, Any]:
        d = self.cleaned_data
        fields: dict[str, Any] = {"name": d["name"], "kind": d["kind"], "enabled": d["enabled"],
                                  "email_to": d["email_to"], "webhook_format": d["webhook_format"],
                                  "url": d["url"] or (None if self.channel is not None else "")}
        if d.get("clear_secret"):
            fields["secret"] = ""
        elif d.get("secret"):
            fields["secret"] = d["secret"]
        return fields
