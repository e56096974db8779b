"""Websocket plumbing shared by every consumer: who is connecting, and from where.

A browser authenticates with its session cookie; an API client with a JWT access token
in the `Authorization: Bearer` header or, where it cannot set headers, `?token=`.
"""

from urllib.parse import parse_qs

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError


def _bearer_token(scope: dict) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            if kind.lower() == "bearer" and token:
                return token.strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    tokens = query.get("token")
    return tokens[0] if tokens else None


@database_sync_to_async
def _user_for_token(raw_token: str):
    """The user the REST API would authenticate with this token (same claims, same
    active-user and revocation checks), or an anonymous one."""
    authentication = JWTAuthentication()
    try:
        return authentication.get_user(authentication.get_validated_token(raw_token.encode()))
    except (AuthenticationFailed, TokenError):
        return AnonymousUser()


class JWTAuthMiddleware:
    """Sets `scope["user"]` from a JWT when one is offered; sessions fill it otherwise."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        raw_token = _bearer_token(scope)
        if raw_token:
            scope = dict(scope, user=await _user_for_token(raw_token))
        return await self.app(scope, receive, send)


class BrowserOriginValidator(OriginValidator):
    """Rejects cross-site browser sockets; clients that send no Origin are not browsers.

    Browsers always send Origin on a websocket handshake, so its absence cannot be a
    cross-site request riding on a cookie; API clients then authenticate with a JWT.
    """

    def valid_origin(self, parsed_origin) -> bool:
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)


def allowed_origins() -> list[str]:
    if settings.WEBSOCKET_ALLOWED_ORIGINS:
        return settings.WEBSOCKET_ALLOWED_ORIGINS
    # ALLOWED_HOSTS=* (common behind a load balancer) must not mean "any site may open a
    # socket with the learner's cookie": without explicit origins, a wildcard allows none.
    return [host for host in settings.ALLOWED_HOSTS if host != "*"]


def websocket_stack(router):
    # The JWT layer sits inside the session layer so a valid token wins over a cookie.
    return BrowserOriginValidator(
        CookieMiddleware(SessionMiddleware(AuthMiddleware(JWTAuthMiddleware(router)))),
        allowed_origins(),
    )
