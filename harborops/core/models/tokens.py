from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils.timezone import now

TOKEN_PREFIX = "hop_"  # noqa: S105  (not a secret: an id prefix / a refused default)


class ApiToken(models.Model):
    """An API token for scripts. Only a SHA-256 digest is stored; the key is shown once.

    The key has 256 bits of entropy, so a fast hash is enough (no password stretching needed);
    the 8-character id before the secret finds the row without a scan.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    token_id = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.name} ({TOKEN_PREFIX}{self.token_id}…)"

    @staticmethod
    def digest_of(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def issue(cls, user: settings.AUTH_USER_MODEL, name: str) -> tuple[ApiToken, str]:  # type: ignore[name-defined]
        token_id = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, token_id=token_id, digest=cls.digest_of(secret))
        return token, f"{TOKEN_PREFIX}{token_id}_{secret}"

    @classmethod
    def find(cls, key: str) -> ApiToken | None:
        if not key.startswith(TOKEN_PREFIX) or "_" not in key[len(TOKEN_PREFIX):]:
            return None
        token_id, _, secret = key[len(TOKEN_PREFIX):].partition("_")
        token = cls.objects.select_related("user").filter(token_id=token_id).first()
        if token is None or not hmac.compare_digest(token.digest, cls.digest_of(secret)):
            return None
        if token.expires_at and token.expires_at <= now():
            return None
        return token
