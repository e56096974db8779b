"""REST routes, included under /api/v1/ by config.urls."""

from django.urls import path

from conversations import api

urlpatterns = [
    path("conversations/", api.ConversationListView.as_view(), name="conversation-list"),
    path("conversations/<int:pk>/", api.ConversationDetailView.as_view(), name="conversation"),
    path(
        "conversations/<int:pk>/messages/",
        api.MessagesView.as_view(),
        name="conversation-messages",
    ),
    path(
        "conversations/<int:pk>/regenerate/",
        api.RegenerateView.as_view(),
        name="conversation-regenerate",
    ),
    path("conversations/<int:pk>/cancel/", api.CancelView.as_view(), name="conversation-cancel"),
    path("conversations/<int:pk>/end/", api.EndView.as_view(), name="conversation-end"),
    path(
        "conversations/<int:pk>/documents/",
        api.DocumentsView.as_view(),
        name="conversation-documents",
    ),
]
