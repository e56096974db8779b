"""Every websocket route of the product, gathered from the apps that own them."""

from conversations.routing import websocket_urlpatterns as conversation_routes
from ops.routing import websocket_urlpatterns as ops_routes

websocket_urlpatterns = [*ops_routes, *conversation_routes]
