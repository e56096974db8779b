"""REST routes, included under /api/v1/ by config.urls."""

from django.urls import path

from core.paths import actions
from documents import api

urlpatterns = [
    path("documents/", api.DocumentListView.as_view(), name="document-list"),
    path("documents/<int:pk>/", api.DocumentDetailView.as_view(), name="document"),
    *actions(
        "documents/<int:pk>/", "document", ("cancel", api.CancelView), ("retry", api.RetryView)
    ),
]
