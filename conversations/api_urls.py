"""REST routes, included under /api/v1/ by config.urls."""

from django.urls import path

from conversations import api
from core.paths import actions

urlpatterns = [
    path("conversations/", api.ConversationListView.as_view(), name="conversation-list"),
    path("conversations/<int:pk>/", api.ConversationDetailView.as_view(), name="conversation"),
    *actions(
        "conversations/<int:pk>/",
        "conversation",
        ("messages", api.MessagesView),
        ("regenerate", api.RegenerateView),
        ("cancel", api.CancelView),
        ("end", api.EndView),
        ("documents", api.DocumentsView),
    ),
    path(
        "conversations/<int:pk>/messages/<int:seq>/versions/",
        api.VersionsView.as_view(),
        name="conversation-reply-versions",
    ),
]
