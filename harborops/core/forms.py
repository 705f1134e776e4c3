from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password

from harborops.core.roles import ROLES

ROLE_CHOICES = [("", "no access"), *[(r, r) for r in ROLES]]


class SecretField(forms.CharField):
    """A write-only secret: rendered empty (never the stored value); blank means "keep"."""

    widget = forms.PasswordInput(render_value=False)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        kwargs.setdefault("help_text", "Write-only: leave blank to keep the stored value.")
        super().__init__(**kwargs)


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'grafana' or 'ci'.")


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES, required=False)


class UserCreateForm(forms.Form):
    username = forms.RegexField(regex=r"^[\w.@+-]{1,150}$", max_length=150)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=ROLE_CHOICES, required=False)
    password = SecretField(required=True, help_text="At least 10 characters.")

    def clean_username(self) -> str:
        name: str = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=name).exists():
            raise forms.ValidationError("a user with this name exists")
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password"):
            validate_password(data["password"], User(username=data.get("username", "")))
        return data
