from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from harborops.fleet.models import Instance


class InstanceFilterSet(django_filters.FilterSet):
    """Shared by the API and (later) the fleet overview page."""

    q = django_filters.CharFilter(method="search", label="Search name or URL")
    label = django_filters.CharFilter(method="by_label", label="key=value")
    version = django_filters.CharFilter(field_name="version", lookup_expr="istartswith")

    class Meta:
        model = Instance
        fields = ("q", "label", "status", "version", "enabled", "credential_kind", "ha_group")

    def search(self, queryset: QuerySet[Instance], name: str, value: str) -> QuerySet[Instance]:
        return queryset.filter(Q(name__icontains=value) | Q(url__icontains=value))

    def by_label(self, queryset: QuerySet[Instance], name: str, value: str) -> QuerySet[Instance]:
        key, sep, wanted = value.partition("=")
        if not sep:
            return queryset.filter(labels__has_key=key.strip())
        return queryset.filter(**{f"labels__{key.strip()}": wanted.strip()})
