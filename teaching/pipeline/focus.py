"""Stage 2: per language, the model picks the mistake groups worth a module, each with a
one-line reason (the `focus_selection` profile). At most TEACHING_MAX_FOCUSES per run."""

import logging

from django.conf import settings

import llm
from teaching.models import Focus, TeachingRun
from teaching.pipeline.common import Learner, language_name
from teaching.prompting import guidance, user_prompt
from teaching.schemas import FocusSelection

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
    """(group, reason) pairs: the model's valid picks, or the top groups if it gave none."""
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
    from analysis.models import ErrorCluster

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
