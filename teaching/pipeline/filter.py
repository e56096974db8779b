"""Stage 1: the run's analysed sentences, filtered and split by language into ranked
mistake groups (teaching.core.filtering does the work; this loads and stores)."""

from django.conf import settings

from teaching import sentences
from teaching.core import language
from teaching.core.filtering import Thresholds, filter_and_split, mistake_groups
from teaching.models import TeachingRun
from teaching.pipeline.common import Learner


def thresholds() -> Thresholds:
    return Thresholds(
        min_priority=settings.TEACHING_MIN_PRIORITY,
        trivial_types=frozenset(settings.TEACHING_TRIVIAL_TYPES),
    )


def filter_sentences(run_id: int) -> None:
    run = TeachingRun.objects.select_related("learner__profile").get(pk=run_id)
    learner = Learner.of(run.learner)
    among = learner.languages

    def detect(text: str) -> str | None:
        return language.detect(text, among=among)

    split = filter_and_split(
        sentences.sentences_for(run),
        native=learner.native,
        target=learner.target,
        detect=detect,
        thresholds=thresholds(),
    )
    groups = []
    for items in split.by_language.values():
        groups.extend(g.as_dict() for g in mistake_groups(items)[: settings.TEACHING_MAX_GROUPS])
    run.groups, run.dropped = groups, len(split.dropped)
    run.save(update_fields=["groups", "dropped"])
