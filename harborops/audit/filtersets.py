from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from harborops.audit.models import ActionLogEntry


class ActionLogFilterSet(django_filters.FilterSet):
    """Shared by the page and the API (NetBox style)."""

    q = django_filters.CharFilter(method="search", label="Search")
    actor = django_filters.CharFilter(field_name="actor_name", lookup_expr="iexact")
    action = django_filters.CharFilter(field_name="action", lookup_expr="istartswith")
    object_type = django_filters.CharFilter(field_name="object_type")
    object_id = django_filters.CharFilter(field_name="object_id")
    outcome = django_filters.ChoiceFilter(choices=ActionLogEntry.Outcome.choices)
    request_id = django_filters.CharFilter(field_name="request_id")
    since = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="lt")

    class Meta:
        model = ActionLogEntry
        fields = ("q", "actor", "action", "object_type", "object_id", "outcome", "request_id", "since", "until")

    def search(self, queryset: QuerySet[ActionLogEntry], name: str, value: str) -> QuerySet[ActionLogEntry]:
        return queryset.filter(Q(object_repr__icontains=value) | Q(message__icontains=value)
                               | Q(action__icontains=value) | Q(actor_name__icontains=value))
