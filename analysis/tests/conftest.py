"""Helpers of the pipeline tests: chats written straight into the database, the model's
analyses scripted at its one seam, and the real task queue run by the product's worker."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from analysis.core import calibration
from analysis.core.taxonomy import TAXONOMY
from analysis.models import AnalysisBatch
from conversations import services as conversation_services
from conversations.models import Conversation, Message
from ops.testing import drain_queue, wait_for  # noqa: F401  (re-exported for the tests)


@pytest.fixture
def pipeline_settings(settings, tmp_path) -> None:
    """For the pipeline's tests (analysis/tests/test_batches.py etc.): the mechanics of
    batches, with the scripted model as the one detector, calibrated as trusted (what a
    capable model on the `analysis` profile, once calibrated, would be), so that what it
    proposes is what the learner is shown. The detectors themselves, the gate and the
    per-message pass have tests of their own."""
    settings.ANALYSIS_BATCH_SIZE = 10
    settings.JOB_RETRY_BASE_SECONDS = 0  # retried at once, so a drained queue is final
    settings.ANALYSIS_UTTERANCES_PER_CALL = 10  # one model call per batch
    settings.ANALYSIS_DETECTORS = ["model"]
    settings.ANALYSIS_CALIBRATION_FILE = str(trusted_model_table(tmp_path))


def trusted_model_table(
    directory: Path, model: str = "scripted-model", *, merge: bool = False
) -> Path:
    """A calibration table in which the `model` detector on `model` is trusted for every
    kind of mistake; with `merge`, added to the product's own table of the other
    detectors."""
    families = {
        family: {"tp": 95, "fp": 5, "precision": 0.95, "subtypes": {}} for family in TAXONOMY
    }
    table = (
        calibration.load(Path(settings.BASE_DIR) / "analysis" / "calibration.json")
        if merge
        else {"version": calibration.VERSION, "prior": {"mean": 0.5, "strength": 4}}
    )
    table.setdefault("detectors", {})[f"model:{model}"] = {
        "tp": 95,
        "fp": 5,
        "precision": 0.95,
        "families": families,
    }
    path = directory / "calibration.json"
    path.write_text(calibration.dumps(table), encoding="utf-8")
    return path


def tutor_answers(conversation: Conversation, text: str = "Tell me more.") -> None:
    """Finish the pending reply as if the tutor had answered (no model call, so the
    scripted model serves only the analysis)."""
    Message.objects.filter(conversation=conversation, status="pending").update(
        status="complete", content=text
    )


def chat(learner, texts: list[str], conversation: Conversation | None = None) -> Conversation:
    """The learner sends each text and the tutor answers it."""
    for text in texts:
        if conversation is None:
            conversation = conversation_services.conversation_create(owner=learner, text=text)
        else:
            conversation_services.message_post(conversation=conversation, author=learner, text=text)
        tutor_answers(conversation)
    return conversation


def numbered(count: int, start: int = 1) -> list[str]:
    return [f"I goed to the shop {n} times." for n in range(start, start + count)]


def analysis_reply(corrected: list[str], *, level: str = "B1", explanation: str = "") -> str:
    """What the model answers for a batch: per utterance, the corrected sentence and the
    mistakes it names (the edits themselves come from comparing the two)."""
    return json.dumps(
        {
            "replies": [
                {
                    "corrected": text,
                    "mistakes": [
                        {
                            "wrong": "goed",
                            "right": "went",
                            "type": "verb_form",
                            "explanation": explanation or "Go is irregular: its past is went.",
                        }
                    ]
                    if "went" in text
                    else [],
                    "level": level,
                    "topics": ["shopping"],
                    "priority": 3,
                }
                for text in corrected
            ]
        }
    )


INVALID_REPLY = '{"replies": "not a list"}'


class BrokenDetector(RuntimeError):
    """What `broken_detector` raises: a fault the pipeline does not expect."""


def broken_detector(texts, **context):
    raise BrokenDetector("a detector crashed")


@pytest.fixture
def broken_analysis(settings):
    """Batches fail: the one detector crashes (an unexpected fault, not a model's bad
    output, which never fails a batch)."""
    from analysis import detectors

    with detectors.DETECTORS.added("broken", "analysis.tests.conftest.broken_detector"):
        settings.ANALYSIS_DETECTORS = ["broken"]
        yield


def went(texts: list[str]) -> list[str]:
    return [t.replace("goed", "went") for t in texts]


def queue_batch(scripted_llm, texts: list[str], **options) -> None:
    scripted_llm.queue(analysis_reply(went(texts), **options))


def batches(conversation: Conversation) -> list[AnalysisBatch]:
    return list(AnalysisBatch.objects.filter(conversation=conversation).order_by("sequence"))


def close_db() -> None:
    connection.close()
