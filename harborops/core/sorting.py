"""Sortable list pages: ``?sort=<key>`` ascending, ``?sort=-<key>`` descending, for the keys a page allows.

A view calls :func:`sort_queryset` with its allowed keys; the template renders each header with
``{% sort_header sorting "key" "Label" %}`` (harborops/core/templatetags/sorting.py), a link that sorts
by that column and flips the direction when it already sorts by it. Other query parameters are kept;
the page number is dropped (a new order starts on page 1). Unknown keys fall back to the default."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Model, QuerySet
from django.http import QueryDict

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Sorting:
    key: str  # the allowed key in use
    descending: bool
    params: QueryDict  # the request's query, without page and sort

    @property
    def value(self) -> str:
        return f"-{self.key}" if self.descending else self.key

    def link(self, key: str) -> str:
        """The query string that sorts by ``key``: ascending, or flipped when already sorted by it."""
        q = self.params.copy()
        q["sort"] = f"-{key}" if key == self.key and not self.descending else key
        return q.urlencode()

    def arrow(self, key: str) -> str:
        if key != self.key:
            return ""
        return "▼" if self.descending else "▲"


def _flip(field: str) -> str:
    return field[1:] if field.startswith("-") else f"-{field}"


def sort_queryset(query: QueryDict, qs: QuerySet[M], allowed: Mapping[str, str | Sequence[str]], default: str,
                  *, tiebreak: str = "pk") -> tuple[QuerySet[M], Sorting]:
    """Order ``qs`` by ``query['sort']`` when it names an allowed key (``-`` prefix = descending).
    ``allowed`` maps a key to one or more model field paths; descending flips each."""
    raw = str(query.get("sort") or default)
    descending = raw.startswith("-")
    key = raw.lstrip("-")
    if key not in allowed:
        descending = default.startswith("-")
        key = default.lstrip("-")
    fields = allowed[key]
    fields = [fields] if isinstance(fields, str) else list(fields)
    order = [_flip(f) if descending else f for f in fields]
    params = query.copy()
    params.pop("page", None)
    params.pop("sort", None)
    return qs.order_by(*order, tiebreak), Sorting(key, descending, params)
