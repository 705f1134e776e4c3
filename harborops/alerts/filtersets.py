from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from harborops.alerts.models import SEVERITY_CHOICES, Alert
from harborops.fleet.models import Instance


class AlertFilterSet(django_filters.FilterSet):
    """Shared by the alerts page and ``GET /api/alerts/``. ``state=open`` is firing + acknowledged."""

    state = django_filters.ChoiceFilter(choices=[("open", "Open"), *Alert.State.choices], method="filter_state")
    severity = django_filters.ChoiceFilter(choices=SEVERITY_CHOICES)
    condition = django_filters.CharFilter(lookup_expr="startswith")
    instance = django_filters.ModelChoiceFilter(queryset=Instance.objects.order_by("name"))
    silenced = django_filters.BooleanFilter(field_name="silenced_by", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Alert
        fields = ("state", "severity", "condition", "instance", "silenced")

    def filter_state(self, queryset: QuerySet[Alert], name: str, value: Any) -> QuerySet[Alert]:
        if value == "open":
            return queryset.exclude(state=Alert.State.RESOLVED)
        return queryset.filter(state=value)
