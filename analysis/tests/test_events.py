"""Live analysis events reach the learner's own event socket, and no one else's."""

import pytest
from channels.db import database_sync_to_async

from analysis.tests.conftest import chat, drain_queue, numbered, queue_batch
from conversations import services as conversation_services
from conversations.tests.conftest import receive_until
from ops.socket_testing import open_events_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("pipeline_settings")]


async def test_batch_and_clustering_results_arrive_on_the_learners_socket(scripted_llm, alice, bob):
    texts = numbered(10)
    queue_batch(scripted_llm, texts)
    alices, bobs = await open_events_socket(alice), await open_events_socket(bob)

    conversation = await database_sync_to_async(chat)(alice, texts)
    await database_sync_to_async(drain_queue)()
    done = await receive_until(alices, lambda e: e["type"] == "analysis.batch_completed")
    await database_sync_to_async(conversation_services.conversation_end)(conversation=conversation)
    await database_sync_to_async(drain_queue)()
    clustered = await receive_until(alices, lambda e: e["type"] == "analysis.clustering_completed")

    batch_event, cluster_event = done[-1], clustered[-1]
    assert batch_event["conversation_id"] == conversation.pk
    assert batch_event["batch"]["status"] == "done"
    utterances = batch_event["utterances"]
    assert [u["message_seq"] for u in utterances] == list(range(1, 20, 2))
    first_error = utterances[0]["errors"][0]
    assert (first_error["original"], first_error["correction"]) == ("goed", "went")
    assert cluster_event["conversation_id"] == conversation.pk
    assert cluster_event["clusters"][0]["size"] == 10
    assert await bobs.receive_nothing(timeout=0.3)  # bob hears nothing of alice's
    await alices.disconnect()
    await bobs.disconnect()


async def test_a_failed_batch_is_announced_with_its_reason(
    scripted_llm, alice, settings, broken_analysis
):
    settings.ANALYSIS_MAX_ATTEMPTS = 1
    socket = await open_events_socket(alice)

    await database_sync_to_async(chat)(alice, numbered(10))
    await database_sync_to_async(drain_queue)()
    events = await receive_until(socket, lambda e: e["type"] == "analysis.batch_failed")

    assert events[-1]["batch"]["status"] == "failed"
    assert events[-1]["batch"]["error"]
    await socket.disconnect()
