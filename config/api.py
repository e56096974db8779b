"""Shared REST plumbing: one error shape and one pagination style for every endpoint."""

from typing import Any

from rest_framework import exceptions, pagination, parsers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import UserFacingError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing JSON nested deeper than Python's parser can go (a 2 KB
    body of nested arrays) with a 400 instead of a RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise exceptions.ParseError("JSON parse error - nested too deeply") from error


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


def _error_title(exc: Exception) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "Invalid input"
    if isinstance(exc, exceptions.APIException):
        detail = exc.detail
        return str(detail) if isinstance(detail, str) else exc.default_detail
    return "Request failed"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error reads `{"error": short title, "detail": specifics}`."""
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
