"""Conversations and their messages.

The assistant reply row is the source of truth for generation: its `status`, `attempts`
and `heartbeat_at` say who is writing it and whether that writer is still alive, and its
`content` holds every character streamed so far, so any client can resume from it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Mode(models.TextChoices):
    OPEN = "open", "Open chat"
    RAG = "rag", "Chat with my documents"


class TaskType(models.TextChoices):
    """The task profiles a learner can address a message to."""

    CHAT = "chat", "Chat"
    TEST_GENERATION = "test_generation", "Practice questions"
    DOUBT_SOLVER = "doubt_solver", "Explain step by step"


class Role(models.TextChoices):
    USER = "user", "Learner"
    ASSISTANT = "assistant", "Tutor"


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    STREAMING = "streaming", "Streaming"
    COMPLETE = "complete", "Complete"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


RUNNING_STATUSES = (Status.PENDING, Status.STREAMING)
FINAL_STATUSES = (Status.COMPLETE, Status.FAILED, Status.CANCELLED)


class Conversation(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(max_length=200)
    mode = models.CharField(max_length=8, choices=Mode, default=Mode.OPEN)
    task_type = models.CharField(max_length=32, choices=TaskType, default=TaskType.CHAT)
    # Privacy: when False, raw messages are purged once they have been analysed.
    keep_raw_messages = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Last activity (a message posted, a rename, the end): the list is ordered by it.
    updated_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Highest message `seq` handed out; incremented under the row lock when posting.
    last_seq = models.PositiveIntegerField(default=0)
    # Rolling summary of the messages that fell out of the context window.
    summary = models.TextField(blank=True)
    summary_through_seq = models.PositiveIntegerField(default=0)
    summary_target_seq = models.PositiveIntegerField(default=0)
    # The Idempotency-Key of the request that created it, so a retried create is a no-op.
    client_id = models.CharField(max_length=64, blank=True)
    # The learner's documents a `rag` conversation answers from.
    documents = models.ManyToManyField(
        "documents.Document", blank=True, related_name="conversations"
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["owner", "-updated_at", "-id"], name="conv_owner_activity")]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "client_id"],
                condition=~Q(client_id=""),
                name="conv_unique_client_id",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    seq = models.PositiveIntegerField()
    role = models.CharField(max_length=16, choices=Role)
    content = models.TextField(blank=True)
    task_type = models.CharField(max_length=32, choices=TaskType, default=TaskType.CHAT)
    status = models.CharField(max_length=16, choices=Status, default=Status.COMPLETE)
    # The learner message a reply answers; several replies when it was regenerated.
    reply_to = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    # A regenerated reply names the one it replaces; the old one is then superseded
    # and left out of the model's context.
    replaces_seq = models.PositiveIntegerField(null=True, blank=True)
    superseded = models.BooleanField(default=False)
    # Its place among the replies to its learner message (1, then 2 once regenerated...).
    # The newest version is the one shown and the one the conversation goes on from; the
    # earlier ones stay browsable (selectors.reply_versions).
    version = models.PositiveSmallIntegerField(default=1)
    # Generation bookkeeping: claims so far, liveness, and the queued task.
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    model = models.CharField(max_length=200, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    # Tokens of this message in a prompt, counted once so building a context never
    # recounts the whole history.
    token_count = models.PositiveIntegerField(null=True, blank=True)
    # The Idempotency-Key / websocket client_id it was sent with (learner messages).
    client_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # A grounded reply's sources: [{n, document_id, chunk_id, ordinal, title, page,
    # section, snippet}], kept when the document is deleted (shown as deleted then).
    citations = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["conversation", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="message_unique_seq"),
            models.UniqueConstraint(
                fields=["conversation", "client_id"],
                condition=~Q(client_id=""),
                name="message_unique_client_id",
            ),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="message_liveness")]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq} {self.role} ({self.status})"

    @property
    def is_running(self) -> bool:
        return self.status in RUNNING_STATUSES
