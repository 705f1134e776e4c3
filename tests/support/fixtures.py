"""Persona fixtures (healthchecks' BaseTestCase): alice admin, bob operator, vera viewer,
charlie logged in without a role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from harborops.core.roles import ADMIN, OPERATOR, VIEWER, set_role

PASSWORD = "correct-horse-battery-staple"


def make_user(username: str, role: str | None) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD)
    set_role(user, role)
    return User.objects.get(pk=user.pk)


@pytest.fixture
def alice(db: None) -> User:
    return make_user("alice", ADMIN)


@pytest.fixture
def bob(db: None) -> User:
    return make_user("bob", OPERATOR)


@pytest.fixture
def vera(db: None) -> User:
    return make_user("vera", VIEWER)


@pytest.fixture
def charlie(db: None) -> User:
    return make_user("charlie", None)
