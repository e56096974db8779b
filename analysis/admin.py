"""Staff views of the analysis: batches (failures first to find, re-run action),
utterances with their errors, clusters, integrations with their learners and API keys."""

from collections.abc import Callable

from django.contrib import admin, messages
from rest_framework_api_key.admin import APIKeyModelAdmin

from analysis import services
from analysis.models import (
    AnalysisBatch,
    BatchItem,
    ClusteringRun,
    ClusterMember,
    DetectedError,
    ErrorCluster,
    ExternalConversation,
    ExternalMessage,
    Integration,
    IntegrationAPIKey,
    IntegrationLearner,
    UtteranceAnalysis,
)


def rerun_action(description: str, rerun: Callable[..., bool], counted: str):
    """The "re-run the selected failed ones" action of a model whose rows a service can
    queue again (`rerun(row)` is whether it did)."""

    @admin.action(description=description)
    def rerun_selected(model_admin: admin.ModelAdmin, request, queryset) -> None:
        queued = sum(rerun(row) for row in queryset)
        model_admin.message_user(request, f"{queued} {counted} queued again.", messages.SUCCESS)

    return rerun_selected


class BatchItemInline(admin.TabularInline):
    model = BatchItem
    extra = 0
    fields = ("position", "message", "external_message")
    readonly_fields = fields
    can_delete = False


@admin.register(AnalysisBatch)
class AnalysisBatchAdmin(admin.ModelAdmin):
    list_display = ("id", "sequence", "conversation", "external_conversation", "learner", "status",
                    "attempts", "short_error", "finished_at")  # fmt: skip
    list_filter = ("status",)
    search_fields = ("learner__username", "error")
    list_select_related = ("conversation", "external_conversation", "learner")
    raw_id_fields = ("conversation", "external_conversation", "learner")
    readonly_fields = ("status", "attempts", "queued_at", "started_at", "heartbeat_at",
                       "finished_at", "task_id", "error", "model_failures_shown")  # fmt: skip
    exclude = ("model_failures",)
    inlines = [BatchItemInline]
    actions = ["rerun"]

    @admin.display(description="error")
    def short_error(self, batch: AnalysisBatch) -> str:
        return batch.error[:80]

    @admin.display(description="Model failures")
    def model_failures_shown(self, batch: AnalysisBatch) -> str:
        """What the `analysis` profile's model got wrong here (its edits are missing; the
        model-free edits stood, and the learner was told nothing)."""
        return "\n".join(batch.model_failures) or "None"

    rerun = rerun_action(
        "Re-run the selected failed batches",
        lambda batch: services.batch_rerun(batch=batch),
        "batch(es)",
    )


class DetectedErrorInline(admin.TabularInline):
    model = DetectedError
    extra = 0
    fields = ("start", "end", "original", "correction", "error_type", "source_type",
              "explanation", "confidence", "shown", "sources", "precision")  # fmt: skip


@admin.register(UtteranceAnalysis)
class UtteranceAnalysisAdmin(admin.ModelAdmin):
    list_display = ("id", "learner", "text", "language", "level", "priority", "has_errors",
                    "low_confidence", "created_at")  # fmt: skip
    list_filter = ("has_errors", "low_confidence", "language", "level")
    search_fields = ("text", "learner__username")
    list_select_related = ("learner",)
    raw_id_fields = ("batch", "learner", "message", "external_message")
    inlines = [DetectedErrorInline]


@admin.register(DetectedError)
class DetectedErrorAdmin(admin.ModelAdmin):
    list_display = ("id", "original", "correction", "error_type", "source_type", "confidence")
    list_filter = ("error_type", "confidence")
    search_fields = ("original", "correction", "explanation")
    raw_id_fields = ("utterance",)


class ClusterMemberInline(admin.TabularInline):
    model = ClusterMember
    extra = 0
    raw_id_fields = ("error",)


@admin.register(ErrorCluster)
class ErrorClusterAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "scope", "learner", "conversation", "rank", "size", "score")
    list_filter = ("scope", "error_type")
    search_fields = ("name", "learner__username")
    list_select_related = ("learner", "conversation")
    raw_id_fields = ("run", "learner", "conversation", "external_conversation")
    inlines = [ClusterMemberInline]


@admin.register(ClusteringRun)
class ClusteringRunAdmin(admin.ModelAdmin):
    list_display = ("id", "learner", "conversation", "external_conversation", "batches_done",
                    "status", "attempts", "finished_at")  # fmt: skip
    list_filter = ("status",)
    raw_id_fields = ("learner", "conversation", "external_conversation")
    readonly_fields = ("status", "attempts", "error", "finished_at")
    actions = ["rerun"]

    rerun = rerun_action(
        "Re-run the selected failed clustering runs",
        lambda run: services.clustering_rerun(run=run),
        "run(s)",
    )


class IntegrationLearnerInline(admin.TabularInline):
    model = IntegrationLearner
    extra = 1
    raw_id_fields = ("user",)


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "created_at")
    search_fields = ("name",)
    raw_id_fields = ("owner",)
    inlines = [IntegrationLearnerInline]


@admin.register(IntegrationAPIKey)
class IntegrationAPIKeyAdmin(APIKeyModelAdmin):
    list_display = (*APIKeyModelAdmin.list_display, "integration")
    list_filter = ("integration", *APIKeyModelAdmin.list_filter)


class ExternalMessageInline(admin.TabularInline):
    model = ExternalMessage
    extra = 0
    fields = ("arrival", "message_id", "speaker", "role", "text", "sent_at")
    readonly_fields = fields


@admin.register(ExternalConversation)
class ExternalConversationAdmin(admin.ModelAdmin):
    list_display = ("external_id", "integration", "learner", "arrivals", "ended_at")
    list_filter = ("integration",)
    search_fields = ("external_id", "learner__username")
    raw_id_fields = ("learner",)
    inlines = [ExternalMessageInline]
