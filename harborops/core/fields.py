"""An encrypted text column: ciphertext in the database, plaintext only in memory."""

from __future__ import annotations

from typing import Any

from django.db import models

from harborops.core import crypto


class EncryptedTextField(models.TextField):
    """Stores ``crypto.encrypt(value)``; reads decrypt. Empty string stays empty.

    Never put one in a form or serializer as a readable field: forms and the API treat these
    as write-only (see core/forms.py SecretField and core/api/fields.py).
    """

    description = "Text encrypted with the harborops key ring"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))
