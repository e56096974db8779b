"""REST for the analysis: results of our conversations and the learner's overview, and the
ingestion API other systems post their conversations to.

Ingestion accepts a learner's JWT (their own conversations) or an integration's API key,
`Authorization: Api-Key <key>` (the conversations of that integration only). Anything not
the caller's is a 404, exactly like something that does not exist.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    inline_serializer,
)
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView
from rest_framework_api_key.permissions import BaseHasAPIKey

from accounts.profiles import explanation_language
from analysis import selectors, services
from analysis.models import IntegrationAPIKey
from analysis.serializers import (
    ConversationAnalysisSerializer,
    ExternalConversationSerializer,
    ExternalMessageInput,
    ExternalMessageSerializer,
    LearnerAnalysisSerializer,
)
from analysis.sources import ExternalSource, OwnConversation, Source
from conversations import selectors as conversation_selectors
from core.schema import error_responses

TAGS = ["analysis"]
INGEST_TAGS = ["analysis ingestion"]


errors = error_responses(
    {
        400: "Invalid input (a missing field, an unknown learner)",
        401: "No valid JWT or API key",
        404: "No such conversation for this caller (another's looks the same)",
        409: "The conversation has ended, or a message_id reused for other content",
        413: "Message too long, or the conversation is full",
        429: "Too many requests: slow down (see Retry-After)",
    }
)


def conversation_analysis_data(source: Source, *, ended: bool, language: str) -> dict:
    return ConversationAnalysisSerializer(
        {
            "ended": ended,
            "batches": selectors.batches_for_source(source),
            "utterances": selectors.utterances_for_source(source),
            "clusters": selectors.clusters_for_source(source),
        },
        context={"language": language},
    ).data


class ConversationAnalysisView(APIView):
    @extend_schema(
        operation_id="conversations_analysis",
        tags=TAGS,
        summary="The analysis of one of your conversations",
        description=(
            "Its batches with their states (a failed batch carries its reason), each "
            "analysed learner message with its errors (character spans into the message), "
            "and, once the conversation has ended, its clusters of recurring mistakes."
        ),
        responses={200: ConversationAnalysisSerializer, **errors(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        conversation = conversation_selectors.conversation_get_for(request.user, pk)
        source = OwnConversation(conversation.pk)
        language = explanation_language(request.user)
        ended = bool(conversation.ended_at)
        return Response(conversation_analysis_data(source, ended=ended, language=language))


class ConversationAnalysisRetryView(APIView):
    @extend_schema(
        operation_id="conversations_analysis_retry",
        tags=TAGS,
        summary="Analyse the failed parts of one of your conversations again",
        description=(
            "Queues every failed batch of the conversation again (they are also retried "
            "by themselves, later and later, a few times). `queued` is how many were "
            "queued: 0 when none had failed. Follow them with GET .../analysis/."
        ),
        request=None,
        responses={
            202: inline_serializer(
                "ConversationAnalysisRetry", {"queued": serializers.IntegerField(min_value=0)}
            ),
            **errors(404),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        conversation = conversation_selectors.conversation_get_for(request.user, pk)
        queued = services.batches_rerun_failed(source=OwnConversation(conversation.pk))
        return Response({"queued": queued}, status=status.HTTP_202_ACCEPTED)


def learner_analysis_data(user) -> dict:
    clusters = list(selectors.clusters_for_learner(user))
    trend = selectors.learner_trend(user, clusters)
    return {
        **selectors.learner_totals(user),
        "clusters": clusters,
        "days": trend.days,
        "trend": [
            {
                "cluster_id": c.pk,
                "name": c.name,
                "direction": trend.direction[c.pk],
                "counts": trend.counts[c.pk],
            }
            for c in clusters
        ],
        "levels": [{"day": day, "level": level} for day, level in trend.levels],
    }


class MyAnalysisView(APIView):
    @extend_schema(
        operation_id="me_analysis",
        tags=TAGS,
        summary="Your recurring mistakes across all your conversations, and the trend",
        description=(
            "Clusters ranked by frequency x priority, each with examples; errors per "
            "cluster per day (`days` by `trend[].counts`) with whether the family is new, "
            "shrinking or persisting; the estimated CEFR level per day."
        ),
        responses={200: LearnerAnalysisSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(LearnerAnalysisSerializer(learner_analysis_data(request.user)).data)


# -- Ingestion ---------------------------------------------------------------------------


class HasIntegrationAPIKey(BaseHasAPIKey):
    model = IntegrationAPIKey


def principal_of(request: Request) -> services.Principal:
    """The caller: the signed-in learner, or the integration whose key was sent."""
    if request.user and request.user.is_authenticated:
        return services.Principal(user=request.user)
    key = HasIntegrationAPIKey().get_key(request)
    # The permission check has validated the key already.
    api_key = IntegrationAPIKey.objects.get_from_key(key)
    return services.Principal(integration=api_key.integration)


class IngestionThrottle(SimpleRateThrottle):
    """Requests per integration key (or per learner) per period: `analysis_ingest`."""

    scope = "analysis_ingest"

    def get_cache_key(self, request, view) -> str:
        if request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            key = HasIntegrationAPIKey().get_key(request) or ""
            ident = f"key:{key.partition('.')[0]}" if key else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


API_KEY = OpenApiParameter(
    name="Authorization",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="`Api-Key <key>` for an integration, or `Bearer <JWT>` for a learner.",
)


class IngestionView(APIView):
    permission_classes = [permissions.IsAuthenticated | HasIntegrationAPIKey]
    api_key_auth = True  # declared in the schema (core.schema)
    throttle_classes = [IngestionThrottle]


class ExternalMessagesView(IngestionView):
    @extend_schema(
        operation_id="analysis_conversations_messages_create",
        tags=INGEST_TAGS,
        summary="Post one message of a conversation held elsewhere",
        description=(
            "The conversation is created by its first message. Idempotent per `message_id`: "
            "the same message again answers 200 with the stored one. Messages are ordered "
            "by `sent_at`, then by arrival. Only `learner` messages are analysed, in "
            "batches; the others are their context."
        ),
        request=ExternalMessageInput,
        parameters=[API_KEY],
        responses={
            201: ExternalMessageSerializer,
            200: ExternalMessageSerializer,
            **errors(400, 401, 409, 413, 429),
        },
    )
    def post(self, request: Request, external_id: str) -> Response:
        incoming = ExternalMessageInput(data=request.data)
        incoming.is_valid(raise_exception=True)
        message, created = services.external_message_post(
            principal=principal_of(request), external_id=external_id, **incoming.validated_data
        )
        data = ExternalMessageSerializer({**vars(message), "created": created}).data
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def external_data(conversation) -> dict:
    source = ExternalSource(conversation.pk)
    language = explanation_language(conversation.learner)
    return ExternalConversationSerializer(
        {
            "external_id": conversation.external_id,
            "ended_at": conversation.ended_at,
            "messages": conversation.arrivals,
            "analysis": {
                "ended": conversation.ended_at is not None,
                "batches": selectors.batches_for_source(source),
                "utterances": selectors.utterances_for_source(source),
                "clusters": selectors.clusters_for_source(source),
            },
        },
        context={"language": language},
    ).data


class ExternalEndView(IngestionView):
    @extend_schema(
        operation_id="analysis_conversations_end",
        tags=INGEST_TAGS,
        summary="End a conversation held elsewhere: the rest is analysed, then clustered",
        request=None,
        parameters=[API_KEY],
        responses={200: ExternalConversationSerializer, **errors(401, 404, 429)},
    )
    def post(self, request: Request, external_id: str) -> Response:
        conversation = services.external_conversation_end(
            principal=principal_of(request), external_id=external_id
        )
        return Response(external_data(conversation))


class ExternalRetryView(IngestionView):
    @extend_schema(
        operation_id="analysis_conversations_retry",
        tags=INGEST_TAGS,
        summary="Analyse the failed parts of a conversation held elsewhere again",
        description=(
            "Queues every failed batch of the conversation again (they are also retried "
            "by themselves, later and later, a few times) and answers with the "
            "conversation's analysis as it stands."
        ),
        request=None,
        parameters=[API_KEY],
        responses={200: ExternalConversationSerializer, **errors(401, 404, 429)},
    )
    def post(self, request: Request, external_id: str) -> Response:
        conversation = services.external_conversation_get(
            principal=principal_of(request), external_id=external_id
        )
        services.batches_rerun_failed(source=ExternalSource(conversation.pk))
        return Response(external_data(conversation))


class ExternalDetailView(IngestionView):
    @extend_schema(
        operation_id="analysis_conversations_retrieve",
        tags=INGEST_TAGS,
        summary="The analysis of a conversation held elsewhere",
        parameters=[API_KEY],
        responses={200: ExternalConversationSerializer, **errors(401, 404, 429)},
    )
    def get(self, request: Request, external_id: str) -> Response:
        conversation = services.external_conversation_get(
            principal=principal_of(request), external_id=external_id
        )
        return Response(external_data(conversation))
