"""URL helpers shared by the apps' route tables."""

from django.urls import URLPattern, path
from django.views import View


def actions(prefix: str, name: str, *views: tuple[str, type[View]]) -> list[URLPattern]:
    """The routes under one object, as a router names them: ("practice/check", View)
    under "modules/<int:pk>/" is "modules/<int:pk>/practice/check/", named
    "module-practice-check"."""
    return [
        path(f"{prefix}{action}/", view.as_view(), name=f"{name}-{action.replace('/', '-')}")
        for action, view in views
    ]
