"""REST routes, included under /api/v1/ by config.urls."""

from django.urls import path, re_path

from analysis import api
from core.paths import actions

# An integration's own conversation id: letters, digits and . _ : - (at most 100).
EXTERNAL_ID = r"(?P<external_id>[\w.:-]{1,100})"

urlpatterns = [
    *actions(
        "conversations/<int:pk>/",
        "conversation",
        ("analysis", api.ConversationAnalysisView),
        ("analysis/retry", api.ConversationAnalysisRetryView),
    ),
    path("me/analysis/", api.MyAnalysisView.as_view(), name="me-analysis"),
    *[
        re_path(rf"^analysis/conversations/{EXTERNAL_ID}/{action}$", view.as_view(), name=name)
        for action, view, name in (
            ("messages/", api.ExternalMessagesView, "external-messages"),
            ("end/", api.ExternalEndView, "external-end"),
            ("retry/", api.ExternalRetryView, "external-retry"),
            ("", api.ExternalDetailView, "external-conversation"),
        )
    ],
]
