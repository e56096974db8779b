"""REST routes, included under /api/v1/ by config.urls."""

from django.urls import path

from documents import api

urlpatterns = [
    path("documents/", api.DocumentListView.as_view(), name="document-list"),
    path("documents/<int:pk>/", api.DocumentDetailView.as_view(), name="document"),
    path("documents/<int:pk>/cancel/", api.CancelView.as_view(), name="document-cancel"),
    path("documents/<int:pk>/retry/", api.RetryView.as_view(), name="document-retry"),
]
