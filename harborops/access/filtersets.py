from __future__ import annotations

import django_filters

from harborops.access.models import DriftFinding, TeamMapping


class MappingFilterSet(django_filters.FilterSet):
    ldap_group_dn = django_filters.CharFilter(lookup_expr="iexact")
    project_name = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = TeamMapping
        fields = ("ldap_group_dn", "project_name", "role", "targets", "authoritative")


class DriftFilterSet(django_filters.FilterSet):
    class Meta:
        model = DriftFinding
        fields = ("kind", "instance", "mapping", "project_name")
