from django.contrib import admin
from django.urls import include, path
from django_prometheus.exports import ExportToDjangoView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework_simplejwt.views import TokenRefreshView

from accounts.api import MeView, ThrottledTokenObtainPairView
from ops.views import health

api_v1 = [
    path("auth/token/", ThrottledTokenObtainPairView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
    path("me", MeView.as_view(), name="me"),
    path("", include("conversations.api_urls")),
    path("", include("analysis.api_urls")),
    path("", include("documents.api_urls")),
    path("", include("teaching.api_urls")),
]

urlpatterns = [
    # Pages: "/" (name "home") is the learner's conversation list.
    path("", include("conversations.urls")),
    path("accounts/", include("accounts.urls")),
    path("", include("analysis.urls")),
    path("documents/", include("documents.urls")),
    path("lessons/", include("teaching.urls")),
    path("account/data/", include("teaching.privacy_urls")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its settings as a script file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("health", health, name="health"),
    path("metrics", ExportToDjangoView, name="metrics"),
    path("admin/", admin.site.urls),
]

handler400 = "core.error_views.bad_request"
handler403 = "core.error_views.permission_denied"
handler404 = "core.error_views.page_not_found"
handler500 = "core.error_views.server_error"
