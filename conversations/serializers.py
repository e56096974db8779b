"""The shapes of conversations and messages, shared by the REST API and websocket events."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from conversations import grounding
from conversations.models import Conversation, Message, Mode, TaskType
from conversations.rendering import render_markdown
from conversations.selectors import MAX_ID
from core.api import StrictBooleanField, StrictCharField
from documents.models import Document

_datetime = serializers.DateTimeField()


def message_data(message: Message) -> dict:
    """A message as the API and the socket show it (the fields of MessageSerializer).

    Built directly rather than through the serializer's field machinery: it runs for every
    event and every message of a long conversation, and sits on the first-token path.
    """
    return {
        "id": message.pk,
        "seq": message.seq,
        "role": message.role,
        "content": message.content,
        "html": render_markdown(message.content) if message.content else "",
        "status": message.status,
        "task_type": message.task_type,
        "model": message.model,
        "prompt_tokens": message.prompt_tokens,
        "completion_tokens": message.completion_tokens,
        "error": message.error,
        "attempts": message.attempts,
        "replaces_seq": message.replaces_seq,
        "superseded": message.superseded,
        "version": message.version,
        "client_id": message.client_id,
        "created_at": _datetime.to_representation(message.created_at),
        "completed_at": (
            _datetime.to_representation(message.completed_at) if message.completed_at else None
        ),
        "citations": citations_data(message),
    }


def citations_data(message: Message) -> list[dict]:
    """The reply's sources, each with a link to the passage or marked `deleted`. Only
    grounded replies have any, and only they cost a query."""
    if not message.citations:
        return []
    ids = {item.get("document_id") for item in message.citations}
    live = set(Document.objects.filter(pk__in=ids).values_list("pk", flat=True))
    return grounding.citations_view(message.citations, live)


class CitationSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="The number the reply cites it by, as [n].")
    kind = serializers.CharField(
        required=False,
        help_text="'note' for a grammar note of the built-in library (no document, no "
        "link); absent for a passage of the learner's documents.",
    )
    note_id = serializers.CharField(required=False, help_text="The grammar note's id.")
    document_id = serializers.IntegerField(allow_null=True)
    chunk_id = serializers.IntegerField(allow_null=True)
    ordinal = serializers.IntegerField(help_text="The passage's place in its document.")
    title = serializers.CharField()
    page = serializers.IntegerField(allow_null=True)
    section = serializers.CharField(allow_blank=True)
    snippet = serializers.CharField(help_text="The start of the quoted passage, plain text.")
    deleted = serializers.BooleanField(help_text="The document was deleted since.")
    url = serializers.CharField(help_text="The document page at the passage; empty if deleted.")


class MessageSerializer(serializers.ModelSerializer):
    """Declares the message object for the schema; rendering goes through `message_data`."""

    html = serializers.SerializerMethodField(help_text="Sanitised HTML rendering of `content`.")
    citations = CitationSerializer(
        many=True, read_only=True, help_text="Sources of a grounded (rag) reply."
    )

    class Meta:
        model = Message
        fields = (
            "id",
            "seq",
            "role",
            "content",
            "html",
            "status",
            "task_type",
            "model",
            "prompt_tokens",
            "completion_tokens",
            "error",
            "attempts",
            "replaces_seq",
            "superseded",
            "version",
            "client_id",
            "created_at",
            "completed_at",
            "citations",
        )
        read_only_fields = fields

    def get_html(self, message: Message) -> str:
        return render_markdown(message.content)

    def to_representation(self, instance: Message) -> dict:
        return message_data(instance)


class DocumentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class ConversationSerializer(serializers.ModelSerializer):
    """A conversation with one page of messages: set `page_messages` and
    `page_has_earlier` on it from `selectors.visible_messages` first."""

    messages = MessageSerializer(
        many=True,
        read_only=True,
        source="page_messages",
        help_text="The newest visible messages (at most 200), oldest first.",
    )
    has_earlier_messages = serializers.BooleanField(
        read_only=True,
        source="page_has_earlier",
        help_text="Whether older messages exist: page back with .../messages/?before_seq=.",
    )
    documents = serializers.SerializerMethodField(
        help_text="The documents a rag conversation answers from."
    )

    class Meta:
        model = Conversation
        fields = (
            "id",
            "title",
            "mode",
            "task_type",
            "keep_raw_messages",
            "created_at",
            "updated_at",
            "ended_at",
            "last_seq",
            "documents",
            "messages",
            "has_earlier_messages",
        )
        read_only_fields = fields

    @extend_schema_field(DocumentRefSerializer(many=True))
    def get_documents(self, conversation: Conversation) -> list[dict]:
        return list(conversation.documents.order_by("pk").values("id", "title"))


class ConversationListItemSerializer(serializers.ModelSerializer):
    message_count = serializers.IntegerField(read_only=True)
    last_message_preview = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Conversation
        fields = (
            "id",
            "title",
            "mode",
            "task_type",
            "created_at",
            "updated_at",
            "ended_at",
            "message_count",
            "last_message_preview",
        )
        read_only_fields = fields


class ConversationRefSerializer(serializers.ModelSerializer):
    """The few fields a `conversation.updated` event carries."""

    class Meta:
        model = Conversation
        fields = ("id", "title", "ended_at")
        read_only_fields = fields


# --- Input ----------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "string",
        "maxLength": settings.MESSAGE_MAX_CHARS,
        # Whitespace is trimmed; what is left must not be empty (JSON Schema searches).
        "pattern": r"\S",
        "description": (
            f"The learner's message: at most {settings.MESSAGE_MAX_CHARS} characters, "
            "counted as Python counts them (code points); longer is a 413."
        ),
    }
)
class MessageTextField(StrictCharField):
    """Message text; its length limit is checked by the service (413, not 400), and told
    to clients by the schema."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault(
            "help_text",
            f"The learner's message (at most {settings.MESSAGE_MAX_CHARS} characters).",
        )
        super().__init__(trim_whitespace=True, **kwargs)


class DocumentIdsField(serializers.ListField):
    """Ids of the learner's documents, at most as many as one conversation answers from."""

    def __init__(self, **kwargs) -> None:
        super().__init__(
            child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
            max_length=settings.DOCUMENTS_PER_CONVERSATION,
            **kwargs,
        )


class ConversationCreateInput(serializers.Serializer):
    text = MessageTextField()
    task_type = serializers.ChoiceField(choices=TaskType.choices, default=TaskType.CHAT)
    title = StrictCharField(max_length=200, required=False, allow_blank=True)
    mode = serializers.ChoiceField(choices=Mode.choices, default=Mode.OPEN)
    keep_raw_messages = StrictBooleanField(default=True)
    document_ids = DocumentIdsField(
        required=False, help_text="Your documents a rag conversation answers from."
    )


class ConversationDocumentsInput(serializers.Serializer):
    document_ids = DocumentIdsField(
        allow_empty=True, help_text="Exactly the documents to draw on from now on."
    )


class ConversationRenameInput(serializers.Serializer):
    title = StrictCharField(
        max_length=200, required=False, help_text="Leave out to change nothing."
    )


class MessagePostInput(serializers.Serializer):
    text = MessageTextField()
    task_type = serializers.ChoiceField(
        choices=TaskType.choices,
        required=False,
        help_text="Defaults to the conversation's task type.",
    )


class SocketMessageInput(MessagePostInput):
    """A `message.send` frame: the REST post's fields, and the `client_id` that REST takes
    from the Idempotency-Key header."""

    client_id = StrictCharField(
        max_length=64, required=False, allow_blank=True, trim_whitespace=False
    )


class MessagePageInput(serializers.Serializer):
    before_seq = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="Only messages before this seq (the oldest you hold); leave out for the newest.",
    )


# --- Output wrappers ------------------------------------------------------------------


class MessagePageSerializer(serializers.Serializer):
    messages = MessageSerializer(many=True, help_text="Oldest first.")
    has_earlier = serializers.BooleanField(help_text="Whether there are messages before these.")


class PostedSerializer(serializers.Serializer):
    message = MessageSerializer(help_text="The learner's message, stored.")
    reply = MessageSerializer(help_text="The tutor's reply, pending; it streams over the socket.")


class VersionsSerializer(serializers.Serializer):
    versions = MessageSerializer(
        many=True,
        help_text="Every version of the reply, oldest first; the last is the one shown "
        "and the one the conversation goes on from.",
    )


class ReplySerializer(serializers.Serializer):
    reply = MessageSerializer()


class CancelledSerializer(serializers.Serializer):
    message = MessageSerializer(help_text="The reply, cancelled, with what it had produced.")
