"""Only this app's API, so its schema can be checked on its own."""

from django.urls import include, path

urlpatterns = [path("api/v1/", include("conversations.api_urls"))]
