"""System checks for the alerts settings (after healthchecks hc/api/apps.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from harborops.alerts.config import parse_label_overrides


@register()
def check_alert_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    out: list[CheckMessage] = []
    for name in ("ALERT_DOWN_AFTER_FAILURES_BY_LABEL", "ALERT_DOWN_AFTER_MINUTES_BY_LABEL",
                 "ALERT_UP_AFTER_SUCCESSES_BY_LABEL"):
        try:
            parse_label_overrides(getattr(settings, name))
        except ValueError as exc:
            out.append(Error(f"HARBOROPS_{name}: {exc}", hint='write "label=value:N, label=value:N"',
                             id="harborops.alerts.E001"))
    if settings.ALERT_DOWN_AFTER_FAILURES < 1 or settings.ALERT_UP_AFTER_SUCCESSES < 1:
        out.append(Error("HARBOROPS_ALERT_DOWN_AFTER_FAILURES and _UP_AFTER_SUCCESSES must be at least 1",
                         id="harborops.alerts.E002"))
    return out
