"""Re-encrypt every encrypted column with the first key of HARBOROPS_SECRET_KEYS."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.core.fields import EncryptedTextField


def encrypted_fields() -> list[tuple[Any, list[str]]]:
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found


def rotate_all(batch: int = 500) -> dict[str, int]:
    counts: dict[str, int] = {}
    for model, names in encrypted_fields():
        label = model._meta.label
        counts[label] = 0
        pks = list(model._default_manager.values_list("pk", flat=True))
        for start in range(0, len(pks), batch):
            with transaction.atomic():
                for obj in model._default_manager.filter(pk__in=pks[start:start + batch]).select_for_update():
                    # Reading decrypted with any key; saving encrypts with the first one.
                    obj.save(update_fields=names)
                    counts[label] += 1
    return counts


class Command(BaseCommand):
    help = ("Re-encrypt all stored secrets with the first key in HARBOROPS_SECRET_KEYS. Run after adding a new "
            "key in front; then the old keys can be removed.")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = rotate_all()
        record(actor=Actor.system("rotate_secret_keys"), action="secrets.rotate", object_type="core.secrets",
               object_repr="encrypted columns", after=counts)
        for label, n in counts.items():
            self.stdout.write(f"{label}: {n} row(s) re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"done: {sum(counts.values())} row(s)"))
