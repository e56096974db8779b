"""What a person (or an API client) meets when a request goes wrong.

Under /api/ every answer is in the API's JSON error shape; pages get the product's own
403/404/500 pages, each with a way home.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import Resolver404, resolve


def _resolves(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {"error": "Bad request", "detail": "The request was malformed."}, status=400
        )
    return render(request, "errors/400.html", status=400)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        detail = "You do not have permission to do this."
        return JsonResponse({"error": "Forbidden", "detail": detail}, status=403)
    return render(request, "errors/403.html", status=403)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        detail = f"No API endpoint at {request.path}."
        if not request.path.endswith("/") and _resolves(request.path_info + "/"):
            detail += f" Did you mean {request.path}/ (with the trailing slash)?"
        return JsonResponse({"error": "Not found", "detail": detail}, status=404)
    return render(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        detail = "Something went wrong on our side. Try again in a moment."
        return JsonResponse({"error": "Server error", "detail": detail}, status=500)
    # No request context: the failure may lie in what a context processor reads.
    return HttpResponse(loader.get_template("errors/500.html").render(), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form refused by the CSRF check (usually one left open too long): the 403 page."""
    return permission_denied(request)
