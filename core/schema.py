"""The OpenAPI schema says every status the API answers with, not only the happy ones.

Every operation under /api/ can answer in the error shape (`core.api.ErrorSerializer`):
401 (no or bad credentials; for the token endpoints, wrong ones), 429 (rate limits), 400
where it reads a body or query parameters, 413/415 where it reads a body, 404 where a path
names an object or a list is paged. Views declare the statuses specific to them
(409, 413 for message length...) with `@extend_schema(responses=...)`; these are added
only where a view did not.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse

from core.api import ErrorSerializer, StrictSerializer

DESCRIPTIONS = {
    400: "Invalid input (the `detail` names the fields)",
    401: "No valid credentials",
    404: "Not found (or a page past the last one)",
    413: "Request body too large",
    415: "Unsupported content type (send JSON)",
    429: "Too many requests: wait for `Retry-After` seconds",
}
BODY_METHODS = ("POST", "PUT", "PATCH")


class AutoSchema(SpectacularAutoSchema):
    def get_auth(self):
        """Views that also take an integration's API key (`api_key_auth = True`) declare
        it: the permission class that checks the key is no authentication class, so
        drf-spectacular would not."""
        auth = super().get_auth()
        if getattr(self.view, "api_key_auth", False):
            anonymous = [entry for entry in auth if entry == {}]
            auth = [entry for entry in auth if entry != {}] + [{"apiKeyAuth": []}] + anonymous
        return auth

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        """A StrictSerializer refuses fields it does not name: the schema says so."""
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if isinstance(serializer, StrictSerializer) or (
            isinstance(serializer, type) and issubclass(serializer, StrictSerializer)
        ):
            schema["additionalProperties"] = False
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response" or not self.path.startswith("/api/"):
            return responses
        for code in self._error_statuses():
            if str(code) not in responses:
                error = OpenApiResponse(ErrorSerializer, description=DESCRIPTIONS[code])
                responses[str(code)] = self._get_response_for_code(error, str(code))
        return responses

    def _error_statuses(self) -> list[int]:
        codes = [401, 429]
        reads_query = self.method == "GET" and (
            self._is_list_view() or self.get_override_parameters()
        )
        if self.method in BODY_METHODS or reads_query:
            codes.append(400)
        if self.method in BODY_METHODS:
            codes += [413, 415]
        if "{" in self.path or (self.method == "GET" and self._is_list_view()):
            codes.append(404)
        return codes


def trimmed_strings_need_text(result, generator, request, public):
    """A required DRF string field trims whitespace and refuses what is left empty, so
    "   " is as invalid as "": say so with a pattern (JSON Schema patterns search)."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if not name.endswith("Request"):
            continue
        for field in component.get("properties", {}).values():
            if (
                field.get("type") == "string"
                and field.get("minLength", 0) >= 1
                and "pattern" not in field
                and "enum" not in field
                and not field.get("readOnly")
            ):
                field["pattern"] = r"\S"
    return result


def error_responses(texts: dict[int, str]):
    """An app's `errors(404, 409)`: the error responses of an operation, each described
    in the app's own words."""

    def errors(*codes: int) -> dict[int, OpenApiResponse]:
        return {code: OpenApiResponse(ErrorSerializer, description=texts[code]) for code in codes}

    return errors
