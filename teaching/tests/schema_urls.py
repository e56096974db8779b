"""Only teaching's API, for its schema test."""

from django.urls import include, path

api_v1 = [path("", include("teaching.api_urls"))]

urlpatterns = [
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("lessons/", include("teaching.urls")),
]
