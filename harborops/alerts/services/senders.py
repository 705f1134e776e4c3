"""One attempt at sending a notification over its channel. No retries here (delivery.py decides)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import smtplib
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend
from django.template.loader import render_to_string

from harborops.alerts.models import Channel, Notification
from harborops.alerts.services import payloads
from harborops.core.redaction import redact

SIGNATURE_HEADER = "X-Harborops-Signature"
KEY_HEADER = "Idempotency-Key"


@dataclass
class SendResult:
    ok: bool
    status_code: int | None = None
    reply: str = ""
    error: str = ""
    retryable: bool = True


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _error(exc: BaseException) -> str:
    # Exception texts of httpx/smtplib carry no secrets we stored, but redact anyway (URLs with tokens).
    return redact(f"{type(exc).__name__}: {exc}")[:1000]


def _post(url: str, body: bytes, headers: dict[str, str]) -> SendResult:
    try:
        r = httpx.post(url, content=body, headers=headers, timeout=float(settings.ALERT_DELIVERY_TIMEOUT),
                       follow_redirects=False)
    except httpx.HTTPError as exc:
        return SendResult(False, error=_error(exc))
    ok = 200 <= r.status_code < 300
    retryable = r.status_code >= 500 or r.status_code in (408, 425, 429)
    return SendResult(ok, status_code=r.status_code, reply=redact(r.text[:500]),
                      error="" if ok else f"HTTP {r.status_code}", retryable=retryable)


def send_webhook(channel: Channel, n: Notification) -> SendResult:
    shape = {Channel.Format.SLACK: payloads.slack, Channel.Format.TEAMS: payloads.teams}.get(
        Channel.Format(channel.webhook_format), payloads.generic)
    body = json.dumps(shape(n), sort_keys=True, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", KEY_HEADER: str(n.idempotency_key),
               "X-Harborops-Event": n.kind, "User-Agent": "harborops-alerts"}
    if channel.secret:
        headers[SIGNATURE_HEADER] = sign(channel.secret, body)
    return _post(channel.url, body, headers)


def send_alertmanager(channel: Channel, n: Notification, at: dt.datetime) -> SendResult:
    body = json.dumps(payloads.alertmanager(n, at), separators=(",", ":")).encode()
    url = channel.url.rstrip("/") + "/api/v2/alerts"
    return _post(url, body, {"Content-Type": "application/json", KEY_HEADER: str(n.idempotency_key)})


def build_email(channel: Channel, n: Notification) -> EmailMultiAlternatives:
    context = {"n": n, "title": n.payload.get("title", ""), "alerts": n.alert_dicts, "channel": channel,
               "key": str(n.idempotency_key), "site_url": settings.SITE_URL}
    msg = EmailMultiAlternatives(subject=n.payload.get("title", "")[:200],
                                 body=render_to_string("alerts/email/notification.txt", context),
                                 from_email=settings.DEFAULT_FROM_EMAIL, to=channel.recipients(),
                                 headers={"X-Harborops-Idempotency-Key": str(n.idempotency_key)})
    msg.attach_alternative(render_to_string("alerts/email/notification.html", context), "text/html")
    return msg


def send_email(channel: Channel, n: Notification) -> SendResult:
    """Through Django's SMTP backend (its host, port, TLS and login settings); the server's reply to
    DATA is what the delivery log keeps. Another backend (ALERT_EMAIL_BACKEND) just sends."""
    if not channel.recipients():
        return SendResult(False, error="no recipients configured", retryable=False)
    msg = build_email(channel, n)
    conn = get_connection(settings.ALERT_EMAIL_BACKEND, fail_silently=False)
    try:
        if not isinstance(conn, EmailBackend):
            sent = conn.send_messages([msg])
            return SendResult(bool(sent), reply=f"accepted by {type(conn).__name__}")
        conn.open()
        smtp = conn.connection
        assert smtp is not None
        try:
            smtp.ehlo_or_helo_if_needed()
            code, reply = smtp.mail(msg.from_email)
            if code != 250:
                smtp.rset()
                raise smtplib.SMTPSenderRefused(code, reply, msg.from_email)
            refused = []
            for rcpt in msg.recipients():
                code, _ = smtp.rcpt(rcpt)
                if code not in (250, 251):
                    refused.append(f"{rcpt} ({code})")
            if len(refused) == len(msg.recipients()):
                smtp.rset()
                return SendResult(False, error="all recipients refused: " + ", ".join(refused), retryable=False)
            code, reply = smtp.data(msg.message().as_bytes(linesep="\r\n"))
        finally:
            conn.close()
    except smtplib.SMTPResponseException as exc:
        return SendResult(False, status_code=exc.smtp_code, error=_error(exc), retryable=exc.smtp_code < 500)
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        return SendResult(False, error=_error(exc))
    text = f"{code} {reply.decode(errors='replace')}"
    if code != 250:
        return SendResult(False, status_code=code, reply=text, error="DATA refused", retryable=code < 500)
    if refused:
        text += "; refused: " + ", ".join(refused)
    return SendResult(True, status_code=code, reply=text)


def send(channel: Channel, n: Notification, at: dt.datetime) -> SendResult:
    if channel.kind == Channel.Kind.EMAIL:
        return send_email(channel, n)
    if channel.kind == Channel.Kind.WEBHOOK:
        return send_webhook(channel, n)
    return send_alertmanager(channel, n, at)
