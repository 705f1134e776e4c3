"""Alert pages: list (filters, acknowledge, silence from an alert), detail with the delivery log,
silences, routes and channels. Thin: every change goes through services.actions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.timezone import now

from harborops.alerts.filtersets import AlertFilterSet
from harborops.alerts.forms import AckForm, ChannelForm, RouteForm, SilenceForm, pairs_text
from harborops.alerts.models import Alert, Channel, DeliveryAttempt, Notification, Route, Silence
from harborops.alerts.services import actions
from harborops.core.actor import Actor
from harborops.core.conditions import titles
from harborops.core.http import AuthenticatedHttpRequest
from harborops.core.permissions import role_required
from harborops.core.roles import ADMIN, OPERATOR, VIEWER


def _errors(request: AuthenticatedHttpRequest, exc: ValidationError) -> None:
    messages.error(request, "; ".join(exc.messages))


@role_required(VIEWER)
def alert_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    params = request.GET.copy()
    params.setdefault("state", "open")
    fs = AlertFilterSet(params, queryset=Alert.objects.select_related("instance", "silenced_by"))
    alerts = fs.qs if fs.is_valid() else Alert.objects.none()
    page = Paginator(alerts.order_by("-last_seen", "-pk"), 50).get_page(request.GET.get("page"))
    context = {"filter": fs, "page": page, "at": now(), "titles": titles(), "ack_form": AckForm()}
    if request.htmx:
        return render(request, "alerts/htmx/alert_rows.html", context)
    return render(request, "alerts/alert_list.html", context)


@role_required(VIEWER)
def alert_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert.objects.select_related("instance", "silenced_by"), pk=pk)
    notifications = alert.notifications.select_related("channel").prefetch_related(
        Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("attempt", "pk")))
    return render(request, "alerts/alert_detail.html", {
        "alert": alert, "notifications": notifications, "at": now(), "ack_form": AckForm(),
        "title": titles().get(alert.condition, alert.condition)})


@role_required(OPERATOR, methods=("POST",))
def alert_ack(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert, pk=pk)
    form = AckForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError("the comment is too long")
        actions.acknowledge(alert, actor=Actor.from_request(request), comment=form.cleaned_data["comment"])
        messages.success(request, f"Acknowledged: {alert.summary}")
    except ValidationError as exc:
        _errors(request, exc)
    return redirect(request.POST.get("next") or alert.get_absolute_url())


@role_required(OPERATOR, methods=("POST",))
def alert_unack(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    alert = get_object_or_404(Alert, pk=pk)
    try:
        actions.unacknowledge(alert, actor=Actor.from_request(request))
    except ValidationError as exc:
        _errors(request, exc)
    return redirect(alert)


@role_required(VIEWER)
def silence_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    at = now()
    silences = list(Silence.objects.select_related("instance"))
    return render(request, "alerts/silence_list.html", {
        "active": [s for s in silences if s.is_active(at)], "pending": [s for s in silences if s.starts_at > at],
        "expired": [s for s in silences if s.ends_at <= at][:50], "at": at})


@role_required(OPERATOR, methods=("GET", "POST"))
def silence_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    initial: dict[str, object] = {"hours": 2}
    source = Alert.objects.filter(pk=request.GET.get("alert") or 0).first() if request.GET.get(
        "alert", "").isdigit() else None
    if source is not None:  # "Silence" on an alert: match exactly it (condition + instance)
        initial.update({"condition": source.condition, "instance": source.instance_id,
                        "labels_text": "" if source.instance_id else pairs_text(source.labels)})
    form = SilenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            silence = actions.create_silence(actor=Actor.from_request(request), **form.service_fields())
            messages.success(request, f"Silence created until {silence.ends_at:%Y-%m-%d %H:%M} UTC.")
            return redirect("alerts:silence_list")
        except ValidationError as exc:
            _form_errors(form, exc)
    return render(request, "alerts/silence_form.html", {"form": form, "source": source})


def _form_errors(form: object, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errs)  # type: ignore[attr-defined]
    else:
        form.add_error(None, exc.messages)  # type: ignore[attr-defined]


@role_required(OPERATOR, methods=("GET", "POST"))
def silence_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    silence = get_object_or_404(Silence, pk=pk)
    initial = {"condition": silence.condition, "instance": silence.instance_id, "reason": silence.reason,
               "labels_text": pairs_text(silence.labels), "starts_at": silence.starts_at, "ends_at": silence.ends_at}
    form = SilenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_silence(silence, actor=Actor.from_request(request), **form.service_fields())
            messages.success(request, "Silence saved.")
            return redirect("alerts:silence_list")
        except ValidationError as exc:
            _form_errors(form, exc)
    return render(request, "alerts/silence_form.html", {"form": form, "silence": silence})


@role_required(OPERATOR, methods=("POST",))
def silence_expire(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    silence = get_object_or_404(Silence, pk=pk)
    actions.expire_silence(silence, actor=Actor.from_request(request))
    messages.success(request, "Silence expired: its alerts notify again.")
    return redirect("alerts:silence_list")


@role_required(VIEWER)
def route_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "alerts/route_list.html", {
        "routes": Route.objects.prefetch_related("channels"), "channels": Channel.objects.all()})


def _route_form(request: AuthenticatedHttpRequest, route: Route | None) -> HttpResponse:
    form = RouteForm.for_route(route, request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        channels = fields.pop("channels")
        try:
            saved = actions.save_route(route, actor=Actor.from_request(request), channels=channels, **fields)
            messages.success(request, f"Route {saved.name} saved.")
            return redirect("alerts:route_list")
        except ValidationError as exc:
            _form_errors(form, exc)
    return render(request, "alerts/route_form.html", {"form": form, "route": route})


@role_required(ADMIN, methods=("GET", "POST"))
def route_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _route_form(request, None)


@role_required(ADMIN, methods=("GET", "POST"))
def route_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _route_form(request, get_object_or_404(Route, pk=pk))


@role_required(ADMIN, methods=("POST",))
def route_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    route = get_object_or_404(Route, pk=pk)
    actions.delete_route(route, actor=Actor.from_request(request))
    messages.success(request, f"Route {route.name} removed.")
    return redirect("alerts:route_list")


@role_required(VIEWER)
def channel_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "alerts/channel_list.html", {"channels": Channel.objects.all()})


@role_required(VIEWER)
def channel_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=pk)
    notifications = Notification.objects.filter(channel=channel).prefetch_related("attempt_log")[:30]
    return render(request, "alerts/channel_detail.html", {"channel": channel, "notifications": notifications})


def _channel_form(request: AuthenticatedHttpRequest, channel: Channel | None) -> HttpResponse:
    form = ChannelForm(request.POST or None, channel=channel)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        try:
            saved = actions.save_channel(channel, actor=Actor.from_request(request), **fields)
            messages.success(request, f"Channel {saved.name} saved.")
            return redirect(saved)
        except ValidationError as exc:
            _form_errors(form, exc)
    return render(request, "alerts/channel_form.html", {"form": form, "channel": channel})


@role_required(ADMIN, methods=("GET", "POST"))
def channel_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _channel_form(request, None)


@role_required(ADMIN, methods=("GET", "POST"))
def channel_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _channel_form(request, get_object_or_404(Channel, pk=pk))


@role_required(ADMIN, methods=("POST",))
def channel_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=pk)
    actions.delete_channel(channel, actor=Actor.from_request(request))
    messages.success(request, f"Channel {channel.name} removed.")
    return redirect("alerts:channel_list")


@role_required(OPERATOR, methods=("POST",))
def channel_test(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=pk)
    actions.send_test(channel, actor=Actor.from_request(request))
    messages.success(request, f"Test notification queued for {channel.name}; its result shows below.")
    return redirect(channel)
