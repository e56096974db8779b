"""GET /api/v1/conversations/<id>/analysis/ and /api/v1/me/analysis/: the owner's results,
404 for anyone else, a fixed number of queries however much there is."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analysis.tests.conftest import chat, drain_queue, numbered, queue_batch
from conversations import services as conversation_services
from core import jobs

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("pipeline_settings")]


def analysed(learner, scripted_llm, count: int, *, end: bool = True):
    texts = numbered(count)
    for start in range(0, count, 10):
        queue_batch(scripted_llm, texts[start : start + 10])
    conversation = chat(learner, texts)
    if end:
        conversation_services.conversation_end(conversation=conversation)
    drain_queue()
    return conversation


def test_the_owner_reads_batches_utterances_errors_and_clusters(scripted_llm, alice, api):
    conversation = analysed(alice, scripted_llm, 12)

    response = api.get(f"/api/v1/conversations/{conversation.pk}/analysis/")

    assert response.status_code == 200
    data = response.json()
    assert data["ended"] is True and data["batch_size"] == 10
    assert [(b["sequence"], b["status"], b["message_count"]) for b in data["batches"]] == [
        (1, "done", 10),
        (2, "done", 2),
    ]
    assert len(data["utterances"]) == 12
    error = data["utterances"][0]["errors"][0]
    assert error["original"] == "goed" and error["error_type_label"]
    cluster = data["clusters"][0]
    assert cluster["size"] == 12 and cluster["examples"][0]["original"] == "goed"


def test_a_failed_batch_shows_its_reason(scripted_llm, alice, api, settings, broken_analysis):
    settings.ANALYSIS_MAX_ATTEMPTS = 1
    conversation = chat(alice, numbered(10))
    drain_queue()

    batch = api.get(f"/api/v1/conversations/{conversation.pk}/analysis/").json()["batches"][0]

    assert batch["status"] == "failed"
    assert batch["error"] == jobs.GENERIC_FAILURE  # readable, never the exception's text


def test_a_model_that_fails_its_schema_shows_the_learner_no_error(scripted_llm, alice, api):
    scripted_llm.set_default(text='{"replies": "not a list"}')
    conversation = chat(alice, numbered(10))
    drain_queue()

    data = api.get(f"/api/v1/conversations/{conversation.pk}/analysis/").json()

    assert [(b["status"], b["error"]) for b in data["batches"]] == [("done", "")]
    assert "schema" not in json.dumps(data) and "model_failures" not in json.dumps(data)


def test_another_learners_conversation_analysis_is_404(scripted_llm, alice, bob_api):
    conversation = analysed(alice, scripted_llm, 10)

    response = bob_api.get(f"/api/v1/conversations/{conversation.pk}/analysis/")

    assert response.status_code == 404
    assert set(response.json()) == {"error", "detail"}


def test_me_analysis_aggregates_across_conversations(scripted_llm, alice, api, bob_api):
    analysed(alice, scripted_llm, 10)
    analysed(alice, scripted_llm, 10)

    mine = api.get("/api/v1/me/analysis/").json()
    bobs = bob_api.get("/api/v1/me/analysis/").json()

    assert (mine["utterances"], mine["errors"]) == (20, 20)
    assert mine["clusters"][0]["size"] == 20
    assert mine["trend"][0]["counts"] == [20] and mine["trend"][0]["direction"] == "new"
    assert mine["levels"][0]["level"] == "B1"
    assert (bobs["utterances"], bobs["clusters"]) == (0, [])


def query_shapes(client, path: str) -> list[str]:
    """The request's queries with their numbers blanked, so a failure shows which query
    came or went rather than only a count."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return [re.sub(r"\d+(, \d+)*", "N", query["sql"]) for query in queries]


def test_list_apis_take_a_fixed_number_of_queries(scripted_llm, alice, api):
    small = analysed(alice, scripted_llm, 10)
    small_queries = query_shapes(api, f"/api/v1/conversations/{small.pk}/analysis/")
    me_small = query_shapes(api, "/api/v1/me/analysis/")
    large = analysed(alice, scripted_llm, 30)

    assert query_shapes(api, f"/api/v1/conversations/{large.pk}/analysis/") == small_queries
    assert query_shapes(api, "/api/v1/me/analysis/") == me_small


def test_the_schema_documents_the_analysis_endpoints(api):
    schema = api.get("/api/schema/?format=json").json()

    paths = schema["paths"]
    assert "/api/v1/conversations/{id}/analysis/" in paths
    assert "/api/v1/me/analysis/" in paths
    assert "/api/v1/analysis/conversations/{external_id}/messages/" in paths
    post = paths["/api/v1/analysis/conversations/{external_id}/messages/"]["post"]
    assert {"201", "200", "409", "413", "429"} <= set(post["responses"])
