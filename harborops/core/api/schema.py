"""OpenAPI post-processing: every operation documents the error answers DRF can give it.

drf-spectacular documents the success response a view declares; but any operation can answer 401 (no or a bad
token) and 403 (a role too low), any operation with input or filters 400 (validation, with the field errors),
and any operation on an object 404. Without these, a client generated from the schema — or a schema fuzzer —
meets answers the schema never mentions. Existing entries are kept.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from drf_spectacular.views import SpectacularAPIView
from rest_framework.request import Request
from rest_framework.response import Response

ERROR_SCHEMA = "ErrorResponse"
_DESCRIPTIONS = {
    "400": "invalid input: an object of field names (or `non_field_errors` / `detail`) to messages",
    "401": "no token, or an unknown one",
    "403": "the caller's role does not allow this",
    "404": "no such object (or a filter named none)",
}


def document_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_SCHEMA] = {  # no type: DRF answers a list for a body that is not an object
        "description": "DRF's error body: `{\"detail\": \"…\"}`, field names mapped to lists of messages, or a "
                       "list of messages for a body that is not an object.",
    }
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = ["401", "403"]
            if method in ("post", "put", "patch") or operation.get("parameters"):
                codes.append("400")
            if "{" in path:
                codes.append("404")
            for code in codes:
                operation["responses"].setdefault(code, {
                    "description": _DESCRIPTIONS[code], "content": {"application/json": {"schema": ref}}})
    return result


class CachedSchemaView(SpectacularAPIView):
    """The OpenAPI document, generated once per process and API version: it depends only on the code
    (``SERVE_PUBLIC``: the same for every caller), and generating ~140 operations costs ~0.4 s a request."""

    _cache: ClassVar[dict[tuple[str | None, str | None], Any]] = {}

    def _get_schema_response(self, request: Request) -> Response:
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, str(self.urlconf or settings.ROOT_URLCONF))
        schema = self._cache.get(key) if self.serve_public else None
        if schema is None:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
            schema = generator.get_schema(request=request, public=self.serve_public)
            if self.serve_public:
                self._cache[key] = schema
        return Response(data=schema, headers={
            "Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'})
