from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from harborops.core import login_throttle, services
from harborops.core.actor import Actor
from harborops.core.forms import RoleForm, TokenCreateForm, UserCreateForm
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.models import ApiToken, LoginFailureCounter
from harborops.core.permissions import role_required
from harborops.core.roles import ADMIN, VIEWER, role_of


@role_required(VIEWER, methods=("GET", "POST"))
def token_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Your own API tokens. A new key is shown exactly once: it rides in the session from the
    POST to the redirected GET (so a reload neither re-creates a token nor shows the key again)."""
    form = TokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        _, key = services.issue_token(actor=Actor.from_request(request), user=request.user,
                                      name=form.cleaned_data["name"])
        request.session["new_token_key"] = key
        return redirect("core:token_list")
    new_key = request.session.pop("new_token_key", None)
    tokens = ApiToken.objects.filter(user=request.user)
    response = render(request, "core/token_list.html", {"form": form, "tokens": tokens, "new_key": new_key})
    response["Cache-Control"] = "no-store"
    return response


@role_required(VIEWER, methods=("POST",))
def token_revoke(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.revoke_token(actor=Actor.from_request(request), token=token)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("core:token_list")


@role_required(ADMIN, methods=("GET", "POST"))
def user_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        user = services.create_user(actor=Actor.from_request(request), username=data["username"],
                                    password=data["password"], email=data["email"], role=data["role"] or None)
        messages.success(request, f"User {user.username} created.")
        return redirect("core:user_list")
    users = [(u, role_of(u), *_origin(u, role_of(u)))
             for u in User.objects.order_by("username").select_related("ldap_account").prefetch_related("groups")]
    return render(request, "core/user_list.html", {"users": users, "form": form, "role_form": RoleForm(),
                                                   "lockouts": login_throttle.active_lockouts(),
                                                   "login_failure_limit": settings.LOGIN_FAILURE_LIMIT})


@role_required(ADMIN, methods=("POST",))
def lockout_clear(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    counter = get_object_or_404(LoginFailureCounter, pk=pk)
    login_throttle.clear(counter, actor=Actor.from_request(request))
    messages.success(request, f"Login lockout of {counter} cleared.")
    return redirect("core:user_list")


def _origin(user: User, role: str | None) -> tuple[str, str]:
    """(where the account lives, where its role comes from) for the Users page. An LDAP login keeps the role
    its groups map to unless an admin gave a higher one by hand (access/login.py apply_role_mapping)."""
    account = getattr(user, "ldap_account", None)  # the access app's LdapAccount, when the user came from LDAP
    if account is None:
        return "local", "given by hand" if role else ""
    mapped = {dn for dns in getattr(settings, "LDAP_ROLE_GROUPS", {}).values() for dn in dns}
    groups = [dn for dn in account.groups if dn.lower() in mapped]
    if role and role == (account.ldap_role or None):
        return f"LDAP: {account.dn}", "LDAP group " + ", ".join(groups) if groups else "LDAP groups"
    return f"LDAP: {account.dn}", "given by hand" if role else ""


@role_required(ADMIN, methods=("POST",))
def user_role(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Unknown role.")
    elif user == request.user and form.cleaned_data["role"] != ADMIN:
        messages.error(request, "You cannot take the admin role from yourself.")
    else:
        services.change_role(actor=Actor.from_request(request), user=user, role=form.cleaned_data["role"] or None)
        messages.success(request, f"{user.username} is now {form.cleaned_data['role'] or 'without access'}.")
    return redirect("core:user_list")
