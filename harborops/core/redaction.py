"""Keep secrets out of logs and job output.

Two nets: every secret decrypted in this process is remembered and replaced wherever it
appears; and well-known secret shapes (Basic auth headers, ``password=...``, PEM private keys,
URLs with credentials) are masked even if never decrypted here.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "********"
_MIN_LEN = 4
_known: set[str] = set()
_known_lock = threading.Lock()
_known_pattern: re.Pattern[str] | None = None

_SHAPES = [
    (re.compile(r"(?i)(authorization:\s*(?:basic|bearer|token)\s+)\S+"), r"\1" + MASK),
    (re.compile(r"(?i)((?:password|passwd|secret|token|api[_-]?key)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&]+"),
     r"\1" + MASK),
    (re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@"), r"\1" + MASK + "@"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
     "-----BEGIN PRIVATE KEY-----" + MASK + "-----END PRIVATE KEY-----"),
]


def remember(secret: str) -> None:
    """Register a secret value (and each of its lines, for multi-line keys) for redaction."""
    global _known_pattern
    parts = {secret, *(line.strip() for line in secret.splitlines())}
    new = {p for p in parts if len(p) >= _MIN_LEN} - _known
    if not new:
        return
    with _known_lock:
        _known.update(new)
        ordered = sorted(_known, key=len, reverse=True)
        _known_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def redact(text: str) -> str:
    if not text:
        return text
    pattern = _known_pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    for regex, replacement in _SHAPES:
        text = regex.sub(replacement, text)
    return text


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Render the message once, redacted, and the traceback too, so no handler sees a secret."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not lose the log line
        message = str(record.msg)
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[1] is not None:
        import traceback

        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        record.exc_info = None
    return record


_installed = False


def install_record_factory() -> None:
    """Redact every log record where it is made: every handler (console, Celery's, pytest's
    caplog, a syslog shipper) then sees only the redacted text. A handler-level filter would
    protect only the handlers it is attached to."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
