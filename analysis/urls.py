"""Page routes: "My mistakes", across conversations and for one conversation (and its
retry of a failed analysis)."""

from django.urls import path

from analysis import views

urlpatterns = [
    path("mistakes/", views.my_mistakes, name="my-mistakes"),
    path(
        "conversations/<int:conversation_id>/mistakes/",
        views.conversation_mistakes,
        name="conversation-mistakes",
    ),
    path(
        "conversations/<int:conversation_id>/mistakes/retry/",
        views.conversation_mistakes_retry,
        name="conversation-mistakes-retry",
    ),
]
