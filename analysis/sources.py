"""Where learner messages come from: our own conversations, or external ones.

The pipeline treats both alike through `Source`: lock the conversation, list the learner
messages no batch covers yet (in conversation order), give the context before a message,
and name the fields that point a batch, an item or a result at it.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q

from analysis.models import ExternalConversation, ExternalMessage
from analysis.schemas import ContextLine
from conversations.models import Conversation, Message, Role, Status

OURS, EXTERNAL = "conversation", "external"
LEARNER_ROLE = "learner"


@dataclass(frozen=True)
class Source:
    kind: str
    pk: int

    @classmethod
    def of(cls, row: Any) -> "Source":
        """The source of a batch, a clustering run or a cluster."""
        if row.conversation_id is not None:
            return cls(OURS, row.conversation_id)
        return cls(EXTERNAL, row.external_conversation_id)

    @property
    def fields(self) -> dict[str, int]:
        """Filter/create keywords for rows that belong to this conversation."""
        if self.kind == OURS:
            return {"conversation_id": self.pk}
        return {"external_conversation_id": self.pk}

    @property
    def item_field(self) -> str:
        return "message" if self.kind == OURS else "external_message"

    def lock(self) -> Conversation | ExternalConversation:
        """The conversation row, locked for the caller's transaction (on SQLite the
        IMMEDIATE transaction already holds the database's write lock)."""
        model = Conversation if self.kind == OURS else ExternalConversation
        return model.objects.select_for_update().get(pk=self.pk)

    def is_ended(self) -> bool:
        model = Conversation if self.kind == OURS else ExternalConversation
        return model.objects.filter(pk=self.pk, ended_at__isnull=False).exists()

    def learner_id(self, row: Conversation | ExternalConversation) -> int:
        return row.owner_id if self.kind == OURS else row.learner_id

    def unbatched(self, *, limit: int) -> list[Message] | list[ExternalMessage]:
        """The learner messages no batch covers yet, oldest first."""
        if self.kind == OURS:
            messages = Message.objects.filter(
                conversation_id=self.pk, role=Role.USER, status=Status.COMPLETE
            ).order_by("seq")
        else:
            messages = ExternalMessage.objects.filter(
                conversation_id=self.pk, role=LEARNER_ROLE
            ).order_by("sent_at", "arrival")
        return list(messages.filter(analysis_item__isnull=True)[:limit])

    def context_for(self, message: Message | ExternalMessage) -> tuple[ContextLine, ...]:
        """Up to ANALYSIS_CONTEXT_MESSAGES messages of any speaker just before it, oldest first."""
        limit = settings.ANALYSIS_CONTEXT_MESSAGES
        if self.kind == OURS:
            rows = (
                Message.objects.filter(conversation_id=self.pk, seq__lt=message.seq)
                .filter(superseded=False)
                .exclude(content="")
                .order_by("-seq")
                .values_list("role", "content")[:limit]
            )
            lines = [
                ContextLine(speaker=_our_speaker(role), role=_our_role(role), text=text)
                for role, text in rows
            ]
        else:
            before = Q(sent_at__lt=message.sent_at) | Q(
                sent_at=message.sent_at, arrival__lt=message.arrival
            )
            rows = (
                ExternalMessage.objects.filter(conversation_id=self.pk)
                .filter(before)
                .order_by("-sent_at", "-arrival")
                .values_list("speaker", "role", "text")[:limit]
            )
            lines = [ContextLine(speaker=s, role=r, text=t) for s, r, t in rows]
        return tuple(reversed(lines))

    def contexts_for(self, messages: list) -> list[tuple[ContextLine, ...]]:
        """`context_for` of each message, in one query for our chats (a batch's messages
        are close together); a message whose window falls short gets its own query."""
        if self.kind != OURS or not messages:
            return [self.context_for(m) for m in messages]
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
            contexts.append(
                tuple(
                    ContextLine(speaker=_our_speaker(role), role=_our_role(role), text=text)
                    for _, role, text in before
                )
            )
        return contexts


def message_text(message: Message | ExternalMessage) -> str:
    return message.content if isinstance(message, Message) else message.text


def message_position(message: Message | ExternalMessage) -> int:
    """The number the chat shows it under: `seq` (ours) or the arrival number."""
    return message.seq if isinstance(message, Message) else message.arrival


def _our_role(role: str) -> str:
    return LEARNER_ROLE if role == Role.USER else "tutor"


def _our_speaker(role: str) -> str:
    return "Learner" if role == Role.USER else "Tutor"
