"""Staff review of modules: filter the rejected ones, read their validation report, and
approve, edit and approve, regenerate or reject them for good. Every action is written to
Django's admin log (LogEntry: who, when, what). Counts per run and per prompt version
show whether a prompt change helped."""

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from pydantic import ValidationError

from teaching.models import (
    CollectionItem,
    Module,
    ModuleStatus,
    PracticeAttempt,
    PurgeLog,
    TeachingRun,
    ValidationReport,
)
from teaching.schemas import ModuleContent
from teaching.services import staff

VISIBLE = Q(modules__status__in=(ModuleStatus.VALIDATED, ModuleStatus.APPROVED))


def outcome_counts(queryset, field: str) -> list[dict]:
    """Validated / approved / rejected / draft modules per value of `field`."""
    rows = (
        queryset.values(field)
        .annotate(
            total=Count("id"),
            validated=Count("id", filter=Q(status=ModuleStatus.VALIDATED)),
            approved=Count("id", filter=Q(status=ModuleStatus.APPROVED)),
            rejected=Count("id", filter=Q(status=ModuleStatus.REJECTED)),
            draft=Count("id", filter=Q(status=ModuleStatus.DRAFT)),
        )
        .order_by(field)
    )
    return [
        {**row, "key": row[field], "share": row["validated"] / row["total"] if row["total"] else 0}
        for row in rows
    ]


class ModuleForm(forms.ModelForm):
    approve = forms.BooleanField(
        required=False,
        label="Approve after saving",
        help_text="Edit the content, then tick this to show it to the learner.",
    )

    class Meta:
        model = Module
        fields = ["content"]

    def clean_content(self):
        content = self.cleaned_data["content"]
        try:
            return ModuleContent.model_validate(content).model_dump()
        except ValidationError as exc:
            message = f"The content does not fit the lesson shape: {exc}"
            raise forms.ValidationError(message) from exc


def render_report(report: ValidationReport | None) -> str:
    if report is None:
        return "No validation yet."
    checks = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
        (("✓" if c["passed"] else "✗", c["name"], c["reason"]) for c in report.checks),
    )
    scores = format_html_join(
        "", "<li>{}: {}/5</li>", ((name, value) for name, value in report.scores.items())
    )
    problems = format_html_join("", "<li>{}</li>", ((p,) for p in report.judge_problems))
    reasons = format_html_join("", "<li>{}</li>", ((r,) for r in report.reasons))
    return format_html(
        "<p><strong>{}</strong> · prompt version {} · {}</p>"
        "<table><thead><tr><th></th><th>Check</th><th>Reason</th></tr></thead><tbody>{}</tbody></table>"
        "<p><strong>Judge</strong>: {} {}</p><ul>{}</ul>"
        "<p>Problems found by the judge:</p><ul>{}</ul>"
        "<p>Why it failed:</p><ul>{}</ul>",
        "Passed" if report.passed else "Failed",
        report.prompt_version or "-",
        report.created_at,
        checks,
        report.judge_verdict or "no verdict",
        report.judge_error,
        scores,
        problems,
        reasons,
    )


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    form = ModuleForm
    list_display = (
        "title",
        "learner",
        "status",
        "final",
        "rejection_reason",
        "language",
        "error_type",
        "prompt_version",
        "created_at",
    )
    list_filter = (
        "status",
        "final",
        "rejection_reason",
        "language",
        "error_type",
        "prompt_version",
        "created_at",
    )
    search_fields = ("title", "learner__username")
    readonly_fields = (
        "learner",
        "status",
        "final",
        "language",
        "error_type",
        "cluster_name",
        "prompt_version",
        "rejection_reason",
        "generation_error",
        "focus_reason",
        "report",
        "content_preview",
        "created_at",
    )
    fields = (*readonly_fields, "content", "approve")
    actions = ["approve", "regenerate", "reject_for_good"]
    list_select_related = ("learner",)

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="Validation report")
    def report(self, module: Module) -> str:
        return render_report(module.reports.first())

    @admin.display(description="Why this focus")
    def focus_reason(self, module: Module) -> str:
        return module.focus.reason

    @admin.display(description="Lesson as JSON")
    def content_preview(self, module: Module) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(module.content, indent=1, ensure_ascii=False)
        )

    def save_model(self, request, module, form, change) -> None:
        if form.cleaned_data.get("approve"):
            staff.module_approve(module=module, content=form.cleaned_data["content"])
        else:
            module.title = form.cleaned_data["content"]["title"]
            super().save_model(request, module, form, change)

    def construct_change_message(self, request, form, formsets, add=False):
        message = super().construct_change_message(request, form, formsets, add)
        if form.cleaned_data.get("approve"):
            message.append({"changed": {"fields": ["status"]}, "approved": "edited and approved"})
        return message

    @admin.action(description="Approve (show to the learner)")
    def approve(self, request, queryset) -> None:
        for module in queryset.filter(final=False):
            staff.module_approve(module=module)
            self.log_change(request, module, "Approved")
        self.message_user(request, "Approved.", messages.SUCCESS)

    @admin.action(description="Regenerate (write and validate again)")
    def regenerate(self, request, queryset) -> None:
        for module in queryset:
            if staff.module_regenerate(module=module):
                self.log_change(request, module, "Regeneration requested")
        self.message_user(request, "Queued for regeneration.", messages.SUCCESS)

    @admin.action(description="Reject for good")
    def reject_for_good(self, request, queryset) -> None:
        for module in queryset:
            staff.module_reject_final(module=module)
            self.log_change(request, module, "Rejected for good")
        self.message_user(request, "Rejected for good.", messages.SUCCESS)

    def get_urls(self):
        view = self.admin_site.admin_view(self.outcomes_view)
        return [path("outcomes/", view, name="teaching_module_outcomes"), *super().get_urls()]

    def outcomes_view(self, request):
        """Validated vs rejected per prompt version and per run."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Validated and rejected modules",
            "by_version": outcome_counts(Module.objects.all(), "prompt_version"),
            "by_run": outcome_counts(Module.objects.all(), "run_id")[-50:],
        }
        return TemplateResponse(request, "admin/teaching/module/outcomes.html", context)

    def changelist_view(self, request, extra_context=None):
        extra = {"outcomes_url": reverse("admin:teaching_module_outcomes")}
        return super().changelist_view(request, {**(extra_context or {}), **extra})


@admin.register(TeachingRun)
class TeachingRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "learner",
        "conversation",
        "scope",
        "status",
        "stage",
        "validated_count",
        "rejected_count",
        "attempts",
        "created_at",
    )
    list_filter = ("status", "stage", "scope")
    readonly_fields = [f.name for f in TeachingRun._meta.fields]
    list_select_related = ("learner", "conversation")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                validated=Count("modules", filter=VISIBLE),
                rejected=Count("modules", filter=Q(modules__status=ModuleStatus.REJECTED)),
            )
        )

    @admin.display(description="validated", ordering="validated")
    def validated_count(self, run) -> int:
        return run.validated

    @admin.display(description="rejected", ordering="rejected")
    def rejected_count(self, run) -> int:
        return run.rejected

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(CollectionItem)
class CollectionItemAdmin(admin.ModelAdmin):
    list_display = ("module", "learner", "due_at", "reviews", "created_at")
    readonly_fields = ("learner", "module", "card", "due_at", "reviews", "last_reviewed_at")
    list_select_related = ("module", "learner")


@admin.register(PracticeAttempt)
class PracticeAttemptAdmin(admin.ModelAdmin):
    list_display = ("module", "learner", "correct", "total", "rating", "created_at")
    list_select_related = ("module", "learner")


@admin.register(PurgeLog)
class PurgeLogAdmin(admin.ModelAdmin):
    list_display = (
        "conversation_id_ref",
        "learner",
        "messages_removed",
        "analyses_removed",
        "created_at",
    )
