from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
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

    def prepare_value(self, value: Any) -> str:
        """Never rendered back, whatever the widget: a form shown again with an error (a taken name) after a
        key was pasted into a textarea must not carry the key (tests/core/test_secret_canaries.py)."""
        return ""


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


class ThrottledAuthenticationForm(AuthenticationForm):
    """The login form with login throttling (core/login_throttle.py): a locked-out user name or address is
    refused before any password check, and every failure counts towards a lockout."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked_out": "Too many failed logins for this account or from this address: try again after %(until)s.",
    }
    locked_message = ""  # the lockout text for the page (the generic "wrong password" text otherwise)

    def clean(self) -> dict[str, Any]:
        from django.utils import timezone

        from harborops.core import login_throttle
        from harborops.core.actor import Actor

        username = str(self.data.get("username") or "")
        actor = Actor.from_request(self.request) if self.request else Actor.system("login")
        until = login_throttle.locked_until(username, actor.source_ip)
        if until is not None:
            self.locked_message = self.error_messages["locked_out"] % {
                "until": timezone.localtime(until).strftime("%H:%M:%S %Z")}
            raise forms.ValidationError(self.locked_message, code="locked_out")
        try:
            cleaned = super().clean()
        except forms.ValidationError as exc:
            if getattr(exc, "code", None) == "invalid_login":
                login_throttle.register_failure(username, actor.source_ip, actor=actor)
            raise
        login_throttle.register_success(username)
        return cleaned
