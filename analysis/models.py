"""What the analysis stores: batches of learner messages and their results, the recurring
mistakes clustered from them, and the conversations other systems post to us.

A batch covers learner messages of ONE conversation, ours (`conversation`) or an external
one (`external_conversation`). Each message is covered at most once (unique items), each
batch number at most once per conversation, and a batch runs as an `ops.jobs.Job`, so a
retried task or a killed worker never analyses it twice at the same time.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey

from ops import jobs

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

ONE_SOURCE = Q(conversation__isnull=False, external_conversation__isnull=True) | Q(
    conversation__isnull=True, external_conversation__isnull=False
)


class AnalysisBatch(jobs.Job):
    conversation = models.ForeignKey(
        "conversations.Conversation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="analysis_batches",
    )
    external_conversation = models.ForeignKey(
        ExternalConversation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="analysis_batches",
    )
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="analysis_batches"
    )
    # 1, 2, 3 ... per conversation, in the order of the messages they cover.
    sequence = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "analysis batches"
        constraints = [
            models.CheckConstraint(condition=ONE_SOURCE, name="batch_one_source"),
            models.UniqueConstraint(
                fields=["conversation", "sequence"],
                condition=Q(conversation__isnull=False),
                name="batch_unique_sequence",
            ),
            models.UniqueConstraint(
                fields=["external_conversation", "sequence"],
                condition=Q(external_conversation__isnull=False),
                name="batch_unique_sequence_external",
            ),
        ]

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


class UtteranceAnalysis(models.Model):
    """The analysis of one learner message. Its text is kept here, so the results outlive
    the raw chat when a learner chooses not to keep it."""

    batch = models.ForeignKey(AnalysisBatch, on_delete=models.CASCADE, related_name="utterances")
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

    class Meta:
        ordering = ["utterance", "start", "id"]

    def __str__(self) -> str:
        return f"{self.original!r} → {self.correction!r} ({self.error_type})"


# -- Clustering --------------------------------------------------------------------------


class Scope(models.TextChoices):
    CONVERSATION = "conversation", "One conversation"
    LEARNER = "learner", "All of a learner's conversations"


class ClusteringRun(jobs.Job):
    """Clusters one ended conversation's errors, then the learner's across conversations.
    `batches_done` is how many of its batches had finished: one run per such state, so the
    run is not repeated, and a failed batch re-run later brings a new one."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clustering_runs"
    )
    conversation = models.ForeignKey(
        "conversations.Conversation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="clustering_runs",
    )
    external_conversation = models.ForeignKey(
        ExternalConversation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="clustering_runs",
    )
    batches_done = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=ONE_SOURCE, name="clustering_one_source"),
            models.UniqueConstraint(
                fields=["conversation", "batches_done"],
                condition=Q(conversation__isnull=False),
                name="clustering_unique_state",
            ),
            models.UniqueConstraint(
                fields=["external_conversation", "batches_done"],
                condition=Q(external_conversation__isnull=False),
                name="clustering_unique_state_external",
            ),
        ]

    def __str__(self) -> str:
        return f"Clustering {self.pk} ({self.status})"


class ErrorCluster(models.Model):
    """A recurring mistake family: of one conversation, or of the learner overall (the
    learner-level set is replaced by each run)."""

    run = models.ForeignKey(ClusteringRun, on_delete=models.CASCADE, related_name="clusters")
    scope = models.CharField(max_length=16, choices=Scope)
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="error_clusters"
    )
    conversation = models.ForeignKey(
        "conversations.Conversation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="error_clusters",
    )
    external_conversation = models.ForeignKey(
        ExternalConversation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="error_clusters",
    )
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
    # Where the error sits on the 2-D map of the clustered errors.
    x = models.FloatField(default=0.0)
    y = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "error"], name="cluster_member_unique"),
        ]

    def __str__(self) -> str:
        return f"Error {self.error_id} in cluster {self.cluster_id}"
