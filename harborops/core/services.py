"""Services of core that change state: users, roles and API tokens (each writes the action log)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.core.models import ApiToken
from harborops.core.roles import role_of, set_role


@transaction.atomic
def create_user(*, actor: Actor, username: str, password: str, email: str = "", role: str | None) -> User:
    user = User.objects.create_user(username=username, email=email, password=password)
    set_role(user, role or None)
    record(actor=actor, action="user.create", obj=user, after={"username": username, "email": email,
                                                               "role": role or None, "password": "set"})
    return user


@transaction.atomic
def change_role(*, actor: Actor, user: User, role: str | None) -> User:
    before = role_of(user)
    set_role(user, role or None)
    record(actor=actor, action="user.role", obj=user, before={"role": before}, after={"role": role or None})
    return user


@transaction.atomic
def issue_token(*, actor: Actor, user: User, name: str) -> tuple[ApiToken, str]:
    token, key = ApiToken.issue(user, name)
    record(actor=actor, action="token.create", obj=token, after={"name": name, "user": user.get_username()})
    return token, key


@transaction.atomic
def revoke_token(*, actor: Actor, token: ApiToken) -> None:
    record(actor=actor, action="token.revoke", obj=token, before={"name": token.name})
    token.delete()
