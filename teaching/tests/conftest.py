"""Teaching fixtures: a conversation of alice's with a run whose filter stage is done."""

import pytest

from conversations.models import Conversation
from teaching.models import TeachingRun
from teaching.tests.factories import good_module


def group(n: int = 1, *, language: str = "en", error_type: str = "verb_tense") -> dict:
    sentence = "Yesterday I go to the market." if n == 1 else f"Last week I see film {n}."
    return {
        "key": f"{language}|{error_type}|{n}",
        "language": language,
        "error_type": error_type,
        "cluster_id": None,
        "name": "Past simple" if error_type == "verb_tense" else error_type,
        "count": 3,
        "score": 9.0,
        "examples": [
            {
                "sentence": sentence,
                "corrected": sentence.replace(" go ", " went ").replace(" see ", " saw "),
                "original": "go",
                "correction": "went",
            }
        ],
    }


def module_for(n: int = 1, **changes) -> dict:
    """A good module quoting group n's sentence, with its own title."""
    data = good_module(**changes)
    if n != 1:
        data["learner_sentence"] = f"Last week I see film {n}."
        data["correction"] = f"Last week I saw film {n}."
        data["title"] = f"The past simple, part {n}"
    return {**data, **changes}


@pytest.fixture
def conversation(alice):
    return Conversation.objects.create(owner=alice, title="Weekend plans")


@pytest.fixture
def run(alice, conversation):
    return TeachingRun.objects.create(
        learner=alice, conversation=conversation, groups=[group(1), group(2)]
    )
