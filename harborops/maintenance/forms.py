from __future__ import annotations

from typing import Any

from django import forms

from harborops.core.widgets import LongCheckboxSelectMultiple, LongSelect
from harborops.fleet.models import Instance
from harborops.maintenance.models import GCPolicy, OfflineTarget


class PolicyForm(forms.ModelForm):
    """A GC policy; the service checks the crons, the label and the ranges."""

    targets = forms.ChoiceField(choices=GCPolicy.Targets.choices, initial=GCPolicy.Targets.ALL,
                                widget=forms.RadioSelect)
    instances = forms.ModelMultipleChoiceField(queryset=Instance.objects.order_by("name").defer("password"),
                                               required=False,
                                               widget=LongCheckboxSelectMultiple(inline=True))
    offline_targets = forms.ModelMultipleChoiceField(queryset=OfflineTarget.objects.order_by("name"), required=False,
                                                     widget=forms.CheckboxSelectMultiple,
                                                     label="Offline registries (over SSH)")

    class Meta:
        model = GCPolicy
        fields = ("name", "enabled", "targets", "target_label", "instances", "offline_targets", "cron", "window_start",
                  "window_minutes", "concurrency", "delete_untagged", "dry_run_first", "workers", "harbor_cron",
                  "notes")
        widgets = {"notes": forms.Textarea(attrs={"rows": 2}),
                   "window_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                   "cron": forms.TextInput(attrs={"placeholder": "0 2 * * 6"}),
                   "harbor_cron": forms.TextInput(attrs={"placeholder": "0 0 3 * * 0"}),
                   "target_label": forms.TextInput(attrs={"placeholder": "env=prod"})}
        labels = {"cron": "Cron (harborops runs it)", "window_minutes": "Window length (minutes)",
                  "concurrency": "Instances at once", "dry_run_first": "Dry run first",
                  "harbor_cron": "Harbor's own schedule"}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("targets") == GCPolicy.Targets.LISTED and not data.get("instances") \
                and not data.get("offline_targets"):
            self.add_error("instances", "pick at least one instance or offline registry")
        return data

    def service_fields(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in self.Meta.fields if k not in ("instances", "offline_targets")}


class ArgvField(forms.CharField):
    """A command typed as shell-like text, kept as an argument list (quoted again when run)."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            import shlex

            return " ".join(shlex.quote(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        import shlex

        text = super().to_python(value) or ""
        try:
            return shlex.split(text)
        except ValueError as exc:
            raise forms.ValidationError(f"cannot split the command: {exc}") from None


class RefsField(forms.CharField):
    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        return [line.strip() for line in (super().to_python(value) or "").splitlines() if line.strip()]


class OfflineTargetForm(forms.ModelForm):
    registry_url = forms.URLField(max_length=300, assume_scheme="http",
                                  help_text="where the registry answers /v2/ (from harborops)")
    stop_command = ArgvField(required=False, help_text="for 'commands': e.g. /opt/registry/ctl stop")
    start_command = ArgvField(required=False, help_text="for 'commands': e.g. /opt/registry/ctl start")
    gc_command = ArgvField(required=False, help_text="blank = 'registry garbage-collect'; a Harbor install: "
                                                     "docker compose run --rm registry garbage-collect")
    verify_refs = RefsField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                            help_text="one repository:tag per line that must pull after the restart")

    class Meta:
        model = OfflineTarget
        fields = ("name", "host", "instance", "stop_mode", "compose_dir", "compose_service", "systemd_unit",
                  "stop_command", "start_command", "gc_command", "config_path", "storage_dir", "registry_url",
                  "verify_refs", "command_timeout", "notes")
        widgets = {"notes": forms.Textarea(attrs={"rows": 2}), "instance": LongSelect}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["instance"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Instance.objects.order_by("name").defer("password")  # a 1,000-instance menu, no secrets

    def service_fields(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in self.Meta.fields}
