"""The alerts app's own condition: a notification channel failing for hours (shown on the home page
like any alert; routed too, so another channel can say that this one is broken)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.conf import settings

from harborops.core.conditions import Occurrence, conditions


@conditions("alerts", {"alerts.channel_failing": "Notification channel failing"})
def alert_conditions(at: dt.datetime) -> Iterator[Occurrence]:
    from harborops.alerts.models import Channel

    cutoff = at - dt.timedelta(minutes=settings.ALERT_CHANNEL_FAILING_MINUTES)
    for ch in Channel.objects.filter(enabled=True, failing_since__lte=cutoff):
        assert ch.failing_since is not None
        hours = (at - ch.failing_since).total_seconds() / 3600
        yield Occurrence("alerts.channel_failing", f"channel:{ch.pk}", "warning",
                         f"Channel {ch.name} has failed to deliver for {hours:.1f} h",
                         f"Last error: {ch.last_error}", link=f"/alerts/channels/{ch.pk}/",
                         labels={"channel": ch.name})
