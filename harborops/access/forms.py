from __future__ import annotations

from typing import Any

from django import forms

from harborops.access.models import TeamMapping, project_name_validator
from harborops.core.widgets import LongCheckboxSelectMultiple
from harborops.fleet.models import Instance


class TargetsMixin(forms.Form):
    targets = forms.ChoiceField(choices=TeamMapping.Targets.choices, initial=TeamMapping.Targets.ALL,
                                widget=forms.RadioSelect)
    target_label = forms.CharField(required=False, help_text="key=value, e.g. env=prod")
    instances = forms.ModelMultipleChoiceField(queryset=Instance.objects.order_by("name").defer("password"),
                                               required=False,
                                               widget=LongCheckboxSelectMultiple(inline=True))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("targets") == TeamMapping.Targets.LABEL and "=" not in (data.get("target_label") or ""):
            self.add_error("target_label", "write the label as key=value, e.g. env=prod")
        if data.get("targets") == TeamMapping.Targets.LISTED and not data.get("instances"):
            self.add_error("instances", "pick at least one instance")
        return data


class MappingForm(TargetsMixin, forms.ModelForm):
    """One mapping. ``ldap_group_dn`` comes from the live LDAP search (radio buttons)."""

    ldap_group_dn = forms.CharField(max_length=500, error_messages={"required": "search and pick an LDAP group"})

    class Meta:
        model = TeamMapping
        fields = ("ldap_group_dn", "ldap_group_name", "project_name", "role", "project_public", "project_quota_gib",
                  "targets", "target_label", "instances", "authoritative", "expand_nested", "notes")
        widgets = {"ldap_group_name": forms.HiddenInput, "notes": forms.Textarea(attrs={"rows": 2})}
        labels = {"project_quota_gib": "Storage quota (GiB)", "project_name": "Harbor project"}

    def service_fields(self) -> dict[str, Any]:
        return {k: self.cleaned_data.get(k) for k in self.Meta.fields if k != "instances"} | {
            "target_label": self.cleaned_data.get("target_label") or "",
            "ldap_group_name": self.cleaned_data.get("ldap_group_name") or ""}


class ProjectRowForm(forms.Form):
    project_name = forms.CharField(max_length=255, required=False, validators=[project_name_validator])
    role = forms.ChoiceField(choices=TeamMapping.Role.choices, initial=TeamMapping.Role.DEVELOPER)
    project_public = forms.BooleanField(required=False)
    project_quota_gib = forms.IntegerField(required=False, min_value=1)


ProjectRows = forms.formset_factory(ProjectRowForm, extra=3, max_num=10)


class OnboardForm(TargetsMixin):
    """The onboarding wizard: one LDAP group, several projects and roles, the instances."""

    ldap_group_dn = forms.CharField(max_length=500, error_messages={"required": "search and pick an LDAP group"})
    authoritative = forms.BooleanField(required=False)
    expand_nested = forms.BooleanField(required=False, label="Expand nested groups into user members")


class ApplyForm(forms.Form):
    mapping = forms.ModelMultipleChoiceField(queryset=TeamMapping.objects.all(), required=False)
