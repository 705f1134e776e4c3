"""Small pieces every app's API views share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.request import Request

from harborops.core.actor import Actor


def request_actor(request: Request) -> Actor:
    """Who acts, for the action log: the user behind a DRF request (token or session)."""
    return Actor.from_request(request._request)


def validation_error(exc: DjangoValidationError) -> serializers.ValidationError:
    """A service's Django ValidationError as DRF's 400, field by field when it has fields."""
    return serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


@contextmanager
def service_errors() -> Iterator[None]:
    """Run a service call; its ValidationError becomes the API's 400."""
    try:
        yield
    except DjangoValidationError as exc:
        raise validation_error(exc) from None
