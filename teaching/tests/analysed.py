"""A conversation as the analysis leaves it: learner messages, their analyses with
errors, and the clusters of those errors. For tests and the benchmark."""

from django.utils import timezone

from conversations.models import Conversation

# family -> (wrong template, right template, original, correction, priority)
FAMILIES = {
    "verb_tense": ("Yesterday I go to the {}.", "Yesterday I went to the {}.", "go", "went", 4),
    "subject_verb_agreement": ("She have a {}.", "She has a {}.", "have", "has", 4),
    "determiner": ("I saw a elephant near the {}.", "I saw an elephant near the {}.", "a", "an", 3),
    "preposition": ("I arrived to the {} late.", "I arrived at the {} late.", "to", "at", 3),
}
PLACES = (
    "market",
    "station",
    "park",
    "office",
    "beach",
    "museum",
    "library",
    "bakery",
    "garden",
    "school",
    "airport",
    "cinema",
    "harbour",
    "hospital",
    "theatre",
    "stadium",
    "village",
    "forest",
    "river",
    "castle",
)
DEFAULT_COUNTS = {
    "verb_tense": 20,
    "subject_verb_agreement": 15,
    "determiner": 10,
    "preposition": 5,
}


def sentence(family: str, index: int) -> tuple[str, str]:
    wrong, right, *_ = FAMILIES[family]
    place = PLACES[index % len(PLACES)]
    return wrong.format(place), right.format(place)


def analysed_conversation(
    user, *, counts: dict[str, int] | None = None, keep_raw=True, title="Weekend plans"
) -> Conversation:
    from analysis import models as am

    counts = counts or DEFAULT_COUNTS
    conversation = Conversation.objects.create(
        owner=user, title=title, keep_raw_messages=keep_raw, ended_at=timezone.now()
    )
    items = [(family, i) for family, n in counts.items() for i in range(n)]
    batches, errors_by_family, seq = {}, {}, 0
    for position, (family, index) in enumerate(items):
        number = position // 10 + 1
        if number not in batches:
            batches[number] = am.AnalysisBatch.objects.create(
                conversation=conversation, learner=user, sequence=number, status="done"
            )
        wrong, right = sentence(family, index)
        _, _, original, correction, priority = FAMILIES[family]
        seq += 1
        message = conversation.messages.create(seq=seq, role="user", content=wrong)
        seq += 1
        conversation.messages.create(seq=seq, role="assistant", content="Tell me more!")
        utterance = am.UtteranceAnalysis.objects.create(
            batch=batches[number],
            learner=user,
            message=message,
            message_seq=message.seq,
            text=wrong,
            language="en",
            corrected=right,
            level="B1",
            priority=priority,
            has_errors=True,
        )
        start = wrong.index(f" {original} ") + 1
        error = am.DetectedError.objects.create(
            utterance=utterance,
            start=start,
            end=start + len(original),
            original=original,
            correction=correction,
            error_type=family,
            source_type="R:X",
            explanation="",
            confidence="high",
        )
        errors_by_family.setdefault(family, []).append(error)
    Conversation.objects.filter(pk=conversation.pk).update(last_seq=seq)
    run = am.ClusteringRun.objects.create(
        learner=user, conversation=conversation, batches_done=len(batches), status="done"
    )
    for rank, (family, errors) in enumerate(errors_by_family.items(), start=1):
        cluster = am.ErrorCluster.objects.create(
            run=run,
            scope="conversation",
            learner=user,
            conversation=conversation,
            rank=rank,
            label=rank - 1,
            name=family.replace("_", " ").capitalize(),
            error_type=family,
            size=len(errors),
            score=float(len(errors)),
            top_edits=[],
        )
        am.ClusterMember.objects.bulk_create(
            am.ClusterMember(cluster=cluster, error=e) for e in errors
        )
    return conversation


def scripted_module(family: str, title: str) -> dict:
    """A module that passes every rule check, about the first sentence of `family`."""
    wrong, right = sentence(family, 0)
    return {
        "title": title,
        "learner_sentence": wrong,
        "correction": right,
        "explanation": "Look at the words around the mistake and use the form English needs.",
        "examples": [
            {"wrong": wrong, "right": right, "note": "the corrected form"},
            {
                "wrong": wrong.replace("I ", "We "),
                "right": right.replace("I ", "We "),
                "note": "the same rule",
            },
        ],
        "problems": [
            {
                "kind": "multiple_choice",
                "prompt": "Pick the right sentence.",
                "options": [wrong, right],
                "answer": right,
                "rationale": "It follows the rule.",
            },
            {
                "kind": "fill_blank",
                "prompt": "Yesterday we ___ home.",
                "options": [],
                "answer": "went",
                "rationale": "Past time needs the past form.",
            },
            {
                "kind": "multiple_choice",
                "prompt": "She ___ two cats.",
                "options": ["have", "has", "having"],
                "answer": "has",
                "rationale": "She takes has.",
            },
        ],
        "tips": ["Read your sentence again before you send it."],
    }
