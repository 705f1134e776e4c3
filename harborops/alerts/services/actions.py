"""What people do to alerts, silences, routes and channels; each change goes to the action log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.timezone import now

from harborops.alerts.models import Alert, Channel, Notification, Route, Silence
from harborops.alerts.services.lifecycle import create_notification
from harborops.audit import services as audit
from harborops.core.actor import Actor

SILENCE_FIELDS = ("condition", "instance", "labels", "starts_at", "ends_at", "reason")
ROUTE_FIELDS = ("name", "position", "enabled", "is_default", "severities", "conditions", "labels",
                "continue_matching")
CHANNEL_FIELDS = ("name", "kind", "enabled", "email_to", "url", "webhook_format")


def acknowledge(alert: Alert, *, actor: Actor, comment: str = "") -> Alert:
    """Firing → acknowledged: no more reminders; the recovery notice still goes out."""
    with transaction.atomic():
        got = Alert.objects.filter(pk=alert.pk, state=Alert.State.FIRING).update(
            state=Alert.State.ACKNOWLEDGED, acknowledged_by=actor.user, acknowledged_by_name=actor.name,
            acknowledged_at=now(), acknowledge_comment=comment.strip())
        if got != 1:
            raise ValidationError("only a firing alert can be acknowledged")
        alert.refresh_from_db()
        audit.record(actor=actor, action="alerts.alert.acknowledge", obj=alert,
                     after={"comment": alert.acknowledge_comment})
    return alert


def unacknowledge(alert: Alert, *, actor: Actor) -> Alert:
    with transaction.atomic():
        got = Alert.objects.filter(pk=alert.pk, state=Alert.State.ACKNOWLEDGED).update(
            state=Alert.State.FIRING, acknowledged_by=None, acknowledged_by_name="", acknowledged_at=None,
            acknowledge_comment="")
        if got != 1:
            raise ValidationError("the alert is not acknowledged")
        alert.refresh_from_db()
        audit.record(actor=actor, action="alerts.alert.unacknowledge", obj=alert)
    return alert


def _silence_snapshot(s: Silence) -> dict[str, Any]:
    return {"condition": s.condition, "instance": s.instance_id, "labels": s.labels,
            "starts_at": s.starts_at, "ends_at": s.ends_at, "reason": s.reason}


def _check_silence(s: Silence) -> None:
    errors: dict[str, str] = {}
    if not (s.condition or s.instance_id or s.labels):
        errors["condition"] = "a silence needs at least one matcher (condition, instance or labels)"
    if s.ends_at <= s.starts_at:
        errors["ends_at"] = "the end must be after the start"
    if not s.reason.strip():
        errors["reason"] = "say why"
    if errors:
        raise ValidationError(errors)


def create_silence(*, actor: Actor, **fields: Any) -> Silence:
    fields.setdefault("starts_at", now())
    fields.setdefault("labels", {})
    s = Silence(author=actor.user, author_name=actor.name, **fields)
    _check_silence(s)
    with transaction.atomic():
        s.save()
        audit.record(actor=actor, action="alerts.silence.create", obj=s, after=_silence_snapshot(s))
    return s


def update_silence(s: Silence, *, actor: Actor, **fields: Any) -> Silence:
    before = _silence_snapshot(s)
    for k, v in fields.items():
        setattr(s, k, v)
    _check_silence(s)
    with transaction.atomic():
        s.save()
        audit.record(actor=actor, action="alerts.silence.update", obj=s, before=before, after=_silence_snapshot(s))
    return s


def expire_silence(s: Silence, *, actor: Actor, at: dt.datetime | None = None) -> Silence:
    at = at or now()
    if s.ends_at <= at:
        return s
    return update_silence(s, actor=actor, ends_at=at, starts_at=min(s.starts_at, at - dt.timedelta(seconds=1)))


def delete_silence(s: Silence, *, actor: Actor) -> None:
    with transaction.atomic():
        audit.record(actor=actor, action="alerts.silence.delete", obj=s, before=_silence_snapshot(s))
        s.delete()


def _route_snapshot(r: Route) -> dict[str, Any]:
    data = {f: getattr(r, f) for f in ROUTE_FIELDS}
    data["channels"] = sorted(c.name for c in r.channels.all()) if r.pk else []
    return data


def save_route(route: Route | None, *, actor: Actor, channels: list[Channel] | None = None, **fields: Any) -> Route:
    creating = route is None
    route = route or Route()
    before = None if creating else _route_snapshot(route)
    for k, v in fields.items():
        setattr(route, k, v)
    bad = [s for s in route.severities if s not in ("critical", "warning", "info")]
    if bad:
        raise ValidationError({"severities": f"unknown severity: {', '.join(bad)}"})
    with transaction.atomic():
        route.full_clean(exclude=["channels"])
        route.save()
        if channels is not None:
            route.channels.set(channels)
        audit.record(actor=actor, action="alerts.route.create" if creating else "alerts.route.update", obj=route,
                     before=before, after=_route_snapshot(route))
    return route


def delete_route(route: Route, *, actor: Actor) -> None:
    with transaction.atomic():
        audit.record(actor=actor, action="alerts.route.delete", obj=route, before=_route_snapshot(route))
        route.delete()


def _channel_snapshot(c: Channel) -> dict[str, Any]:
    data = {f: getattr(c, f) for f in CHANNEL_FIELDS}
    data["url"] = "(set)" if c.url else ""  # webhook URLs (Slack, Teams) carry tokens
    data["secret"] = "(set)" if c.secret else ""
    return data


def _check_channel(c: Channel) -> None:
    if c.kind == Channel.Kind.EMAIL and not c.recipients():
        raise ValidationError({"email_to": "an email channel needs at least one recipient"})
    if c.kind in (Channel.Kind.WEBHOOK, Channel.Kind.ALERTMANAGER) and not c.url:
        raise ValidationError({"url": "this channel needs a URL"})
    from django.core.validators import EmailValidator

    for addr in c.recipients():
        try:
            EmailValidator()(addr)
        except ValidationError:
            raise ValidationError({"email_to": f"not an email address: {addr}"}) from None


def save_channel(channel: Channel | None, *, actor: Actor, secret: str | None = None, **fields: Any) -> Channel:
    """Create or change a channel. ``secret`` None keeps the stored one; "" clears it."""
    creating = channel is None
    channel = channel or Channel()
    before = None if creating else _channel_snapshot(channel)
    for k, v in fields.items():
        if k == "url" and v is None:
            continue  # blank in an edit form: keep the stored URL
        setattr(channel, k, v)
    if secret is not None:
        channel.secret = secret
    _check_channel(channel)
    with transaction.atomic():
        channel.full_clean()
        channel.save()
        audit.record(actor=actor, action="alerts.channel.create" if creating else "alerts.channel.update",
                     obj=channel, before=before, after=_channel_snapshot(channel))
    return channel


def delete_channel(channel: Channel, *, actor: Actor) -> None:
    with transaction.atomic():
        audit.record(actor=actor, action="alerts.channel.delete", obj=channel, before=_channel_snapshot(channel))
        channel.delete()


def send_test(channel: Channel, *, actor: Actor) -> Notification:
    """Queue a test notification to this channel (delivered by a worker like any other)."""
    with transaction.atomic():
        n = create_notification(channel, Notification.Kind.TEST, [], now(), route_name="(test)")
        audit.record(actor=actor, action="alerts.channel.test", obj=channel, message=f"notification {n.pk}")
    from harborops.alerts.services.delivery import enqueue

    transaction.on_commit(lambda: enqueue([n.pk]))
    return n
