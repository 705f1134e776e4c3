"""Create the first admin once: password from HARBOROPS_ADMIN_PASSWORD, or generated and printed."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.core.roles import ADMIN, set_role
from harborops.env import envsecret, envstr


class Command(BaseCommand):
    help = "Create the first admin user if no admin exists (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        username = envstr("HARBOROPS_ADMIN_USER", "admin")
        if User.objects.filter(is_superuser=True).exists() or User.objects.filter(groups__name=ADMIN).exists():
            self.stdout.write("An admin exists already; nothing to do.")
            return
        password = envsecret("HARBOROPS_ADMIN_PASSWORD")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(15)
        user = User.objects.create_superuser(username=username, email="", password=password)
        set_role(user, ADMIN)
        record(actor=Actor.system("ensure_admin"), action="user.create", obj=user,
               after={"username": username, "role": ADMIN, "password": "set"})
        if generated:
            # Printed once to the terminal of whoever started harborops; never logged.
            self.stdout.write(self.style.SUCCESS(
                f"\n  First admin created.  user: {username}   password: {password}\n"
                "  (shown once; change it under Users, or set HARBOROPS_ADMIN_PASSWORD before the first start)\n"))
        else:
            self.stdout.write(self.style.SUCCESS(f"First admin {username!r} created with HARBOROPS_ADMIN_PASSWORD."))
