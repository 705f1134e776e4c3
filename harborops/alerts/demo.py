"""The demo's alerting, with living data:

- a local webhook inbox (an HTTP server beside the simulated Harbors) that checks each request's
  HMAC signature and answers 200, so the channel pages show real deliveries;
- channels: ``demo-webhook`` (generic JSON, HMAC-signed) and ``demo-slack`` (Slack-compatible), both
  into that inbox; routes: the ``platform`` team's critical alerts to Slack (and on), everything else
  to the webhook (the default route);
- a silence on the ``ci`` instances (their flakiness is known), so the alerts page shows silenced ones.

The home page then fills as the demo fleet lives: ``demo-edge-2`` is down (after the hysteresis),
``demo-legacy`` is almost full, ``demo-us-staging`` degraded; the instance that goes down and comes
back (the demo's activity) fires and resolves its alert with a recovery notice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.utils.timezone import now

from harborops.alerts.models import Channel, Route, Silence
from harborops.alerts.services import actions
from harborops.core.actor import Actor

SECRET = "demo-webhook-hmac-secret"  # noqa: S105 (a demo value, not a real secret)
NAMES = ("demo-webhook", "demo-slack")


class Inbox:
    """Counts what arrived and whether each signature matched (shown in the demo's output)."""

    def __init__(self, host: str) -> None:
        self.received = 0
        self.bad_signatures = 0
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sent = self.headers.get("X-Harborops-Signature", "")
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                inbox.received += 1
                ok = self.path.startswith("/slack") or hmac.compare_digest(sent, expected)
                if not ok:
                    inbox.bad_signatures += 1
                self.send_response(200 if ok else 401)
                self.end_headers()

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _channel(name: str, url: str, fmt: str, secret: str, actor: Actor) -> Channel:
    existing = Channel.objects.filter(name=name).first()
    return actions.save_channel(existing, actor=actor, name=name, kind=Channel.Kind.WEBHOOK, url=url,
                                webhook_format=fmt, enabled=True, secret=secret)


def _route(name: str, channel: Channel, actor: Actor, **fields: Any) -> Route:
    return actions.save_route(Route.objects.filter(name=name).first(), actor=actor, name=name, channels=[channel],
                              **fields)


def start(host: str, actor: Actor) -> tuple[Inbox, list[str]]:
    inbox = Inbox(host)
    hook = _channel("demo-webhook", f"{inbox.url}/hook", Channel.Format.GENERIC, SECRET, actor)
    slack = _channel("demo-slack", f"{inbox.url}/slack", Channel.Format.SLACK, "", actor)
    _route("demo: platform critical", slack, actor, position=10, severities=["critical"],
           labels={"team": "platform"}, continue_matching=True)
    _route("demo: everything else", hook, actor, position=1000, is_default=True)
    if not Silence.objects.filter(reason__startswith="demo:").exists():
        actions.create_silence(actor=actor, labels={"env": "ci"}, starts_at=now(),
                               ends_at=now() + dt.timedelta(days=30), reason="demo: CI Harbors are known to be flaky")
    return inbox, [f"demo alerts: webhook inbox on {inbox.url} (HMAC-checked); channels {', '.join(NAMES)}; "
                   "routes by team and severity; a silence on env=ci"]


def unregister(actor: Actor) -> int:
    removed = 0
    for route in Route.objects.filter(name__startswith="demo: "):
        actions.delete_route(route, actor=actor)
        removed += 1
    for channel in Channel.objects.filter(name__in=NAMES):
        actions.delete_channel(channel, actor=actor)
        removed += 1
    for silence in Silence.objects.filter(reason__startswith="demo:"):
        actions.delete_silence(silence, actor=actor)
        removed += 1
    return removed
