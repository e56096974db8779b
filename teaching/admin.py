"""Staff review of modules: filter the rejected ones, read their validation report, and
approve, edit and approve, regenerate or reject them for good. Every action is written to
Django's admin log (LogEntry: who, when, what). Counts per run and per prompt version
show whether a prompt change helped."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from pydantic import ValidationError

from teaching.core.schemas import ModuleContent
from teaching.models import (
    CollectionItem,
    Module,
    ModuleStatus,
    PracticeAttempt,
    PurgeLog,
    TeachingRun,
    ValidationReport,
)
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


MAX_EXAMPLES, MAX_PROBLEMS, MAX_OPTIONS = 4, 8, 4
KINDS = [
    ("", "(no problem)"),
    ("multiple_choice", "Choose the right form"),
    ("fill_blank", "Fill the gap"),
    ("spot_mistake", "Tap the word that is wrong"),
    ("rewrite", "Write the sentence again, corrected"),
]


def _text(label: str, *, long: bool = False, required: bool = False, most: int = 300):
    widget = (
        forms.Textarea(attrs={"rows": 3, "cols": 80})
        if long
        else forms.TextInput(attrs={"size": 80})
    )
    return forms.CharField(label=label, required=required, max_length=most, widget=widget)


def _lesson_fields() -> dict[str, forms.Field]:
    """The lesson as form fields: every part a teacher edits, no JSON."""
    fields = {
        "title": _text("Title", required=True, most=80),
        "learner_sentence": _text("The learner's sentence", required=True),
        "correction": _text("Its correction", required=True),
        "explanation": _text("Explanation", long=True, required=True, most=700),
        "tips": forms.CharField(
            label="Tips, one per line",
            max_length=700,
            widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        ),
    }
    for i in range(MAX_EXAMPLES):
        n = i + 1
        fields[f"example_{i}_wrong"] = _text(f"Example {n}: wrong", most=200)
        fields[f"example_{i}_right"] = _text(f"Example {n}: right", most=200)
        fields[f"example_{i}_note"] = _text(f"Example {n}: note", most=200)
    for i in range(MAX_PROBLEMS):
        n = i + 1
        fields[f"problem_{i}_kind"] = forms.ChoiceField(
            label=f"Problem {n}: kind", choices=KINDS, required=False
        )
        fields[f"problem_{i}_prompt"] = _text(f"Problem {n}: prompt (a gap is ___)")
        for j in range(MAX_OPTIONS):
            fields[f"problem_{i}_option_{j}"] = _text(f"Problem {n}: option {j + 1}", most=60)
        fields[f"problem_{i}_answer"] = _text(f"Problem {n}: key (the right answer)")
        fields[f"problem_{i}_rationale"] = _text(f"Problem {n}: why", most=240)
    return fields


def content_fields(content: dict) -> dict[str, str]:
    """A lesson's content as the form's values (also what a test posts)."""
    values = {k: content.get(k, "") for k in ("title", "learner_sentence", "correction")}
    values["explanation"] = content.get("explanation", "")
    values["tips"] = "\n".join(content.get("tips", []))
    for i, example in enumerate(content.get("examples", [])[:MAX_EXAMPLES]):
        for part in ("wrong", "right", "note"):
            values[f"example_{i}_{part}"] = example.get(part, "")
    for i, problem in enumerate(content.get("problems", [])[:MAX_PROBLEMS]):
        for part in ("kind", "prompt", "answer", "rationale"):
            values[f"problem_{i}_{part}"] = problem.get(part, "")
        for j, option in enumerate(problem.get("options", [])[:MAX_OPTIONS]):
            values[f"problem_{i}_option_{j}"] = option
    return values


def _assembled(data: dict) -> dict:
    """The form's values as lesson content; empty example and problem slots left out."""
    examples = [
        {part: data.get(f"example_{i}_{part}", "") for part in ("wrong", "right", "note")}
        for i in range(MAX_EXAMPLES)
        if any(data.get(f"example_{i}_{part}") for part in ("wrong", "right", "note"))
    ]
    problems = []
    for i in range(MAX_PROBLEMS):
        if not (data.get(f"problem_{i}_kind") or data.get(f"problem_{i}_prompt")):
            continue
        options = [data.get(f"problem_{i}_option_{j}", "") for j in range(MAX_OPTIONS)]
        problems.append(
            {
                "kind": data.get(f"problem_{i}_kind", ""),
                "prompt": data.get(f"problem_{i}_prompt", ""),
                "options": [o for o in options if o],
                "answer": data.get(f"problem_{i}_answer", ""),
                "rationale": data.get(f"problem_{i}_rationale", ""),
            }
        )
    return {
        "title": data.get("title", ""),
        "learner_sentence": data.get("learner_sentence", ""),
        "correction": data.get("correction", ""),
        "explanation": data.get("explanation", ""),
        "examples": examples,
        "problems": problems,
        "tips": [line.strip() for line in data.get("tips", "").splitlines() if line.strip()],
    }


def _shape_errors(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:10]]


class _ModuleFormBase(forms.ModelForm):
    approve = forms.BooleanField(
        required=False,
        label="Approve after saving",
        help_text="Edit the lesson, then tick this to show it to the learner.",
    )

    class Meta:
        model = Module
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.content and not self.is_bound:
            self.initial.update(content_fields(self.instance.content))

    def clean(self):
        data = super().clean()
        content = _assembled(data)
        try:
            content = ModuleContent.model_validate(content).model_dump()
        except ValidationError as exc:
            raise forms.ValidationError(
                ["The lesson is not complete:", *_shape_errors(exc)]
            ) from exc
        checks = staff.module_recheck(module=self.instance, content=content)
        failed = [f"{c.name}: {c.reason}" for c in checks if not c.passed]
        if failed:
            raise forms.ValidationError(["The lesson breaks the rules:", *failed])
        data["content"], data["checks"] = content, checks
        return data


ModuleForm = type("ModuleForm", (_ModuleFormBase,), {"__module__": __name__, **_lesson_fields()})


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
        "source",
        "prompt_version",
        "created_at",
    )
    list_filter = (
        "status",
        "source",
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
        "source",
        "build_log",
        "rejection_reason",
        "generation_error",
        "focus_reason",
        "report",
        "content_preview",
        "created_at",
    )
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

    @admin.display(description="As the learner sees it")
    def content_preview(self, module: Module) -> str:
        if not module.content:
            return "No lesson yet."
        return render_to_string("admin/teaching/module/preview.html", {"c": module.content})

    def get_fieldsets(self, request, obj=None):
        lesson = ["title", "learner_sentence", "correction", "explanation", "tips"]
        examples = [
            f"example_{i}_{part}"
            for i in range(MAX_EXAMPLES)
            for part in ("wrong", "right", "note")
        ]
        sets = [
            (None, {"fields": self.readonly_fields}),
            ("The lesson", {"fields": lesson}),
            ("Worked examples", {"fields": examples}),
        ]
        used = len((obj.content or {}).get("problems", [])) if obj else 0
        for i in range(MAX_PROBLEMS):
            parts = ["kind", "prompt", *(f"option_{j}" for j in range(MAX_OPTIONS))]
            fields = [f"problem_{i}_{p}" for p in (*parts, "answer", "rationale")]
            # Empty slots folded away: a lesson has three to eight problems.
            spare = {"classes": ["collapse"]} if i >= used else {}
            sets.append((f"Problem {i + 1}", {"fields": fields, **spare}))
        sets.append(("Decision", {"fields": ["approve"]}))
        return sets

    def save_model(self, request, module, form, change) -> None:
        """Every edit is stored with its re-check; "Approve after saving" then shows it."""
        content = form.cleaned_data["content"]
        staff.module_edit(module=module, content=content, checks=form.cleaned_data["checks"])
        if form.cleaned_data.get("approve"):
            staff.module_approve(module=module, content=content)

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
