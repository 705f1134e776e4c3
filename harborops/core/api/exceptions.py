"""DRF's exception handler, plus one case it leaves as a 500: a value the database refuses to store or compare
(a NUL byte in a PostgreSQL text value, an integer no column can hold) is the caller's input, answered 400.
Found by fuzzing the API (tests/core/test_api_fuzz.py): such values reach queries through related-field
lookups before any validator sees them."""

from __future__ import annotations

from typing import Any

from django.db import DataError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DataError | OverflowError):
        set_rollback()
        return Response({"detail": "a value in the request cannot be stored or looked up (e.g. a NUL byte, or a "
                                   "number out of range)"}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
