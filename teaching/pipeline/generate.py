"""Stage 3: one module per focus (the `module_generation` profile), structured output.

Output that fails the schema gets the gateway's one repair; output that parses but fails
a structural rule (an answer missing from its options, a blank without ___) gets one
repair request of ours, listing what failed. What comes back is stored as a draft either
way: the validation stage decides.
"""

import json
import logging

from django.db.models import Q
from django.utils import timezone

import llm
from teaching import rules
from teaching.models import Focus, Module, ModuleStatus, TeachingRun
from teaching.pipeline.common import Learner, language_name, stopped
from teaching.prompting import guidance, prompt_version, user_prompt
from teaching.schemas import ModuleContent

logger = logging.getLogger(__name__)

PROFILE, TEMPLATE = "module_generation", "module_generation_user"


def generate_modules(run_id: int) -> None:
    run = TeachingRun.objects.select_related("learner__profile").get(pk=run_id)
    wanted = Q(module__isnull=True) | Q(module__regenerate=True, module__final=False)
    for focus in run.focuses.filter(wanted).order_by("position"):
        if stopped(run):
            return
        module_generate(focus=focus, run=run)


def module_generate(*, focus: Focus, run: TeachingRun) -> Module:
    """Write (or rewrite) the focus's module as a draft."""
    learner = Learner.of(run.learner)
    messages = [{"role": "user", "content": _prompt(focus, learner)}]
    content, error = _generate(messages, focus, run)
    fields = {
        "learner": run.learner,
        "run": run,
        "conversation_id": run.conversation_id,
        "status": ModuleStatus.DRAFT,
        "language": focus.language,
        "error_type": focus.error_type,
        "cluster_id": focus.cluster_id,
        "cluster_name": focus.cluster_name,
        "title": content.title if content else "",
        "content": content.model_dump() if content else {},
        "dedupe_key": rules.module_key(content.title, focus.error_type) if content else "",
        "prompt_version": prompt_version(PROFILE, TEMPLATE, ModuleContent.model_json_schema()),
        "generation_error": error,
        "rejection_reason": "",
        "regenerate": False,
        "validated_at": None,
        "updated_at": timezone.now(),
    }
    module, _ = Module.objects.update_or_create(focus=focus, defaults=fields)
    return module


def _prompt(focus: Focus, learner: Learner) -> str:
    first, *more = focus.examples or [{"sentence": "", "corrected": ""}]
    others = "\n".join(f'Also: "{e["sentence"]}" -> "{e["corrected"]}"' for e in more)
    return user_prompt(
        TEMPLATE,
        focus_name=focus.cluster_name or focus.error_type,
        error_type=focus.error_type,
        sentence=first["sentence"],
        corrected=first["corrected"],
        more_examples=others,
        explanation_language_name=language_name(learner.explanation_language(focus.language)),
        learner_level=learner.level,
        guidance=guidance(focus.language),
    )


def _generate(messages: list, focus: Focus, run: TeachingRun) -> tuple[ModuleContent | None, str]:
    try:
        content = _call(messages, run)
        failed = _repairable_failures(content, focus)
        if failed:
            repair = [
                *messages,
                {"role": "assistant", "content": json.dumps(content.model_dump())},
                {"role": "user", "content": _repair_request(failed)},
            ]
            content = _call(repair, run)
        return _quoting_the_learner(content, focus), ""
    except llm.errors.StructuredOutputError as exc:
        logger.info("Module for focus %s did not fit the schema: %s", focus.pk, exc.detail)
        return None, "The model's lesson did not fit the required shape, even after a repair."


def _quoting_the_learner(content: ModuleContent, focus: Focus) -> ModuleContent:
    """The learner's own sentence is a fact we have, not something for the model to copy
    (small models change a word or two): the module quotes it exactly."""
    sentence = focus.examples[0]["sentence"] if focus.examples else ""
    if not sentence or len(sentence) > 300 or sentence == content.learner_sentence:
        return content
    return ModuleContent.model_validate({**content.model_dump(), "learner_sentence": sentence})


def _call(messages: list, run: TeachingRun) -> ModuleContent:
    return llm.structured(PROFILE, messages, schema=ModuleContent, user=run.learner)


def _repairable_failures(content: ModuleContent, focus: Focus) -> list[rules.Check]:
    checks = [
        *rules.structure_checks(content),
        rules.check_correction_differs(content),
    ]
    return [check for check in checks if not check.passed]


def _repair_request(failed: list[rules.Check]) -> str:
    problems = "\n".join(f"- {check.reason}" for check in failed)
    return (
        f"Your lesson has these problems:\n{problems}\n"
        "Reply again with only the corrected JSON lesson."
    )
