"""What a deletion takes with it, for the confirmation pages of destructive actions.

Django's own deletion collector computes it — the same walk ``obj.delete()`` will do — so every app's
rows that cascade from an object (snapshots, status history, memberships, findings, events …) are named
without each view listing them by hand, and a model added later is counted too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import models, router
from django.db.models import QuerySet
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@dataclass(frozen=True)
class Consequence:
    what: str  # "health snapshots"
    count: int
    effect: str  # "deleted" | "kept, unlinked" | "block the deletion"

    def text(self) -> str:
        return f"{self.count} {self.what} {self.effect}"


def consequences(obj: models.Model) -> list[Consequence]:
    """Rows deleted with ``obj`` (not counting ``obj`` itself) and rows kept but unlinked (SET_NULL)."""
    collector = Collector(using=router.db_for_write(type(obj), instance=obj))
    try:
        collector.collect([obj])
    except (ProtectedError, RestrictedError) as exc:
        blockers: Counter[str] = Counter(str(o._meta.verbose_name_plural) for o in exc.args[1])
        return [Consequence(what, n, "block the deletion") for what, n in sorted(blockers.items())]
    deleted: Counter[str] = Counter()
    for model, instances in collector.data.items():
        deleted[str(model._meta.verbose_name_plural)] += sum(1 for i in instances if i is not obj)
    for queryset in collector.fast_deletes:
        deleted[str(queryset.model._meta.verbose_name_plural)] += queryset.count()
    unlinked: Counter[str] = Counter()
    for (field, _value), instances in collector.field_updates.items():
        for batch in instances:
            rows: Any = batch
            unlinked[str(field.model._meta.verbose_name_plural)] += (
                rows.count() if isinstance(rows, QuerySet) else len(rows))
    return sorted(
        [Consequence(what, n, "deleted") for what, n in deleted.items() if n]
        + [Consequence(what, n, "kept, unlinked") for what, n in unlinked.items() if n],
        key=lambda c: (c.effect, c.what),
    )


def confirmation(request: HttpRequest, obj: models.Model, *, label: str, cancel_url: str,
                 note: str = "") -> HttpResponse:
    """The GET half of a destructive action: what goes with ``obj``, and a button that POSTs the deletion."""
    found = consequences(obj)
    return render(request, "core/confirm_delete.html", {
        "object_label": label, "consequences": found, "cancel_url": cancel_url, "note": note,
        "blocked": any(c.effect == "block the deletion" for c in found)})
