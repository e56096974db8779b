"""Stage 4: rule checks plus an LLM judge (the `module_validation` profile) decide each
draft: `validated` or `rejected`, with a stored report of every check, score and reason.
A built lesson is decided by its rule checks alone.
A module is announced to the learner the moment it is validated."""

import json

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import llm
from teaching import events
from teaching.core import rules
from teaching.core.schemas import JudgeVerdict, ModuleContent
from teaching.models import (
    VISIBLE_STATUSES,
    Module,
    ModuleSource,
    ModuleStatus,
    TeachingRun,
    ValidationReport,
)
from teaching.pipeline.common import Learner, language_name, stopped
from teaching.prompting import user_prompt

# A built lesson's items were each verified with ERRANT as they were built; its rule
# checks decide, and the judge (a small model by default) is not asked.
NOT_JUDGED = "Not asked: a lesson built from the learner's sentences, every item verified."


def validate_modules(run_id: int) -> None:
    run = TeachingRun.objects.select_related("learner__profile").get(pk=run_id)
    drafts = run.modules.filter(status=ModuleStatus.DRAFT).select_related("focus")
    for module in drafts.order_by("focus__position"):
        if stopped(run):
            return
        module_validate(module=module, run=run)


def module_validate(*, module: Module, run: TeachingRun) -> ValidationReport | None:
    learner = Learner.of(run.learner)
    if not module.content:
        checks = [rules.Check("schema", False, module.generation_error or "no lesson")]
        verdict, judge_error = None, ""
    else:
        content = ModuleContent.model_validate(module.content)
        checks = rule_checks(module, content, learner)
        verdict, judge_error = None, NOT_JUDGED
        if module.source != ModuleSource.BUILT:
            verdict, judge_error = _judge(module, content, learner, run)
    decision = rules.decide(
        checks,
        verdict.model_dump() if verdict else None,
        min_score=settings.TEACHING_JUDGE_MIN_SCORE,
        min_mean=settings.TEACHING_JUDGE_MIN_MEAN,
        judged=module.source != ModuleSource.BUILT,
    )
    return _store(run, module, checks, verdict, judge_error, decision)


def rule_checks(module: Module, content: ModuleContent, learner: Learner) -> list[rules.Check]:
    existing = set(
        Module.objects.filter(learner_id=module.learner_id, status__in=VISIBLE_STATUSES)
        .exclude(pk=module.pk)
        .values_list("dedupe_key", flat=True)
    )
    return rules.module_checks(
        content,
        language=learner.explanation_language(module.language),
        error_type=module.error_type,
        among=learner.languages,
        sentences=[e["sentence"] for e in module.focus.examples],
        existing=existing,
        family_language=module.language,
    )


def _judge(
    module: Module, content: ModuleContent, learner: Learner, run: TeachingRun
) -> tuple[JudgeVerdict | None, str]:
    prompt = user_prompt(
        "module_validation_user",
        learner_level=learner.level,
        language_name=language_name(module.language),
        focus_name=module.cluster_name or module.error_type,
        error_type=module.error_type,
        module=json.dumps(content.model_dump(), ensure_ascii=False, indent=1),
    )
    try:
        verdict = llm.structured(
            "module_validation",
            [{"role": "user", "content": prompt}],
            schema=JudgeVerdict,
            user=run.learner,
        )
        return verdict, ""
    except llm.errors.StructuredOutputError as exc:
        return None, f"The judge gave no valid verdict: {exc.detail}"[:500]


def _store(
    run: TeachingRun,
    module: Module,
    checks: list[rules.Check],
    verdict: JudgeVerdict | None,
    judge_error: str,
    decision: rules.Decision,
) -> ValidationReport | None:
    now = timezone.now()
    with transaction.atomic():
        if stopped(run):
            return None  # superseded while the judge ran: its verdict is not stored
        report = ValidationReport.objects.create(
            module=module,
            prompt_version=module.prompt_version,
            checks=[c.as_dict() for c in checks],
            scores=verdict.scores.model_dump() if verdict else {},
            judge_verdict=verdict.verdict if verdict else "",
            judge_problems=list(verdict.problems) if verdict else [],
            judge_error=judge_error,
            passed=decision.passed,
            reasons=decision.reasons,
        )
        module.status = ModuleStatus.VALIDATED if decision.passed else ModuleStatus.REJECTED
        module.rejection_reason = decision.code
        module.validated_at = now if decision.passed else None
        module.updated_at = now
        module.save(update_fields=["status", "rejection_reason", "validated_at", "updated_at"])
        events.module_decided_on_commit(module)
    return report
