from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import APIException, AuthenticationFailed, Throttled
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView

from accounts import services, throttles
from accounts.models import LearnerProfile, User
from accounts.profiles import LABELS, profile_errors
from accounts.throttles import SignInRateThrottle


class AccountSignInsHeld(Throttled):
    """429 whose detail already names the wait (DRF's would add a second sentence)."""

    def __init__(self, wait: int) -> None:
        APIException.__init__(self, throttles.account_message(wait))
        self.wait = wait


class ThrottledTokenObtainPairView(TokenObtainPairView):
    """JWT sign-in, limited per client address and per account against password
    guessing."""

    throttle_classes = [SignInRateThrottle]

    def post(self, request: Request, *args, **kwargs) -> Response:
        username = request.data.get("username") if isinstance(request.data, dict) else None
        username = username if isinstance(username, str) else ""
        wait = throttles.account_wait_seconds(username)
        if wait:
            raise AccountSignInsHeld(wait)
        try:
            response = super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            throttles.account_failure(username)
            raise
        throttles.account_success(username)
        return response


class ProfileSerializer(serializers.ModelSerializer):
    """Validated against the stored profile: a partial update is checked as a whole."""

    class Meta:
        model = LearnerProfile
        fields = ("native_language", "target_language", "level", "explain_in")
        extra_kwargs = {name: {"label": label} for name, label in LABELS.items()}

    def validate(self, attrs: dict) -> dict:
        current = {name: getattr(self.instance, name, "") for name in self.Meta.fields}
        errors = profile_errors(
            native_language=attrs.get("native_language", current["native_language"]),
            target_language=attrs.get("target_language", current["target_language"]),
        )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class MeSerializer(serializers.ModelSerializer):
    profile = ProfileSerializer(read_only=True)

    class Meta:
        model = User
        fields = ("id", "username", "email", "date_joined", "is_staff", "profile")


class MeView(APIView):
    """The signed-in learner and their profile."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        services.learner_profile_get_or_create(user=request.user)
        return Response(MeSerializer(request.user).data)

    @extend_schema(
        request=ProfileSerializer,
        responses=MeSerializer,
        description=(
            "Every field is optional. The native and the target language must differ "
            "(checked against the stored profile): a 400 otherwise."
        ),
    )
    def patch(self, request: Request) -> Response:
        current = services.learner_profile_get_or_create(user=request.user)
        incoming = ProfileSerializer(instance=current, data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        services.learner_profile_update(user=request.user, **incoming.validated_data)
        request.user.refresh_from_db()
        return Response(MeSerializer(request.user).data)
