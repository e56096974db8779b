"""Stage 3: one module per focus. English focuses of the families the builder knows get a
lesson built from the learner's own corrected sentences and the grammar notes, every
item verified with ERRANT (teaching.core.builder): no model, right by construction. The
rest are written by the model (the `module_generation` profile), structured output.

Built lessons go first and are decided as soon as each is built (validate.module_validate:
their rules decide, no model), so the first reaches the learner within seconds of the run
starting, before the model writes anything.

Output that fails the schema gets the gateway's one repair; output that parses but fails
a structural rule (an answer missing from its options, a blank without ___) gets one
repair request of ours, listing what failed. What comes back is stored as a draft either
way: the validation stage decides.
"""

import json
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

import llm
from analysis import detectors
from analysis.core.annotate import ERRANT_LANGUAGES, annotate_pairs
from teaching.core import additions, builder, rules
from teaching.core.schemas import ModuleContent
from teaching.models import Focus, Module, ModuleSource, ModuleStatus, TeachingRun
from teaching.pipeline.common import Learner, language_name, stopped
from teaching.pipeline.validate import module_validate, rule_checks
from teaching.prompting import guidance, prompt_version, user_prompt

logger = logging.getLogger(__name__)

PROFILE, TEMPLATE = "module_generation", "module_generation_user"
BUILT_VERSION = "built-1"  # bump when the builder's items change


def generate_modules(run_id: int) -> None:
    """Built lessons first, each decided as soon as it is built (its rules decide, no
    model): the learner has something to practise before the model writes the rest. What
    a model adds to the built lessons comes last, so no built lesson waits for it."""
    run = TeachingRun.objects.select_related("learner__profile").get(pk=run_id)
    wanted = Q(module__isnull=True) | Q(module__regenerate=True, module__final=False)
    focuses = list(run.focuses.filter(wanted).order_by("position"))
    focuses.sort(key=lambda focus: focus.error_type not in builder.BUILT_FAMILIES)  # stable
    built = []
    for focus in focuses:
        if stopped(run):
            return
        module = module_generate(focus=focus, run=run)
        if module is not None and module.source == ModuleSource.BUILT:
            module_validate(module=module, run=run)
            built.append(module)
    if settings.TEACHING_MODEL_ADDITIONS:
        for module in built:
            if stopped(run):
                return
            if module.status == ModuleStatus.VALIDATED:
                module_add(module=module, run=run)


def module_generate(*, focus: Focus, run: TeachingRun) -> Module | None:
    """Build (or write, or rewrite) the focus's module as a draft; None when the run was
    superseded meanwhile (nothing stored)."""
    learner = Learner.of(run.learner)
    built = _build(focus, learner)
    if built is not None and built.content is not None:
        return _store(focus, run, built.content, "", source=ModuleSource.BUILT, log=_log(built))
    messages = [{"role": "user", "content": _prompt(focus, learner)}]
    content, error = _generate(messages, focus, run)
    log = _log(built) if built is not None else {}
    return _store(focus, run, content, error, source=ModuleSource.MODEL, log=log)


def module_add(*, module: Module, run: TeachingRun) -> None:
    """What the model adds to a decided built lesson, item by item: kept only when the
    lesson with it still passes the rule checks it passed; recorded either way for staff."""
    focus, learner = module.focus, Learner.of(run.learner)
    content = ModuleContent.model_validate(module.content)
    added, log = _with_additions(content, focus, learner, run)
    failed = [c.reason for c in rule_checks(module, added, learner) if not c.passed]
    if added != content and failed:
        log["error"] = f"the lesson with the additions fails: {'; '.join(failed)}"[:300]
        added = content
    with transaction.atomic():
        if stopped(run):
            return
        module.content = added.model_dump()
        module.build_log = {**module.build_log, "model": log}
        module.updated_at = timezone.now()
        module.save(update_fields=["content", "build_log", "updated_at"])


def _build(focus: Focus, learner: Learner) -> builder.Built | None:
    """The built lesson, or None where the builder does not apply. A lesson staff asked to
    have written again goes to the model: the builder would make the same one."""
    wanted = settings.TEACHING_BUILD_LESSONS and focus.language in ERRANT_LANGUAGES
    existing = Module.objects.filter(focus=focus).only("regenerate", "source").first()
    if not wanted or (existing and existing.regenerate and existing.source == "built"):
        return None
    pairs = [
        builder.Pair(e["sentence"], e["corrected"], e.get("original", ""), e.get("correction", ""))
        for e in focus.examples
    ]
    explained_in = learner.explanation_language(focus.language)
    return builder.build(focus.error_type, pairs, explanation_language=explained_in)


def _with_additions(
    content: ModuleContent, focus: Focus, learner: Learner, run: TeachingRun
) -> tuple[ModuleContent, dict]:
    """The model's lesson for the focus, taken item by item into the built one: what
    passes the checks is added, what fails is dropped and recorded for staff."""
    messages = [{"role": "user", "content": _prompt(focus, learner)}]
    try:
        offered = _call(messages, run)
    except llm.errors.LLMError as exc:
        # Whatever the model does (no JSON, too slow, away), the built lesson stays.
        reason = f"{type(exc).__name__}: {exc.detail or exc.user_message}"
        return content, {"added": [], "dropped": [], "error": reason[:300]}
    taken = additions.accept(
        content,
        offered,
        focus.error_type,
        annotate=lambda pairs: annotate_pairs(pairs, language=focus.language),
        propose=_detector_proposals,
    )
    return additions.merged(content, taken), taken.log()


def _detector_proposals(texts: list[str]) -> list[list[str]]:
    found = detectors.propose(texts, detectors.configured(model=False))
    return [[p for proposals in found.values() for p in proposals[i]] for i in range(len(texts))]


def _log(built: builder.Built) -> dict:
    return {"note": built.note_id, "dropped": built.dropped[:20], "not_built": built.reason}


def _store(
    focus: Focus,
    run: TeachingRun,
    content: ModuleContent | None,
    error: str,
    *,
    source: str,
    log: dict,
) -> Module | None:
    version = (
        BUILT_VERSION
        if source == ModuleSource.BUILT
        else prompt_version(PROFILE, TEMPLATE, ModuleContent.model_json_schema())
    )
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
        "prompt_version": version,
        "generation_error": error,
        "source": source,
        "build_log": log,
        "rejection_reason": "",
        "regenerate": False,
        "validated_at": None,
        "updated_at": timezone.now(),
    }
    with transaction.atomic():
        if stopped(run):
            return None  # superseded while the model wrote: this draft is not stored
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
