"""REST under /api/v1/conversations/: parse, authorise (selectors), call one service, shape.

Replies are generated in the background: posting answers 202 with the stored learner
message and the pending reply, whose text then streams over /ws/conversations/<id>/.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from conversations import selectors, services
from conversations.serializers import (
    CancelledSerializer,
    ConversationCreateInput,
    ConversationDocumentsInput,
    ConversationListItemSerializer,
    ConversationRenameInput,
    ConversationSerializer,
    MessagePageInput,
    MessagePageSerializer,
    MessagePostInput,
    PostedSerializer,
    ReplySerializer,
    VersionsSerializer,
)
from core.api import ErrorSerializer, PageNumberPagination
from core.schema import error_responses

IDEMPOTENCY_KEY_MAX = 64
TAGS = ["conversations"]

IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    type={"type": "string", "maxLength": IDEMPOTENCY_KEY_MAX},
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        f"Up to {IDEMPOTENCY_KEY_MAX} characters, unique per request you mean. "
        "A retried request with the same key returns the first result instead of a duplicate."
    ),
)


errors = error_responses(
    {
        400: "Invalid input",
        404: "No such conversation for this account (another learner's looks the same)",
        409: (
            "Not possible now (a reply is running, nothing to cancel, conversation ended), "
            "or an Idempotency-Key used before for other text"
        ),
        413: "Message too long",
        429: "Daily allowance of tutor replies used up",
    }
)


def idempotency_key(request: Request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise exceptions.ValidationError(
            {"Idempotency-Key": f"At most {IDEMPOTENCY_KEY_MAX} characters."}
        )
    return key


def conversation_response(request: Request, conversation_id: int, code: int) -> Response:
    conversation = selectors.conversation_get_for(request.user, conversation_id)
    conversation.page_messages, conversation.page_has_earlier = selectors.visible_messages(
        conversation
    )
    return Response(ConversationSerializer(conversation).data, status=code)


class ConversationListView(generics.GenericAPIView):
    pagination_class = PageNumberPagination
    serializer_class = ConversationListItemSerializer

    def get_queryset(self):
        return selectors.conversation_list_for(self.request.user)

    @extend_schema(
        operation_id="conversations_list",
        tags=TAGS,
        summary="Your conversations, newest activity first",
        responses=ConversationListItemSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="conversations_create",
        tags=TAGS,
        summary="Start a conversation with a first message",
        request=ConversationCreateInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: ConversationSerializer,
            **errors(400, 409, 413, 429),
            404: OpenApiResponse(ErrorSerializer, description="A document_id not of yours"),
        },
    )
    def post(self, request: Request) -> Response:
        incoming = ConversationCreateInput(data=request.data)
        incoming.is_valid(raise_exception=True)
        conversation = services.conversation_create(
            owner=request.user, client_id=idempotency_key(request), **incoming.validated_data
        )
        return conversation_response(request, conversation.pk, status.HTTP_201_CREATED)


class ConversationDetailView(APIView):
    @extend_schema(
        operation_id="conversations_retrieve",
        tags=TAGS,
        summary="A conversation with its newest messages",
        description=(
            f"Up to {selectors.MESSAGES_PAGE} of the messages a learner sees, oldest first; "
            "`has_earlier_messages` says whether to page back through "
            "`.../messages/?before_seq=`."
        ),
        responses={200: ConversationSerializer, **errors(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return conversation_response(request, pk, status.HTTP_200_OK)

    @extend_schema(
        operation_id="conversations_rename",
        tags=TAGS,
        summary="Rename a conversation",
        description="Every field is optional: an empty object changes nothing.",
        request=ConversationRenameInput,
        responses={200: ConversationSerializer, **errors(400, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        conversation = selectors.conversation_get_for(request.user, pk)
        incoming = ConversationRenameInput(data=request.data)
        incoming.is_valid(raise_exception=True)
        if incoming.validated_data:
            services.conversation_rename(conversation=conversation, **incoming.validated_data)
        return conversation_response(request, pk, status.HTTP_200_OK)

    @extend_schema(
        operation_id="conversations_destroy",
        tags=TAGS,
        summary="Delete a conversation and all its messages",
        responses={204: None, **errors(404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        conversation = selectors.conversation_get_for(request.user, pk)
        services.conversation_delete(conversation=conversation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessagesView(APIView):
    @extend_schema(
        operation_id="conversations_messages_list",
        tags=TAGS,
        summary="The conversation's messages, newest page first",
        description=(
            f"Up to {selectors.MESSAGES_PAGE} of the messages a learner sees (a regenerated "
            "reply stands in for the one it replaced), oldest first. Pass the oldest `seq` "
            "you hold as `before_seq` to get the page before it."
        ),
        parameters=[MessagePageInput],
        responses={200: MessagePageSerializer, **errors(400, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        conversation = selectors.conversation_get_for(request.user, pk)
        incoming = MessagePageInput(data=request.query_params)
        incoming.is_valid(raise_exception=True)
        messages, has_earlier = selectors.visible_messages(
            conversation, before_seq=incoming.validated_data.get("before_seq")
        )
        data = MessagePageSerializer({"messages": messages, "has_earlier": has_earlier}).data
        return Response(data)

    @extend_schema(
        operation_id="conversations_messages_create",
        tags=TAGS,
        summary="Send a message; the reply is generated in the background",
        description=(
            "Returns at once with the stored message and the pending reply; the reply's "
            "text streams over the conversation's websocket. Refused with 409 while the "
            "previous reply is still being written (wait for it, or cancel it)."
        ),
        request=MessagePostInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={202: PostedSerializer, **errors(400, 404, 409, 413, 429)},
    )
    def post(self, request: Request, pk: int) -> Response:
        conversation = selectors.conversation_get_for(request.user, pk)
        incoming = MessagePostInput(data=request.data)
        incoming.is_valid(raise_exception=True)
        message, reply = services.message_post(
            conversation=conversation,
            author=request.user,
            client_id=idempotency_key(request),
            **incoming.validated_data,
        )
        data = PostedSerializer({"message": message, "reply": reply}).data
        return Response(data, status=status.HTTP_202_ACCEPTED)


class VersionsView(APIView):
    @extend_schema(
        operation_id="conversations_reply_versions",
        tags=TAGS,
        summary="Every version of a reply (regenerated ones kept)",
        description=(
            "The replies written for the same learner message as reply `seq`, oldest "
            "first: a regenerate keeps the earlier versions, which the chat page lets the "
            "learner browse. Each message's `version` is its place in this list."
        ),
        responses={200: VersionsSerializer, **errors(404)},
    )
    def get(self, request: Request, pk: int, seq: int) -> Response:
        conversation = selectors.conversation_get_for(request.user, pk)
        versions = selectors.reply_versions(conversation, seq)
        return Response(VersionsSerializer({"versions": versions}).data)


class RegenerateView(APIView):
    @extend_schema(
        operation_id="conversations_regenerate",
        tags=TAGS,
        summary="Write the last reply again (also retries a failed reply)",
        request=None,
        responses={202: ReplySerializer, **errors(404, 409, 429)},
    )
    def post(self, request: Request, pk: int) -> Response:
        conversation = selectors.conversation_get_for(request.user, pk)
        reply = services.reply_regenerate(conversation=conversation, author=request.user)
        return Response(ReplySerializer({"reply": reply}).data, status=status.HTTP_202_ACCEPTED)


class CancelView(APIView):
    @extend_schema(
        operation_id="conversations_cancel",
        tags=TAGS,
        summary="Stop the reply being written, keeping what it produced",
        request=None,
        responses={200: CancelledSerializer, **errors(404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        conversation = selectors.conversation_get_for(request.user, pk)
        reply = services.reply_cancel(conversation=conversation)
        return Response(CancelledSerializer({"message": reply}).data)


class EndView(APIView):
    @extend_schema(
        operation_id="conversations_end",
        tags=TAGS,
        summary="End the conversation (no more messages; its analysis completes)",
        request=None,
        responses={200: ConversationSerializer, **errors(404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        conversation = selectors.conversation_get_for(request.user, pk)
        services.conversation_end(conversation=conversation)
        return conversation_response(request, pk, status.HTTP_200_OK)


class DocumentsView(APIView):
    @extend_schema(
        operation_id="conversations_documents_set",
        tags=TAGS,
        summary="Choose the documents a rag conversation answers from",
        request=ConversationDocumentsInput,
        responses={200: ConversationSerializer, **errors(400, 404)},
    )
    def put(self, request: Request, pk: int) -> Response:
        conversation = selectors.conversation_get_for(request.user, pk)
        incoming = ConversationDocumentsInput(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.conversation_documents_set(
            conversation=conversation, document_ids=incoming.validated_data["document_ids"]
        )
        return conversation_response(request, pk, status.HTTP_200_OK)
