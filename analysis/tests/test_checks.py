"""The model-free pass: every learner message of our chat is checked as soon as it is
stored, by the detectors that need no model, and its marks reach the learner's socket;
the batch's model pass later replaces that analysis with its own."""

import pytest
from channels.db import database_sync_to_async

from analysis.models import MessageCheck, UtteranceAnalysis
from analysis.tests.conftest import chat, drain_queue, numbered, queue_batch
from conversations.tests.conftest import receive_until
from ops.socket_testing import open_events_socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def model_free(settings):
    """The product's own model-free detectors and calibration table; no batch this soon."""
    settings.ANALYSIS_DETECTORS = ["harper", "spelling", "rules"]
    settings.ANALYSIS_BATCH_SIZE = 10


def test_a_message_is_checked_once_its_mistake_marked_and_what_is_unsure_held(
    scripted_llm, alice, model_free
):
    conversation = chat(alice, ["He go to school every day.", "I recieved it."])
    drain_queue()

    assert MessageCheck.objects.filter(status="done").count() == 2
    first = UtteranceAnalysis.objects.get(message__conversation=conversation, message_seq=1)
    assert first.batch is None  # the quick pass: no batch yet
    shown = [(e.original, e.correction, e.shown) for e in first.errors.filter(shown=True)]
    assert shown == [("go", "goes", True)]
    assert first.has_errors
    error = first.errors.get(shown=True)
    assert set(error.sources) >= {"rules", "harper"}  # two detectors agree


def test_an_edit_below_the_bar_is_stored_for_staff_but_never_shown(
    scripted_llm, alice, api, model_free, settings
):
    settings.ANALYSIS_MIN_PRECISION = 0.99  # nothing one detector finds is sure enough
    settings.ANALYSIS_DETECTORS = ["harper"]  # so no second detector agrees
    conversation = chat(alice, ["She have two brothers."])
    drain_queue()

    utterance = UtteranceAnalysis.objects.get(message__conversation=conversation)
    assert utterance.errors.filter(shown=False).exists()
    assert not utterance.has_errors
    data = api.get(f"/api/v1/conversations/{conversation.pk}/analysis/").json()
    (seen,) = data["utterances"]
    assert seen["errors"] == [] and seen["has_errors"] is False


def test_a_clean_message_gets_an_analysis_with_nothing_marked(scripted_llm, alice, model_free):
    conversation = chat(alice, ["The weather is nice today."])
    drain_queue()

    utterance = UtteranceAnalysis.objects.get(message__conversation=conversation)
    assert not utterance.errors.filter(shown=True).exists()


def test_the_batch_replaces_the_quick_analysis(scripted_llm, alice, pipeline_settings):
    texts = numbered(10)
    queue_batch(scripted_llm, texts)
    conversation = chat(alice, texts)
    drain_queue()

    rows = UtteranceAnalysis.objects.filter(message__conversation=conversation)
    assert rows.count() == 10 and not rows.filter(batch__isnull=True).exists()


async def test_marks_reach_the_learners_socket(scripted_llm, alice, model_free):
    socket = await open_events_socket(alice)

    await database_sync_to_async(chat)(alice, ["He go to school every day."])
    await database_sync_to_async(drain_queue)()
    events = await receive_until(socket, lambda e: e["type"] == "analysis.message_checked")

    utterance = events[-1]["utterance"]
    assert utterance["text"] == "He go to school every day."
    (error,) = utterance["errors"]
    assert (error["original"], error["correction"]) == ("go", "goes")
    assert error["note"]["title"]  # the grammar note explains it
    await socket.disconnect()
