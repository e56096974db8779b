"""What the analysis stores: batches of learner messages and their results, the recurring
mistakes clustered from them, and the conversations other systems post to us.

A batch covers learner messages of ONE conversation, ours (`conversation`) or an external
one (`external_conversation`). Each message is covered at most once (unique items), each
batch number at most once per conversation, and a batch runs as an `core.jobs.Job`, so a
retried task or a killed worker never analyses it twice at the same time.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey

from core import jobs

# -- Conversations from other systems ----------------------------------------------------


class Integration(models.Model):
    """Another system that posts its conversations (a human tutor's tool, a chat service).
    Staff create it and its API keys in the admin; a key sees only its own conversations."""

    name = models.CharField(max_length=100, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="integrations",
        help_text="The staff member responsible for it.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class IntegrationLearner(models.Model):
    """A learner account an integration may post for, under the id the integration uses."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="learners")
    external_id = models.CharField(max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="integration_links"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "external_id"], name="integration_learner_unique_id"
            ),
            models.UniqueConstraint(
                fields=["integration", "user"], name="integration_learner_unique_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.integration} · {self.external_id} → {self.user}"


class IntegrationAPIKey(AbstractAPIKey):
    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="api_keys")

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "integration API key"
        verbose_name_plural = "integration API keys"


class ExternalConversation(models.Model):
    """A conversation held elsewhere; posted by an integration, or by the learner (JWT)."""

    integration = models.ForeignKey(
        Integration,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="conversations",
    )
    external_id = models.CharField(max_length=100)
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_conversations"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Messages received so far: each new one takes the next number (its arrival order).
    arrivals = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "external_id"],
                condition=Q(integration__isnull=False),
                name="external_conversation_unique_per_integration",
            ),
            models.UniqueConstraint(
                fields=["learner", "external_id"],
                condition=Q(integration__isnull=True),
                name="external_conversation_unique_per_learner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.integration or self.learner} · {self.external_id}"


class ExternalMessage(models.Model):
    conversation = models.ForeignKey(
        ExternalConversation, on_delete=models.CASCADE, related_name="messages"
    )
    message_id = models.CharField(max_length=100)
    speaker = models.CharField(max_length=100)
    # "learner" is analysed; any other role (tutor, interviewer, partner) is context.
    role = models.CharField(max_length=32)
    text = models.TextField()
    sent_at = models.DateTimeField()
    arrival = models.PositiveIntegerField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["conversation", "sent_at", "arrival"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "message_id"], name="external_message_unique_id"
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "sent_at", "arrival"], name="external_msg_order")
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}:{self.message_id} {self.role}"


# -- Batches and their results -----------------------------------------------------------


def of_a_source(related_name: str) -> type[models.Model]:
    """The learner and the one conversation, ours or external, that a row is about: the
    same three columns on batches, clustering runs and clusters, each model reaching back
    by its own `related_name`."""

    class OfASource(models.Model):
        learner = models.ForeignKey(
            settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name=related_name
        )
        conversation = models.ForeignKey(
            "conversations.Conversation",
            on_delete=models.CASCADE,
            null=True,
            blank=True,
            related_name=related_name,
        )
        external_conversation = models.ForeignKey(
            ExternalConversation,
            on_delete=models.CASCADE,
            null=True,
            blank=True,
            related_name=related_name,
        )

        class Meta:
            abstract = True

    return OfASource


ONE_SOURCE = Q(conversation__isnull=False, external_conversation__isnull=True) | Q(
    conversation__isnull=True, external_conversation__isnull=False
)


def one_source_with_unique(prefix: str, field: str, *, unique_name: str) -> list:
    """A row of exactly one conversation, ours or external, with `field` unique in it."""
    return [
        models.CheckConstraint(condition=ONE_SOURCE, name=f"{prefix}_one_source"),
        models.UniqueConstraint(
            fields=["conversation", field],
            condition=Q(conversation__isnull=False),
            name=unique_name,
        ),
        models.UniqueConstraint(
            fields=["external_conversation", field],
            condition=Q(external_conversation__isnull=False),
            name=f"{unique_name}_external",
        ),
    ]


class AnalysisBatch(jobs.Job, of_a_source("analysis_batches")):
    # 1, 2, 3 ... per conversation, in the order of the messages they cover.
    sequence = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    # What the model of the `analysis` profile got wrong in this batch (output that failed
    # its schema after the retries), for staff: its edits are missing, the model-free
    # edits stand, and the learner is told nothing of it.
    model_failures = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "analysis batches"
        constraints = one_source_with_unique(
            "batch", "sequence", unique_name="batch_unique_sequence"
        )

    def __str__(self) -> str:
        source = self.conversation_id or f"ext{self.external_conversation_id}"
        return f"Batch {self.sequence} of {source} ({self.status})"


class BatchItem(models.Model):
    """One learner message in one batch: a message is covered by one batch only."""

    batch = models.ForeignKey(AnalysisBatch, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    message = models.OneToOneField(
        "conversations.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="analysis_item",
    )
    external_message = models.OneToOneField(
        ExternalMessage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="analysis_item",
    )

    class Meta:
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="batch_item_position"),
        ]

    def __str__(self) -> str:
        return f"Batch {self.batch_id} #{self.position}"


class MessageCheck(jobs.Job):
    """The model-free pass over one learner message of our chat, run as soon as it is
    stored: its marks reach the learner within a second, long before the batch's model
    pass (which replaces them with its own, adding or confirming edits)."""

    message = models.OneToOneField(
        "conversations.Message", on_delete=models.CASCADE, related_name="analysis_check"
    )
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="message_checks"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Check of message {self.message_id} ({self.status})"


class UtteranceAnalysis(models.Model):
    """The analysis of one learner message. Its text is kept here, so the results outlive
    the raw chat when a learner chooses not to keep it. The model-free pass stores one
    with no batch; the batch's model pass replaces it."""

    batch = models.ForeignKey(
        AnalysisBatch,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="utterances",
    )
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="utterance_analyses"
    )
    message = models.OneToOneField(
        "conversations.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="analysis",
    )
    external_message = models.OneToOneField(
        ExternalMessage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="analysis",
    )
    # The message's seq (our chats) or arrival number (external ones), for the chat view.
    message_seq = models.PositiveIntegerField()
    text = models.TextField()
    language = models.CharField(max_length=8, blank=True)
    corrected = models.TextField(blank=True)
    level = models.CharField(max_length=2, blank=True)
    topics = models.JSONField(default=list, blank=True)
    priority = models.PositiveSmallIntegerField(default=3)
    has_errors = models.BooleanField(default=False)
    # Edits from a token diff (no ERRANT model for the language): shown as less certain.
    low_confidence = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["batch", "message_seq"]
        verbose_name_plural = "utterance analyses"
        indexes = [models.Index(fields=["learner", "created_at"], name="utterance_learner_time")]

    def __str__(self) -> str:
        return self.text[:60]


class DetectedError(models.Model):
    utterance = models.ForeignKey(
        UtteranceAnalysis, on_delete=models.CASCADE, related_name="errors"
    )
    # Character offsets into the utterance's text: text[start:end] == original.
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    original = models.CharField(max_length=500, blank=True)
    correction = models.CharField(max_length=500, blank=True)
    error_type = models.CharField(max_length=32)
    source_type = models.CharField(max_length=32, blank=True)
    explanation = models.CharField(max_length=500, blank=True)
    confidence = models.CharField(max_length=8, default="high")
    features = models.JSONField(default=dict, blank=True)
    # The detectors that proposed it, its calibrated precision (None: not calibrated) and
    # whether the learner sees it: an edit below the bar is kept for staff and evaluation,
    # never shown as a mistake (analysis.core.gate).
    sources = models.JSONField(default=list, blank=True)
    precision = models.FloatField(null=True, blank=True)
    shown = models.BooleanField(default=True, db_index=True)

    class Meta:
        ordering = ["utterance", "start", "id"]

    def __str__(self) -> str:
        return f"{self.original!r} → {self.correction!r} ({self.error_type})"


# -- Clustering --------------------------------------------------------------------------


class Scope(models.TextChoices):
    CONVERSATION = "conversation", "One conversation"
    LEARNER = "learner", "All of a learner's conversations"


class ClusteringRun(jobs.Job, of_a_source("clustering_runs")):
    """Clusters one ended conversation's errors, then the learner's across conversations.
    `batches_done` is how many of its batches had finished: one run per such state, so the
    run is not repeated, and a failed batch re-run later brings a new one."""

    batches_done = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = one_source_with_unique(
            "clustering", "batches_done", unique_name="clustering_unique_state"
        )

    def __str__(self) -> str:
        return f"Clustering {self.pk} ({self.status})"


class ErrorCluster(of_a_source("error_clusters")):
    """A recurring mistake family: of one conversation, or of the learner overall (the
    learner-level set is replaced by each run)."""

    run = models.ForeignKey(ClusteringRun, on_delete=models.CASCADE, related_name="clusters")
    scope = models.CharField(max_length=16, choices=Scope)
    rank = models.PositiveSmallIntegerField()
    label = models.IntegerField()
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    error_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    score = models.FloatField()
    top_edits = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    errors = models.ManyToManyField(DetectedError, through="ClusterMember", related_name="clusters")

    class Meta:
        ordering = ["rank"]
        indexes = [models.Index(fields=["learner", "scope"], name="cluster_learner_scope")]

    def __str__(self) -> str:
        return self.name


class ClusterMember(models.Model):
    cluster = models.ForeignKey(ErrorCluster, on_delete=models.CASCADE, related_name="members")
    error = models.ForeignKey(DetectedError, on_delete=models.CASCADE, related_name="memberships")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "error"], name="cluster_member_unique"),
        ]

    def __str__(self) -> str:
        return f"Error {self.error_id} in cluster {self.cluster_id}"
