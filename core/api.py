"""Shared REST plumbing: one error shape and one pagination style for every endpoint."""

from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from rest_framework import exceptions, pagination, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import UserFacingError


class StrictCharField(serializers.CharField):
    """A JSON string and nothing else: DRF would take `0` as "0", which the schema's
    `type: string` refuses."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """`true` or `false` and nothing else (DRF would take 0, "no", "off"...)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictSerializer(serializers.Serializer):
    """A request body with these fields and no others: a misspelt or unknown field is a
    400 naming it, not silently ignored."""

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return attrs


class ErrorSerializer(serializers.Serializer):
    """The one error shape of every /api/ response."""

    error = serializers.CharField(help_text="A short sentence for the learner.")
    detail = serializers.JSONField(help_text="Specifics (field errors, limits).")


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` and `?page_size=` (capped at 100); a malformed one is a 400, a page past
    the last one a 404."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request) -> int:
        return min(self._positive(request, self.page_size_query_param, self.page_size), 100)

    def paginate_queryset(self, queryset, request, view=None):
        self._positive(request, self.page_query_param, 1)
        return super().paginate_queryset(queryset, request, view)

    @staticmethod
    def _positive(request, name: str, default: int) -> int:
        raw = request.query_params.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1:
            raise exceptions.ValidationError({name: ["A whole number, 1 or more."]})
        return value

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters


def _error_title(exc: Exception) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "Invalid input"
    if isinstance(exc, exceptions.APIException):
        detail = exc.detail
        return str(detail) if isinstance(detail, str) else exc.default_detail
    return "Request failed"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error reads `{"error": short title, "detail": specifics}`."""
    if isinstance(exc, RequestDataTooBig | TooManyFilesSent):
        # A client's mistake, not an attack worth a logged traceback.
        return Response(
            {"error": "Request body too large", "detail": str(exc)},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, TooManyFieldsSent):
        return Response({"error": "Invalid input", "detail": str(exc)}, status=400)
    if isinstance(exc, UserFacingError):
        headers = (
            {"Retry-After": "60"} if exc.status_code == status.HTTP_429_TOO_MANY_REQUESTS else {}
        )
        return Response(
            {"error": exc.user_message, "detail": exc.detail},
            status=exc.status_code,
            headers=headers,
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    detail = data.get("detail", data) if isinstance(data, dict) else data
    response.data = {"error": _error_title(exc), "detail": detail}
    return response
