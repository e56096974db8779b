"""The ingestion API: other systems post their conversations, message by message, with an
integration's API key or a learner's JWT; only the caller's own conversations exist."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from analysis.models import AnalysisBatch, ExternalMessage, Integration, IntegrationLearner
from analysis.models import IntegrationAPIKey as Key
from analysis.tests.conftest import analysis_reply, drain_queue, numbered, went

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("pipeline_settings")]

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def url(external_id: str, action: str = "") -> str:
    tail = f"{action}/" if action else ""
    return f"/api/v1/analysis/conversations/{external_id}/{tail}"


def key_client(integration: Integration) -> APIClient:
    _, key = Key.objects.create_key(name=f"{integration.name} key", integration=integration)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture
def tutoring(alice) -> Integration:
    integration = Integration.objects.create(name="Tutoring app")
    IntegrationLearner.objects.create(integration=integration, external_id="L-1", user=alice)
    return integration


@pytest.fixture
def tutoring_api(tutoring) -> APIClient:
    return key_client(tutoring)


def message(n: int, *, role: str = "learner", text: str = "", **extra) -> dict:
    return {
        "message_id": f"m{n}",
        "speaker": "Ana" if role == "learner" else "Tom",
        "role": role,
        "text": text or f"I goed to the shop {n} times.",
        "sent_at": (T0 + timedelta(minutes=n)).isoformat(),
        **extra,
    }


def test_an_integration_posts_for_its_learner_and_results_come_back(
    scripted_llm, tutoring_api, alice
):
    texts = numbered(3)
    scripted_llm.queue(analysis_reply(went(texts)))
    first = tutoring_api.post(url("c1", "messages"), message(1, learner="L-1"), format="json")
    tutoring_api.post(url("c1", "messages"), message(2, role="tutor", text="Oh, why?"))
    for n in (3, 4):
        tutoring_api.post(url("c1", "messages"), message(n, text=texts[n - 2]), format="json")
    ended = tutoring_api.post(url("c1", "end"))
    drain_queue()
    results = tutoring_api.get(url("c1"))

    assert first.status_code == 201, first.json()
    assert first.json()["arrival"] == 1
    assert ended.status_code == 200 and ended.json()["ended_at"]
    data = results.json()
    assert data["messages"] == 4
    assert [b["status"] for b in data["analysis"]["batches"]] == ["done"]
    utterances = data["analysis"]["utterances"]
    assert [u["message_seq"] for u in utterances] == [1, 3, 4]  # the tutor is only context
    assert utterances[0]["errors"][0]["original"] == "goed"
    assert data["analysis"]["clusters"][0]["size"] == 3
    assert AnalysisBatch.objects.get().learner == alice


def test_a_learner_posts_their_own_conversation_with_a_jwt(scripted_llm, api, alice):
    response = api.post(url("call-7", "messages"), message(1), format="json")
    result = api.get(url("call-7"))

    assert response.status_code == 201
    assert result.status_code == 200
    assert ExternalMessage.objects.get().conversation.learner == alice


def test_the_same_message_id_twice_is_stored_once(tutoring_api):
    body = message(1, learner="L-1")
    first = tutoring_api.post(url("c1", "messages"), body, format="json")
    again = tutoring_api.post(url("c1", "messages"), body, format="json")
    changed = tutoring_api.post(url("c1", "messages"), {**body, "text": "Other."}, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["created"] is False
    assert changed.status_code == 409
    assert changed.json()["error"].startswith("This message_id was already used")
    assert ExternalMessage.objects.count() == 1


def test_messages_are_ordered_by_sent_at_then_arrival(scripted_llm, tutoring_api):
    late, early, same_a, same_b = (
        message(5, learner="L-1", text="Fifth."),
        message(1, text="First."),
        {**message(3, text="Third A."), "message_id": "a"},
        {**message(3, text="Third B."), "message_id": "b"},
    )
    scripted_llm.queue(analysis_reply(["First.", "Third A.", "Third B.", "Fifth."]))
    for body in (late, early, same_a, same_b):
        tutoring_api.post(url("c1", "messages"), body, format="json")
    tutoring_api.post(url("c1", "end"))
    drain_queue()

    batch = AnalysisBatch.objects.get()
    covered = [i.external_message.text for i in batch.items.select_related("external_message")]
    assert covered == ["First.", "Third A.", "Third B.", "Fifth."]
    context = scripted_llm.calls[0].messages[-1]["content"]
    assert "Fifth." in context


def test_another_integrations_key_sees_nothing(tutoring_api, alice):
    tutoring_api.post(url("c1", "messages"), message(1, learner="L-1"), format="json")
    other = key_client(Integration.objects.create(name="Other app"))

    assert other.get(url("c1")).status_code == 404
    assert other.post(url("c1", "end")).status_code == 404
    # Posting to the same id makes the other integration its own, separate conversation.
    response = other.post(url("c1", "messages"), message(1, learner="L-1"), format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "Unknown learner"


def test_a_learner_jwt_does_not_see_an_integrations_conversation(tutoring_api, api, bob_api):
    tutoring_api.post(url("c1", "messages"), message(1, learner="L-1"), format="json")
    api.post(url("mine", "messages"), message(1), format="json")

    assert api.get(url("c1")).status_code == 404
    assert bob_api.get(url("mine")).status_code == 404
    assert bob_api.post(url("mine", "end")).status_code == 404


def test_no_key_a_wrong_key_or_a_revoked_key_is_refused(tutoring):
    client = APIClient()
    assert client.post(url("c1", "messages"), message(1), format="json").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Api-Key not.a-key")
    assert client.get(url("c1")).status_code in (401, 403)
    revoked = key_client(tutoring)
    Key.objects.update(revoked=True)
    assert revoked.get(url("c1")).status_code in (401, 403)


def test_limits_and_bad_input_get_clear_errors(tutoring_api, settings):
    settings.ANALYSIS_INGEST_TEXT_MAX_CHARS = 30
    settings.ANALYSIS_INGEST_MAX_MESSAGES = 1
    post = tutoring_api.post

    too_long = post(url("c1", "messages"), message(1, learner="L-1", text="x" * 31), format="json")
    no_learner = post(url("c1", "messages"), message(1), format="json")
    bad = post(url("c1", "messages"), {"message_id": "m1"}, format="json")
    long_id = post(url("x" * 101, "messages"), message(1, learner="L-1"), format="json")
    post(url("c1", "messages"), message(1, learner="L-1"), format="json")
    full = post(url("c1", "messages"), message(2), format="json")

    assert too_long.status_code == 413 and too_long.json()["detail"]["limit"] == 30
    assert no_learner.status_code == 400 and no_learner.json()["error"] == "Name the learner"
    assert bad.status_code == 400 and "text" in bad.json()["detail"]
    assert long_id.status_code == 404
    assert full.status_code == 413


def test_an_ended_conversation_takes_no_more_messages(tutoring_api):
    tutoring_api.post(url("c1", "messages"), message(1, learner="L-1"), format="json")
    tutoring_api.post(url("c1", "end"))

    response = tutoring_api.post(url("c1", "messages"), message(2), format="json")

    assert response.status_code == 409


def test_posting_is_rate_limited_per_key(tutoring_api, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "analysis_ingest": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    from rest_framework.throttling import SimpleRateThrottle

    SimpleRateThrottle.THROTTLE_RATES = rates
    try:
        codes = [
            tutoring_api.post(url("c1", "messages"), message(n, learner="L-1")).status_code
            for n in range(3)
        ]
    finally:
        from rest_framework.settings import api_settings

        SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    assert codes == [201, 201, 429]
