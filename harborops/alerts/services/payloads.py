"""What a notification says: alert dicts frozen into the outbox row, and each channel kind's body."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings

from harborops.alerts.models import Alert, Notification
from harborops.core.conditions import title

LABEL_NAME = re.compile(r"[^a-zA-Z0-9_]")


def absolute(link: str) -> str:
    if not link or link.startswith(("http://", "https://")):
        return link
    return settings.SITE_URL.rstrip("/") + "/" + link.lstrip("/")


def alert_dict(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.pk, "condition": alert.condition, "title": title(alert.condition), "subject": alert.subject,
        "severity": alert.severity, "summary": alert.summary, "details": alert.details,
        "link": absolute(alert.link), "url": absolute(alert.get_absolute_url()),
        "instance": alert.instance_name, "labels": alert.labels, "state": alert.state,
        "first_seen": alert.first_seen.isoformat(), "last_seen": alert.last_seen.isoformat(),
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
    }


def test_alert_dict(at: dt.datetime) -> dict[str, Any]:
    return {"id": None, "condition": "alerts.test", "title": "Test notification", "subject": "test",
            "severity": "info", "summary": "harborops test notification: this channel works",
            "details": "Sent with “Send test notification”.", "link": absolute("/alerts/"), "url": absolute("/alerts/"),
            "instance": "", "labels": {}, "state": "firing", "first_seen": at.isoformat(), "last_seen": at.isoformat(),
            "resolved_at": None}


def headline(kind: str, alerts: list[dict[str, Any]]) -> str:
    if kind == Notification.Kind.TEST:
        return "[harborops] Test notification"
    verb = {"firing": "firing", "reminder": "still firing", "resolved": "resolved"}.get(kind, kind)
    if len(alerts) == 1:
        a = alerts[0]
        return f"[harborops] {verb.upper()} {a['severity']}: {a['summary']}"
    return f"[harborops] {len(alerts)} alerts {verb}"


def generic(n: Notification) -> dict[str, Any]:
    return {"version": 1, "source": "harborops", "idempotency_key": str(n.idempotency_key), "kind": n.kind,
            "route": n.route_name, "title": n.payload.get("title", ""), "alerts": n.alert_dicts}


def _line(a: dict[str, Any]) -> str:
    where = f" ({a['instance']})" if a.get("instance") else ""
    return f"[{a['severity']}] {a['summary']}{where} — {a['link'] or a['url']}"


def slack(n: Notification) -> dict[str, Any]:
    """Slack incoming-webhook shape: ``text`` (fallback) plus blocks; the key in a context block."""
    text = n.payload.get("title", "") + "\n" + "\n".join(_line(a) for a in n.alert_dicts)
    return {"text": text, "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": n.payload.get("title", "")[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(_line(a) for a in n.alert_dicts)[:3000]}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"idempotency key {n.idempotency_key}"}]},
    ]}


THEME = {"critical": "D32F2F", "warning": "F9A825", "info": "1976D2"}


def teams(n: Notification) -> dict[str, Any]:
    """Microsoft Teams connector (Office 365 MessageCard) shape."""
    worst = min((a["severity"] for a in n.alert_dicts), key=lambda s: ["critical", "warning", "info"].index(s),
                default="info")
    color = "2E7D32" if n.kind == Notification.Kind.RESOLVED else THEME.get(worst, "1976D2")
    return {"@type": "MessageCard", "@context": "https://schema.org/extensions", "summary": n.payload.get("title", ""),
            "themeColor": color, "title": n.payload.get("title", ""),
            "sections": [{"activityTitle": a["summary"], "text": a.get("details", ""),
                          "facts": [{"name": "Severity", "value": a["severity"]},
                                    {"name": "Condition", "value": a["condition"]},
                                    {"name": "Instance", "value": a.get("instance") or "—"}],
                          "potentialAction": [{"@type": "OpenUri", "name": "Open",
                                               "targets": [{"os": "default", "uri": a["link"] or a["url"]}]}]}
                         for a in n.alert_dicts] + [{"facts": [{"name": "Idempotency key",
                                                                "value": str(n.idempotency_key)}]}]}


def alertmanager(n: Notification, at: dt.datetime) -> list[dict[str, Any]]:
    """Alertmanager v2 ``postableAlerts``: labels identify the alert, endsAt in the past resolves it.

    Firing alerts get an ``endsAt`` past the next reminder, so Alertmanager keeps them until harborops
    says again (or says resolved) instead of timing them out after its resolve_timeout."""
    keep = dt.timedelta(hours=max(settings.ALERT_REMINDER_HOURS, 1) + 1)
    out = []
    for a in n.alert_dicts:
        labels = {"alertname": a["condition"], "severity": a["severity"], "subject": a["subject"],
                  "source": "harborops"}
        if a.get("instance"):
            labels["instance"] = a["instance"]
        for k, v in (a.get("labels") or {}).items():
            labels.setdefault(LABEL_NAME.sub("_", str(k)), str(v))
        ends = a["resolved_at"] if n.kind == Notification.Kind.RESOLVED and a.get("resolved_at") else (
            at + (dt.timedelta(minutes=5) if n.kind == Notification.Kind.TEST else keep)).isoformat()
        out.append({"labels": labels,
                    "annotations": {"summary": a["summary"], "description": a.get("details", ""),
                                    "link": a.get("link", ""), "title": a.get("title", ""),
                                    "idempotency_key": str(n.idempotency_key)},
                    "startsAt": a["first_seen"], "endsAt": ends, "generatorURL": a["url"]})
    return out
