"""Staff decisions on modules: approve, edit and approve, regenerate, reject for good.
Each is recorded by the admin in Django's LogEntry (who, when, what)."""

from django.db import transaction
from django.utils import timezone

from teaching import events
from teaching.core.rules import Check, module_key
from teaching.core.schemas import ModuleContent
from teaching.models import Module, ModuleStatus, ValidationReport
from teaching.pipeline.common import Learner
from teaching.pipeline.validate import rule_checks
from teaching.services.runs import run_restart

RECHECKED = "Re-checked with the rules on a teacher's edit; the judge is not asked."


def module_recheck(*, module: Module, content: dict) -> list[Check]:
    """The rule checks of the validation stage on an edited lesson (a teacher's edit is
    held to the same rules as a built or written one)."""
    parsed = ModuleContent.model_validate(content)
    return rule_checks(module, parsed, Learner.of(module.learner))


def module_edit(*, module: Module, content: dict, checks: list[Check]) -> None:
    """Store a teacher's edit that passed `checks`, with a report saying so."""
    parsed = ModuleContent.model_validate(content)
    module.content, module.title = parsed.model_dump(), parsed.title
    module.dedupe_key = module_key(parsed.title, module.error_type)
    module.updated_at = timezone.now()
    with transaction.atomic():
        module.save(update_fields=["content", "title", "dedupe_key", "updated_at"])
        ValidationReport.objects.create(
            module=module,
            prompt_version=module.prompt_version,
            checks=[c.as_dict() for c in checks],
            judge_error=RECHECKED,
            passed=all(c.passed for c in checks),
            reasons=[c.reason for c in checks if not c.passed],
        )


def module_approve(*, module: Module, content: dict | None = None) -> None:
    """Make the module visible to its learner; with `content`, edited first (validated
    against the module schema, so an edit cannot break the practice page)."""
    if content is not None:
        parsed = ModuleContent.model_validate(content)
        module.content = parsed.model_dump()
        module.title = parsed.title
        module.dedupe_key = module_key(parsed.title, module.error_type)
    module.status, module.final, module.regenerate = ModuleStatus.APPROVED, False, False
    module.updated_at = timezone.now()
    with transaction.atomic():
        module.save()
        events.module_decided_on_commit(module)


def module_reject_final(*, module: Module) -> None:
    module.status, module.final, module.regenerate = ModuleStatus.REJECTED, True, False
    module.updated_at = timezone.now()
    with transaction.atomic():
        module.save(update_fields=["status", "final", "regenerate", "updated_at"])
        events.module_decided_on_commit(module)


def module_regenerate(*, module: Module) -> bool:
    """Write the module again (generation, then validation) in its run; False when it
    was rejected for good."""
    if module.final:
        return False
    with transaction.atomic():
        Module.objects.filter(pk=module.pk).update(
            regenerate=True, status=ModuleStatus.DRAFT, updated_at=timezone.now()
        )
        run_restart(run=module.run)
    return True
