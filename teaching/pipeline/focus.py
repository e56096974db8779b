"""Stage 2: per language, the mistake groups worth a module, each with a one-line reason.
At most TEACHING_MAX_FOCUSES per run.

Groups whose lesson the builder makes (teaching.core.builder) are chosen without the
model, in the filter's rank (count x priority), one per family first: the reason comes
from the cluster (its size, the learner's own edit, the grammar note's title). A model
call there would only delay the first lesson (tens of seconds on the built-in model) and
choose no better. The `focus_selection` profile picks among the other groups, for the
room that is left."""

import logging

from django.conf import settings

import llm
from analysis.core.annotate import ERRANT_LANGUAGES
from analysis.models import ErrorCluster
from grammar import notes as grammar
from teaching.core.builder import BUILT_FAMILIES, plain
from teaching.core.schemas import FocusSelection
from teaching.models import Focus, TeachingRun
from teaching.pipeline.common import Learner, language_name
from teaching.prompting import guidance, user_prompt

logger = logging.getLogger(__name__)

FALLBACK_REASON = "It comes up most often in your messages."


def select_focuses(run_id: int) -> None:
    run = TeachingRun.objects.select_related("learner__profile").get(pk=run_id)
    learner = Learner.of(run.learner)
    done = set(run.focuses.values_list("language", flat=True))
    room = settings.TEACHING_MAX_FOCUSES - run.focuses.count()
    for language, groups in _by_language(run.groups).items():
        if room <= 0:
            break
        if language in done:
            continue  # chosen by an earlier attempt of this run
        picks = _choose(run, learner, language, groups, room)
        _store(run, picks, start=run.focuses.count())
        room -= len(picks)


def _by_language(groups: list[dict]) -> dict[str, list[dict]]:
    by_language: dict[str, list[dict]] = {}
    for group in groups:
        by_language.setdefault(group["language"], []).append(group)
    return by_language


def _choose(
    run: TeachingRun, learner: Learner, language: str, groups: list[dict], room: int
) -> list[tuple[dict, str]]:
    """(group, reason) pairs: the built ones first, then the rest in rank order. The model
    chooses only where nothing is built: asked beside a built lesson it would hold that
    lesson back for as long as it takes to answer."""
    built = _built_first(groups, language)[:room]
    if not built:
        return _model_choice(run, learner, language, groups, room)
    picks = [(group, built_reason(group, learner)) for group in built]
    rest = [group for group in groups if group not in built]
    return picks + [(group, FALLBACK_REASON) for group in rest[: room - len(picks)]]


def buildable(group: dict, language: str) -> bool:
    """Whether the builder makes this group's lesson: an English family it knows, with a
    grammar note. It may still find too few verified items; generation then asks the model."""
    return (
        settings.TEACHING_BUILD_LESSONS
        and language in ERRANT_LANGUAGES
        and group["error_type"] in BUILT_FAMILIES
        and group["error_type"] in grammar.library().by_family
    )


def _built_first(groups: list[dict], language: str) -> list[dict]:
    """The buildable groups in rank order, one per family before a family's second."""
    ours = [group for group in groups if buildable(group, language)]
    first, families = [], set()
    for group in ours:
        if group["error_type"] not in families:
            families.add(group["error_type"])
            first.append(group)
    return first + [group for group in ours if group not in first]


def built_reason(group: dict, learner: Learner) -> str:
    """Why this focus, from what is known: how often, the learner's own edit, the rule."""
    language = learner.explanation_language(group["language"])
    title = plain(grammar.family_note(group["error_type"], language).title)
    count = group["count"]
    times = "once" if count == 1 else "twice" if count == 2 else f"{count} times"
    edit = next((e for e in group["examples"] if e.get("original") or e.get("correction")), None)
    if edit is None:
        return f"{title}: {times} in your messages."[:200]
    wrong, right = edit.get("original") or "(no word)", edit.get("correction") or "(no word)"
    such = f"such as \u201c{wrong}\u201d for \u201c{right}\u201d"
    return f"{title}: {times} in your messages, {such}."[:200]


def _model_choice(
    run: TeachingRun, learner: Learner, language: str, groups: list[dict], room: int
) -> list[tuple[dict, str]]:
    """The model's valid picks, or the top groups if it gave none."""
    prompt = user_prompt(
        "focus_selection_user",
        language_name=language_name(language),
        groups="\n".join(_describe(i, g) for i, g in enumerate(groups, 1)),
        max_focuses=min(room, len(groups)),
        guidance=guidance(language),
    )
    try:
        selection = llm.structured(
            "focus_selection",
            [{"role": "user", "content": prompt}],
            schema=FocusSelection,
            user=run.learner,
        )
    except llm.errors.StructuredOutputError:
        logger.warning("Focus selection of run %s gave no valid choice", run.pk)
        selection = FocusSelection(focuses=[])
    picks, seen = [], set()
    for choice in selection.focuses:
        if 1 <= choice.group <= len(groups) and choice.group not in seen:
            seen.add(choice.group)
            picks.append((groups[choice.group - 1], choice.reason))
    if not picks:
        picks = [(group, FALLBACK_REASON) for group in groups]
    return picks[:room]


def _describe(number: int, group: dict) -> str:
    edits = "; ".join(f'"{e["original"]}" -> "{e["correction"]}"' for e in group["examples"])
    return f"{number}. {group['name']} ({group['error_type']}), {group['count']}x: {edits}"


def _existing_cluster(cluster_id: int | None) -> int | None:
    if cluster_id is None or not ErrorCluster.objects.filter(pk=cluster_id).exists():
        return None  # re-clustered since the filter stage ran
    return cluster_id


def _store(run: TeachingRun, picks: list[tuple[dict, str]], *, start: int) -> None:
    for offset, (group, reason) in enumerate(picks):
        Focus.objects.get_or_create(
            run=run,
            key=group["key"],
            defaults={
                "position": start + offset,
                "language": group["language"],
                "error_type": group["error_type"],
                "cluster_id": _existing_cluster(group.get("cluster_id")),
                "cluster_name": group["name"][:200],
                "reason": reason[:200],
                "examples": group["examples"],
            },
        )
