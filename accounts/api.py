from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView

from accounts import services
from accounts.models import LearnerProfile, User
from accounts.throttles import SignInRateThrottle


class ThrottledTokenObtainPairView(TokenObtainPairView):
    """JWT sign-in, limited per client address against password guessing."""

    throttle_classes = [SignInRateThrottle]


class ProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = LearnerProfile
        fields = ("native_language", "target_language", "level")


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

    @extend_schema(request=ProfileSerializer, responses=MeSerializer)
    def patch(self, request: Request) -> Response:
        incoming = ProfileSerializer(data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        services.learner_profile_update(user=request.user, **incoming.validated_data)
        request.user.refresh_from_db()
        return Response(MeSerializer(request.user).data)
