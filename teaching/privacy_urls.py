"""The learner's data: /account/data/export and /account/data/delete."""

from django.urls import path

from teaching import privacy_views

app_name = "privacy"

urlpatterns = [
    path("export", privacy_views.export, name="export"),
    path("delete", privacy_views.delete, name="delete"),
]
