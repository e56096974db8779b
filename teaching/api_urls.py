"""REST routes of teaching, included under /api/v1/ by config.urls."""

from django.urls import path

from core.paths import actions
from teaching import api

urlpatterns = [
    path("modules/", api.ModuleListView.as_view(), name="module-list"),
    path("modules/<int:pk>/", api.ModuleDetailView.as_view(), name="module"),
    *actions(
        "modules/<int:pk>/",
        "module",
        ("practice", api.PracticeView),
        ("practice/check", api.PracticeCheckView),
    ),
    *actions("conversations/<int:pk>/", "conversation", ("lessons", api.ConversationLessonsView)),
    path("teaching/runs/", api.RunListView.as_view(), name="teaching-run-list"),
    path("teaching/runs/<int:pk>/", api.RunDetailView.as_view(), name="teaching-run"),
    path("collection/", api.CollectionView.as_view(), name="collection"),
    path("collection/<int:pk>/", api.CollectionItemView.as_view(), name="collection-item"),
    path("reviews/due/", api.DueReviewsView.as_view(), name="reviews-due"),
    path("me/export", api.MeExportView.as_view(), name="me-export"),
    path("me/delete", api.MeDeleteView.as_view(), name="me-delete"),
]
