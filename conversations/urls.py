"""Page routes: `/` is the learner's conversation list, each conversation has a chat page."""

from django.urls import path

from conversations import views

urlpatterns = [
    path("", views.conversation_list, name="home"),
    path("conversations/<int:conversation_id>/", views.conversation_detail, name="chat"),
    path(
        "conversations/<int:conversation_id>/delete/",
        views.conversation_delete,
        name="chat-delete",
    ),
]
