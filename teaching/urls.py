"""Lesson pages, under /lessons/."""

from django.urls import path

from teaching import views

app_name = "teaching"

urlpatterns = [
    path("", views.lessons, name="lessons"),
    path("refresh/", views.lessons_refresh, name="refresh"),
    path("conversations/<int:conversation_id>/", views.conversation_lessons, name="conversation"),
    path("<int:module_id>/", views.practice, name="practice"),
    path("<int:module_id>/save/", views.collection_save, name="save"),
    path("collection/", views.collection, name="collection"),
    path("collection/<int:item_id>/", views.collection_item_update, name="item_update"),
    path("collection/<int:item_id>/remove/", views.collection_item_remove, name="item_remove"),
    path("review/", views.review, name="review"),
    path("review/next/", views.review_next, name="review_next"),
]
