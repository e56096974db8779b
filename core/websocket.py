"""Websocket plumbing shared by every consumer: who is connecting, from where, and whether
they still may.

A browser authenticates with its session cookie; an API client with a JWT access token
in the `Authorization: Bearer` header or, where it cannot set headers, `?token=`.
`scope["auth"]` records which, so a consumer can check again later that the session is
still signed in or the token still valid (`credentials_still_valid`).
"""

import hashlib
import time
from importlib import import_module
from urllib.parse import parse_qs

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http.request import split_domain_port, validate_host
from django.utils.crypto import constant_time_compare
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import TokenError

from core.events import publish
from core.tokens import RevocableJWTAuthentication


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _bearer_token(scope: dict) -> str | None:
    value = _header(scope, b"authorization") or ""
    kind, _, token = value.partition(" ")
    if kind.lower() == "bearer" and token.strip():
        return token.strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    tokens = query.get("token")
    return tokens[0] if tokens else None


def _validated_token(raw_token: str):
    """The token and its user as the REST API would authenticate them (same claims, same
    active-user and revocation checks), or (None, None)."""
    authentication = RevocableJWTAuthentication()
    try:
        token = authentication.get_validated_token(raw_token.encode())
        return token, authentication.get_user(token)
    except (AuthenticationFailed, TokenError):
        return None, None


class JWTAuthMiddleware:
    """Sets `scope["user"]` from a JWT when one is offered; sessions fill it otherwise."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        raw_token = _bearer_token(scope)
        if raw_token:
            token, user = await database_sync_to_async(_validated_token)(raw_token)
            auth = {"kind": "jwt", "token": raw_token, "exp": token["exp"] if token else 0}
            scope = dict(scope, user=user or AnonymousUser(), auth=auth)
        else:
            scope = dict(scope, auth={"kind": "session"})
        return await self.app(scope, receive, send)


# --- Later checks ---------------------------------------------------------------------


def session_group(session_key: str) -> str:
    """The channel-layer group of the sockets a browser session opened (the key itself is
    a credential: only its digest goes to the channel layer)."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def user_sockets_group(user_id: int) -> str:
    """The channel-layer group of every socket a user has open, whatever signed it in
    (a session or a JWT): closed together when their credentials change."""
    return f"user-sockets.{user_id}"


def user_sockets_close(user_id: int) -> None:
    """Close every socket of the user with 4401, from the server, once the surrounding
    transaction commits (a password change, signing out everywhere, a deleted account):
    what signed them in no longer does, and they must not wait for their next frame."""
    transaction.on_commit(
        lambda: publish(user_sockets_group(user_id), {"type": "auth.ended"}), robust=True
    )


def token_expired(scope: dict) -> bool:
    """Whether the socket's JWT has expired since it connected (no database)."""
    auth = scope.get("auth") or {}
    return auth.get("kind") == "jwt" and auth.get("exp", 0) <= time.time()


def credentials_still_valid(scope: dict) -> bool:
    """Whether what opened this socket still signs its user in: the same session, not
    logged out, with the user's current password; or a JWT still valid. Sync (database)."""
    user = scope.get("user")
    if user is None or not user.is_authenticated:
        return False
    auth = scope.get("auth") or {}
    if auth.get("kind") == "jwt":
        _, current = _validated_token(auth["token"])
        return current is not None and current.pk == user.pk
    session = scope.get("session")
    return bool(session and session.session_key) and _session_signs_in(session.session_key, user)


def _session_signs_in(session_key: str, user) -> bool:
    stored = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if stored.get(SESSION_KEY) != str(user.pk):
        return False
    current = (
        get_user_model()
        .objects.filter(pk=user.pk, is_active=True)
        .only("password", "is_active")
        .first()
    )
    return current is not None and constant_time_compare(
        stored.get(HASH_SESSION_KEY, ""), current.get_session_auth_hash()
    )


# --- Where from -----------------------------------------------------------------------


def _request_scheme(scope: dict) -> str:
    """`https` for a socket that reached the server over TLS, directly or through the
    proxy that SECURE_PROXY_SSL_HEADER names, as Django's `request.is_secure()` decides."""
    if scope.get("scheme") in ("wss", "https"):
        return "https"
    proxy = settings.SECURE_PROXY_SSL_HEADER
    if proxy:
        name, secure_value = proxy
        header = name.removeprefix("HTTP_").lower().replace("_", "-").encode()
        value = (_header(scope, header) or "").split(",")[0].strip()
        if value == secure_value:
            return "https"
    return "http"


def trusted_origins() -> set[str]:
    return {
        origin.lower()
        for origin in [*settings.CSRF_TRUSTED_ORIGINS, *settings.WEBSOCKET_ALLOWED_ORIGINS]
    }


def origin_allowed(scope: dict) -> bool:
    """The check Django's CSRF middleware makes, for a socket: the Origin is this site's own
    (scheme, host and port of the request, the host one of ALLOWED_HOSTS) or a trusted
    origin. A client that sends no Origin is not a browser, so no cookie rides on it
    cross-site; API clients then authenticate with a JWT."""
    origin = _header(scope, b"origin")
    if origin is None:
        return True
    origin = origin.strip().lower()
    if origin in trusted_origins():
        return True
    host = (_header(scope, b"host") or "").strip().lower()
    domain, _ = split_domain_port(host)
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    if not domain or not validate_host(domain, allowed_hosts):
        return False
    return origin == f"{_request_scheme(scope)}://{host}"


class SameOriginValidator:
    """Refuses the handshake of a browser socket from another site."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)


def websocket_stack(router):
    # The JWT layer sits inside the session layer so a valid token wins over a cookie.
    return SameOriginValidator(
        CookieMiddleware(SessionMiddleware(AuthMiddleware(JWTAuthMiddleware(router))))
    )
