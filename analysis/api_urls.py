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
    re_path(
        rf"^analysis/conversations/{EXTERNAL_ID}/messages/$",
        api.ExternalMessagesView.as_view(),
        name="external-messages",
    ),
    re_path(
        rf"^analysis/conversations/{EXTERNAL_ID}/end/$",
        api.ExternalEndView.as_view(),
        name="external-end",
    ),
    re_path(
        rf"^analysis/conversations/{EXTERNAL_ID}/retry/$",
        api.ExternalRetryView.as_view(),
        name="external-retry",
    ),
    re_path(
        rf"^analysis/conversations/{EXTERNAL_ID}/$",
        api.ExternalDetailView.as_view(),
        name="external-conversation",
    ),
]
