from __future__ import annotations

from django.db import models

from harborops.core.fields import EncryptedTextField


class Vault(models.Model):
    name = models.CharField(max_length=50)
    secret = EncryptedTextField(blank=True)

    def __str__(self) -> str:
        return self.name
