"""Where learner messages come from: our own conversations, or external ones.

The pipeline treats both alike through the `Source` protocol: lock the conversation,
list the learner messages no batch covers yet (in conversation order), give the context
before a message, and name the fields that point a batch, an item or a result at it.
`OwnConversation` and `ExternalSource` are its two kinds; `source_of(row)` gives the
source of a batch, a clustering run or a cluster.
"""

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from django.conf import settings
from django.db.models import Model, Q

from analysis.core.schemas import ContextLine
from analysis.models import ExternalConversation, ExternalMessage
from conversations.models import Conversation, Message, Role, Status

LEARNER_ROLE = "learner"


class Source(Protocol):
    pk: int

    @property
    def fields(self) -> dict[str, int]:
        """Filter/create keywords for rows that belong to this conversation."""

    @property
    def item_field(self) -> str:
        """The field of a batch item (and an analysed utterance) that holds the message."""

    def lock(self) -> Any:
        """The conversation row, locked for the caller's transaction (on SQLite the
        IMMEDIATE transaction already holds the database's write lock)."""

    def is_ended(self) -> bool: ...

    def utterances(self) -> Q:
        """The analysed learner messages of this conversation (UtteranceAnalysis rows)."""

    def learner_id(self, row: Any) -> int: ...

    def unbatched(self, *, limit: int) -> list:
        """The learner messages no batch covers yet, oldest first."""

    def contexts_for(self, messages: list) -> list[tuple[ContextLine, ...]]:
        """Up to ANALYSIS_CONTEXT_MESSAGES messages of any speaker just before each
        message, oldest first."""


@dataclass(frozen=True)
class _ConversationRow:
    """What both kinds read alike from their conversation row: `model` (with an
    `ended_at`), which the rows of the pipeline point at through `field`. A kind adds
    no dataclass fields, so it inherits the frozen `pk`, equality (same kind, same pk)
    and hashing as they are."""

    pk: int
    model: ClassVar[type[Model]]
    field: ClassVar[str]

    @property
    def fields(self) -> dict[str, int]:
        return {self.field: self.pk}

    def lock(self) -> Any:
        return self.model.objects.select_for_update().get(pk=self.pk)

    def is_ended(self) -> bool:
        return self.model.objects.filter(pk=self.pk, ended_at__isnull=False).exists()


class OwnConversation(_ConversationRow):
    """A chat with our tutor (conversations.Conversation)."""

    model = Conversation
    field = "conversation_id"
    item_field = "message"

    def utterances(self) -> Q:
        # The model-free pass's analyses have no batch yet.
        return Q(batch__conversation_id=self.pk) | Q(message__conversation_id=self.pk)

    def learner_id(self, row: Conversation) -> int:
        return row.owner_id

    def unbatched(self, *, limit: int) -> list[Message]:
        messages = Message.objects.filter(
            conversation_id=self.pk, role=Role.USER, status=Status.COMPLETE
        ).order_by("seq")
        return list(messages.filter(analysis_item__isnull=True)[:limit])

    def context_for(self, message: Message) -> tuple[ContextLine, ...]:
        rows = (
            Message.objects.filter(conversation_id=self.pk, seq__lt=message.seq)
            .filter(superseded=False)
            .exclude(content="")
            .order_by("-seq")
            .values_list("role", "content")[: settings.ANALYSIS_CONTEXT_MESSAGES]
        )
        return tuple(reversed([_our_line(role, text) for role, text in rows]))

    def contexts_for(self, messages: list[Message]) -> list[tuple[ContextLine, ...]]:
        """In one query (a batch's messages are close together); a message whose window
        falls short gets its own query."""
        if not messages:
            return []
        limit = settings.ANALYSIS_CONTEXT_MESSAGES
        low, high = min(m.seq for m in messages), max(m.seq for m in messages)
        window = list(
            Message.objects.filter(
                conversation_id=self.pk, seq__gte=max(0, low - 4 * limit), seq__lt=high
            )
            .filter(superseded=False)
            .exclude(content="")
            .order_by("seq")
            .values_list("seq", "role", "content")
        )
        contexts = []
        for message in messages:
            before = [row for row in window if row[0] < message.seq][-limit:]
            reaches_back = len(before) == limit or low - 4 * limit <= 1
            if not reaches_back:
                contexts.append(self.context_for(message))
                continue
            contexts.append(tuple(_our_line(role, text) for _, role, text in before))
        return contexts


class ExternalSource(_ConversationRow):
    """A conversation posted by another system (analysis.ExternalConversation)."""

    model = ExternalConversation
    field = "external_conversation_id"
    item_field = "external_message"

    def utterances(self) -> Q:
        return Q(batch__external_conversation_id=self.pk)

    def learner_id(self, row: ExternalConversation) -> int:
        return row.learner_id

    def unbatched(self, *, limit: int) -> list[ExternalMessage]:
        messages = ExternalMessage.objects.filter(
            conversation_id=self.pk, role=LEARNER_ROLE
        ).order_by("sent_at", "arrival")
        return list(messages.filter(analysis_item__isnull=True)[:limit])

    def context_for(self, message: ExternalMessage) -> tuple[ContextLine, ...]:
        before = Q(sent_at__lt=message.sent_at) | Q(
            sent_at=message.sent_at, arrival__lt=message.arrival
        )
        rows = (
            ExternalMessage.objects.filter(conversation_id=self.pk)
            .filter(before)
            .order_by("-sent_at", "-arrival")
            .values_list("speaker", "role", "text")[: settings.ANALYSIS_CONTEXT_MESSAGES]
        )
        return tuple(reversed([ContextLine(speaker=s, role=r, text=t) for s, r, t in rows]))

    def contexts_for(self, messages: list[ExternalMessage]) -> list[tuple[ContextLine, ...]]:
        return [self.context_for(m) for m in messages]


def source_of(row: Any) -> Source:
    """The source of a batch, a clustering run or a cluster."""
    if row.conversation_id is not None:
        return OwnConversation(row.conversation_id)
    return ExternalSource(row.external_conversation_id)


def message_text(message: Message | ExternalMessage) -> str:
    return message.content if isinstance(message, Message) else message.text


def message_position(message: Message | ExternalMessage) -> int:
    """The number the chat shows it under: `seq` (ours) or the arrival number."""
    return message.seq if isinstance(message, Message) else message.arrival


def _our_line(role: str, text: str) -> ContextLine:
    if role == Role.USER:
        return ContextLine(speaker="Learner", role=LEARNER_ROLE, text=text)
    return ContextLine(speaker="Tutor", role="tutor", text=text)
