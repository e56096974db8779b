"""Every websocket route of the product, gathered from the apps that own them."""

from django.urls import re_path

from conversations.routing import websocket_urlpatterns as conversation_routes
from core.consumers import NoSuchSocket
from core.routing import websocket_urlpatterns as ops_routes

websocket_urlpatterns = [
    *ops_routes,
    *conversation_routes,
    # Last: any other path is refused cleanly (4404), not with a routing error.
    re_path(r"", NoSuchSocket.as_asgi()),
]
