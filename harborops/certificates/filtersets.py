from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.timezone import now

from harborops.certificates.models import BAND_LABELS, BANDS, ChainEntry, Endpoint
from harborops.core.widgets import LongSelect
from harborops.fleet.models import Instance


class ExpiryFilterSet(django_filters.FilterSet):
    """The expiry page and /api/certificates/expiry/: every certificate an endpoint presents."""

    label = django_filters.CharFilter(field_name="endpoint__label", lookup_expr="icontains", label="Label")
    # every instance in the select: only what an option shows (a full row decrypts the password), written by
    # LongSelect (the stock widget's two templates per option cost 40 ms at 1,000 instances)
    instance = django_filters.ModelChoiceFilter(field_name="endpoint__instance", label="Instance", widget=LongSelect,
                                                queryset=Instance.objects.only("pk", "name"))
    issuer = django_filters.CharFilter(field_name="certificate__issuer", lookup_expr="icontains", label="Issuer")
    band = django_filters.ChoiceFilter(choices=list(BAND_LABELS.items()), method="by_band", label="Expiry")
    leaf_only = django_filters.BooleanFilter(method="by_leaf", label="Server certificates only",
                                             widget=forms.CheckboxInput)

    class Meta:
        model = ChainEntry
        fields = ("label", "instance", "issuer", "band", "leaf_only", "endpoint")

    def by_band(self, queryset: QuerySet[ChainEntry], name: str, value: str) -> QuerySet[ChainEntry]:
        at = now()
        limits = dict(BANDS)
        if value == "ok":
            return queryset.filter(certificate__not_after__gte=at + dt.timedelta(days=BANDS[-1][1]))
        order = [b for b, _ in BANDS]
        upper = at + dt.timedelta(days=limits[value])
        lower = at + dt.timedelta(days=limits[order[order.index(value) - 1]]) if order.index(value) else None
        q = Q(certificate__not_after__lt=upper)
        if lower is not None:
            q &= Q(certificate__not_after__gte=lower)
        return queryset.filter(q)

    def by_leaf(self, queryset: QuerySet[ChainEntry], name: str, value: bool | None) -> QuerySet[ChainEntry]:
        return queryset.filter(position=0) if value else queryset


class EndpointFilterSet(django_filters.FilterSet):
    label = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Endpoint
        fields = ("label", "instance", "source", "status", "enabled")
