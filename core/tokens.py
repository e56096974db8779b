"""JWTs that "sign out everywhere" revokes: a token issued before the user's
`signed_out_everywhere_at` is refused, for the REST API, the sockets and the refresh
endpoint alike. (A password change revokes them through SimpleJWT's own check.)

Token times are whole seconds: a token issued in the same second as the sign-out, just
before it, is still taken.
"""

from django.contrib.auth import get_user_model
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

SIGNED_OUT = "You signed out everywhere: sign in again."


def issued_before_sign_out(token: Token, user) -> bool:
    cutoff = getattr(user, "signed_out_everywhere_at", None)
    return cutoff is not None and token.get("iat", 0) < int(cutoff.timestamp())


class RevocableJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token: Token):
        user = super().get_user(validated_token)
        if issued_before_sign_out(validated_token, user):
            raise AuthenticationFailed(SIGNED_OUT, code="token_revoked")
        return user


class RevocableTokenRefreshSerializer(TokenRefreshSerializer):
    """A refresh token issued before the sign-out gives no new access token: the new one
    would carry a fresh issue time."""

    def validate(self, attrs: dict) -> dict[str, str]:
        refresh = self.token_class(attrs["refresh"])
        user_id = refresh.payload.get(api_settings.USER_ID_CLAIM)
        user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
        if user is not None and issued_before_sign_out(refresh, user):
            raise AuthenticationFailed(SIGNED_OUT, code="token_revoked")
        return super().validate(attrs)


class RevocableJWTScheme(SimpleJWTScheme):
    """The schema's jwtAuth, as for SimpleJWT's own class (drf-spectacular matches the
    class exactly)."""

    target_class = RevocableJWTAuthentication
