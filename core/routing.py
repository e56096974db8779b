from django.urls import path

from core.consumers import UserEventsConsumer

websocket_urlpatterns = [path("ws/events/", UserEventsConsumer.as_asgi())]
