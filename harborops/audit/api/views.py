from __future__ import annotations

from rest_framework import viewsets

from harborops.audit.api.serializers import ActionLogEntrySerializer
from harborops.audit.filtersets import ActionLogFilterSet
from harborops.audit.models import ActionLogEntry


class ActionLogViewSet(viewsets.ReadOnlyModelViewSet[ActionLogEntry]):
    queryset = ActionLogEntry.objects.all()
    serializer_class = ActionLogEntrySerializer
    filterset_class = ActionLogFilterSet
