"""The search filter, shared by the page, the exports and the API (one validation, one meaning)."""

from __future__ import annotations

from typing import Any

from django import forms

from harborops.events.query import SOURCES, Cursor, EventFilter
from harborops.fleet.models import Instance


class EventFilterForm(forms.Form):
    instance = forms.ModelMultipleChoiceField(queryset=Instance.objects.order_by("name").defer("password"),
                                              required=False, to_field_name="pk")
    label = forms.CharField(required=False, max_length=200, help_text="key=value")
    user = forms.CharField(required=False, max_length=255)
    operation = forms.CharField(required=False, max_length=64)
    resource_type = forms.CharField(required=False, max_length=64)
    resource = forms.CharField(required=False, max_length=1024, help_text="starts with")
    contains = forms.CharField(required=False, max_length=1024, help_text="resource contains")
    project = forms.CharField(required=False, max_length=255)
    since = forms.DateTimeField(required=False)
    until = forms.DateTimeField(required=False)
    source = forms.ChoiceField(choices=list(SOURCES.items()), required=False)
    cursor = forms.CharField(required=False, max_length=200)
    limit = forms.IntegerField(required=False, min_value=1, max_value=500)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        if data is not None:
            # "any instance" in the page's select arrives as instance=""; it means no restriction.
            data = data.copy()
            data.setlist("instance", [v for v in data.getlist("instance") if v.strip()])
        super().__init__(data, **kwargs)

    def clean_cursor(self) -> Cursor | None:
        token = self.cleaned_data.get("cursor") or ""
        if not token:
            return None
        cursor = Cursor.decode(token)
        if cursor is None:
            raise forms.ValidationError("not a cursor from a previous page")
        return cursor

    def to_filter(self) -> EventFilter:
        d: dict[str, Any] = self.cleaned_data
        return EventFilter(
            instances=[i.pk for i in d.get("instance") or []], label=(d.get("label") or "").strip(),
            user=(d.get("user") or "").strip(), operation=(d.get("operation") or "").strip(),
            resource_type=(d.get("resource_type") or "").strip(), resource_prefix=d.get("resource") or "",
            resource_contains=d.get("contains") or "", project=(d.get("project") or "").strip(),
            since=d.get("since"), until=d.get("until"), source=d.get("source") or "all")
