"""Every websocket route of the product, gathered from the apps that own them."""

from ops.routing import websocket_urlpatterns as ops_routes

websocket_urlpatterns = [*ops_routes]
