"""System checks with stable ids for dangerous production settings (healthchecks hc/api/apps.py).

harborops.core.E001  production with the built-in development SECRET_KEY
harborops.core.E002  HARBOROPS_SECRET_KEYS holds an invalid Fernet key
harborops.core.W001  production on SQLite (fine for the embedded default, not for a fleet)
harborops.core.W002  production without HARBOROPS_SECRET_KEYS (secrets encrypted with a key file
                     that lives next to the database: a stolen disk holds both)
harborops.core.W003  production on the brokerless filesystem transport
harborops.core.W004  DEBUG on in production
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register


@register()
def check_production_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if settings.SECRET_KEYS:
        from harborops.core.crypto import SecretKeyError, _keyring

        try:
            _keyring(tuple(settings.SECRET_KEYS))
        except SecretKeyError as exc:
            messages.append(Error(str(exc), id="harborops.core.E002"))
    if not settings.PRODUCTION:
        return messages
    if settings.SECRET_KEY == settings.INSECURE_DEFAULT_SECRET_KEY:
        messages.append(Error("HARBOROPS_SECRET_KEY is not set: sessions would be signed with a public key",
                              hint="Set HARBOROPS_SECRET_KEY (or HARBOROPS_SECRET_KEY_FILE) to 50+ random "
                                   "characters.", id="harborops.core.E001"))
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        messages.append(Warning("production runs on SQLite", hint="Set DATABASE_URL to a PostgreSQL database.",
                                id="harborops.core.W001"))
    if not settings.SECRET_KEYS:
        messages.append(Warning("HARBOROPS_SECRET_KEYS is not set: stored credentials are encrypted with the "
                                "key file in the data directory", hint="Set HARBOROPS_SECRET_KEYS.",
                                id="harborops.core.W002"))
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        messages.append(Warning("production uses the brokerless filesystem transport",
                                hint="Set CELERY_BROKER_URL to a Redis URL.", id="harborops.core.W003"))
    if settings.DEBUG:
        messages.append(Warning("HARBOROPS_DEBUG is on in production", id="harborops.core.W004"))
    return messages
