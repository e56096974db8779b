"""What teaching stores: runs of the pipeline, the focuses they chose, the modules they
wrote with their validation reports, and the learner's practice, collection and reviews.

A run is an `core.jobs.Job`: claimed, kept alive and swept like every background job. Its
`stage` says where the pipeline is; each stage's output is in the database (the run's
`groups`, Focus rows, Module rows, ValidationReport rows), so a retried run resumes.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core import jobs


class Scope(models.TextChoices):
    CONVERSATION = "conversation", "One conversation"
    LEARNER = "learner", "All of a learner's conversations"


class Stage(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    FILTER = "filter", "Picking the sentences to learn from"
    FOCUS = "focus", "Choosing what to teach"
    GENERATE = "generate", "Writing lessons"
    VALIDATE = "validate", "Checking lessons"
    PURGE = "purge", "Removing private chat"
    DONE = "done", "Done"


class TeachingRun(jobs.Job):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="teaching_runs"
    )
    conversation = models.ForeignKey(
        "conversations.Conversation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="teaching_runs",
    )
    scope = models.CharField(max_length=16, choices=Scope, default=Scope.CONVERSATION)
    stage = models.CharField(max_length=16, choices=Stage, default=Stage.QUEUED)
    # The filter stage's output: mistake groups per language (teaching.core.filtering.Group).
    groups = models.JSONField(default=list, blank=True)
    dropped = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"],
                condition=Q(scope="conversation"),
                name="teaching_run_one_per_conversation",
            ),
        ]

    def __str__(self) -> str:
        where = f"conversation {self.conversation_id}" if self.conversation_id else "learner"
        return f"Teaching run {self.pk} ({where}, {self.status}/{self.stage})"


class Focus(models.Model):
    """One mistake worth a module, chosen by the focus-selection stage."""

    run = models.ForeignKey(TeachingRun, on_delete=models.CASCADE, related_name="focuses")
    # Same key, same focus: a re-run does not write its module again.
    key = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField()
    language = models.CharField(max_length=8)
    error_type = models.CharField(max_length=32)
    # The cluster it came from; clusters are replaced when a conversation is clustered
    # again, so the link may go (the name stays).
    cluster = models.ForeignKey(
        "analysis.ErrorCluster",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="teaching_focuses",
    )
    cluster_name = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=200)
    # The learner's sentences behind it: sentence, corrected, original, correction.
    examples = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "position"]
        verbose_name_plural = "focuses"
        constraints = [
            models.UniqueConstraint(fields=["run", "key"], name="focus_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.language} {self.error_type}: {self.key}"


class ModuleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    VALIDATED = "validated", "Validated"
    REJECTED = "rejected", "Rejected"
    APPROVED = "approved", "Approved by staff"


VISIBLE_STATUSES = (ModuleStatus.VALIDATED, ModuleStatus.APPROVED)


class ModuleSource(models.TextChoices):
    BUILT = "built", "Built from the learner's sentences"
    MODEL = "model", "Written by the model"


class Module(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="teaching_modules"
    )
    run = models.ForeignKey(TeachingRun, on_delete=models.CASCADE, related_name="modules")
    focus = models.OneToOneField(Focus, on_delete=models.CASCADE, related_name="module")
    conversation = models.ForeignKey(
        "conversations.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="teaching_modules",
    )
    status = models.CharField(
        max_length=16, choices=ModuleStatus, default=ModuleStatus.DRAFT, db_index=True
    )
    # Staff rejected it for good: no regeneration, never shown.
    final = models.BooleanField(default=False)
    # Staff asked for it to be written again: the run's generation stage rewrites it.
    regenerate = models.BooleanField(default=False)
    language = models.CharField(max_length=8)
    error_type = models.CharField(max_length=32)
    cluster = models.ForeignKey(
        "analysis.ErrorCluster",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="teaching_modules",
    )
    cluster_name = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=200, blank=True)
    # teaching.core.schemas.ModuleContent as JSON.
    content = models.JSONField(default=dict, blank=True)
    # normalised title + family (teaching.core.rules.module_key): one lesson per learner.
    dedupe_key = models.CharField(max_length=300, blank=True)
    # A short hash of the prompts and schema that wrote it, so prompt changes compare.
    prompt_version = models.CharField(max_length=16, blank=True, db_index=True)
    # Why it was rejected, in one word (the first failing check, or "judge").
    rejection_reason = models.CharField(max_length=40, blank=True, db_index=True)
    generation_error = models.TextField(blank=True)
    # Built lessons are right by construction (every item verified with ERRANT); what
    # the builder dropped is kept for staff.
    source = models.CharField(max_length=8, choices=ModuleSource, default=ModuleSource.MODEL)
    build_log = models.JSONField(default=dict, blank=True)  # {"note", "dropped": [...]}
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    validated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["learner", "status"], name="module_learner_status")]

    def __str__(self) -> str:
        return self.title or f"Module {self.pk}"

    @property
    def is_visible(self) -> bool:
        return self.status in VISIBLE_STATUSES


class ValidationReport(models.Model):
    """Every check, score and reason behind one verdict on a module."""

    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="reports")
    prompt_version = models.CharField(max_length=16, blank=True)
    checks = models.JSONField(default=list)  # [{"name", "passed", "reason"}]
    scores = models.JSONField(default=dict)  # {"correctness": 1..5, ...}
    judge_verdict = models.CharField(max_length=16, blank=True)
    judge_problems = models.JSONField(default=list)
    judge_error = models.TextField(blank=True)
    passed = models.BooleanField(default=False)
    reasons = models.JSONField(default=list)  # why it failed, in words
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Report on {self.module_id}: {'passed' if self.passed else 'failed'}"


class CollectionItem(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collection"
    )
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="saved_by")
    notes = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    # The FSRS card (fsrs.Card.to_dict()) and when it is next due, for the "due" query.
    card = models.JSONField(default=dict, blank=True)
    due_at = models.DateTimeField(default=timezone.now, db_index=True)
    reviews = models.PositiveIntegerField(default=0)
    # The review session's items, kept until answered (teaching.services.review):
    # {"problems": [Problem as JSON], "answered": bool}.
    review = models.JSONField(default=dict, blank=True)
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "module"], name="collection_unique_module"),
        ]
        indexes = [models.Index(fields=["learner", "due_at"], name="collection_due")]

    def __str__(self) -> str:
        return f"{self.learner} · {self.module}"


class PracticeAttempt(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_attempts"
    )
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="attempts")
    # Set when the attempt was a review of a saved module (it moved the FSRS card).
    item = models.ForeignKey(
        CollectionItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attempts",
    )
    answers = models.JSONField(default=list)  # [{"answer", "correct"}] per problem
    correct = models.PositiveSmallIntegerField()
    total = models.PositiveSmallIntegerField()
    rating = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.learner} · {self.module_id}: {self.correct}/{self.total}"

    @property
    def score(self) -> float:
        return self.correct / self.total if self.total else 0.0


class PurgeLog(models.Model):
    """What a privacy purge removed, per conversation (kept after the chat is gone)."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="purge_logs"
    )
    conversation_id_ref = models.PositiveIntegerField(db_index=True)
    messages_removed = models.PositiveIntegerField(default=0)
    analyses_removed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Purge of conversation {self.conversation_id_ref}"
