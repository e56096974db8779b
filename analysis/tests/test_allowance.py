"""The analysis spends background allowances, never the learner's chat: an integration's
conversations their own; a spent allowance defers a batch rather than failing it; a
failed batch is retried by itself, and by the learner from its page or the API."""

from datetime import timedelta

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

import llm
from analysis.models import AnalysisBatch, Integration, IntegrationLearner
from analysis.models import IntegrationAPIKey as Key
from analysis.tests.conftest import batches, chat, drain_queue, numbered, queue_batch
from conftest import PASSWORD
from core import jobs
from llm.models import LLMCall
from llm.selectors import day_start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("pipeline_settings")]


@pytest.fixture
def tutoring(alice) -> Integration:
    integration = Integration.objects.create(name="Tutoring app")
    IntegrationLearner.objects.create(integration=integration, external_id="L-1", user=alice)
    return integration


def post_conversation(integration: Integration, external_id: str, texts: list[str]) -> None:
    """What an integration does: post the learner's lines, then end the conversation."""
    from rest_framework.test import APIClient

    _, key = Key.objects.create_key(name="key", integration=integration)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    base = f"/api/v1/analysis/conversations/{external_id}/"
    for n, text in enumerate(texts, start=1):
        response = client.post(
            f"{base}messages/",
            {
                "message_id": f"m{n}",
                "speaker": "Ana",
                "role": "learner",
                "text": text,
                "sent_at": f"2026-11-30T09:{n:02d}:00Z",
                "learner": "L-1",
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
    assert client.post(f"{base}end/").status_code == 200


def spent(user, tokens: int, *, integration: int | None = None) -> None:
    LLMCall.objects.create(
        user=user,
        task="analysis",
        provider="scripted",
        model="m",
        prompt_tokens=tokens,
        allowance="background",
        integration=integration,
    )


def test_an_integrations_analysis_is_charged_to_its_own_allowance(scripted_llm, alice, tutoring):
    texts = numbered(3)
    queue_batch(scripted_llm, texts)
    post_conversation(tutoring, "c1", texts)
    drain_queue()

    assert AnalysisBatch.objects.get().status == "done"
    call = LLMCall.objects.get(task="analysis")
    assert (call.user, call.allowance, call.integration) == (alice, "background", tutoring.pk)


def test_a_spent_integration_allowance_defers_its_batch_and_leaves_the_chat_alone(
    scripted_llm, alice, tutoring, settings
):
    settings.LLM_DAILY_TOKEN_QUOTA = 1000
    settings.LLM_INTEGRATION_DAILY_TOKENS = 1000
    spent(alice, 5000, integration=tutoring.pk)

    post_conversation(tutoring, "c1", numbered(3))
    texts = numbered(10)
    queue_batch(scripted_llm, texts)
    own = chat(alice, texts)
    drain_queue()

    deferred = AnalysisBatch.objects.get(external_conversation__isnull=False)
    assert (deferred.status, deferred.attempts) == ("queued", 4)  # a new round, not failed
    assert "allowance" in deferred.error
    (task,) = DBTaskResult.objects.filter(status="READY", args_kwargs__args=[deferred.pk])
    assert task.run_after == day_start() + timedelta(days=1)
    # Her own conversation's analysis and her chat are untouched by the integration's use.
    assert [b.status for b in batches(own)] == ["done"]
    llm.quota_check(alice)


def test_a_spent_background_allowance_defers_the_batch_not_fails_it(scripted_llm, alice, settings):
    settings.LLM_BACKGROUND_DAILY_TOKENS = 1000
    spent(alice, 1000)

    conversation = chat(alice, numbered(10))
    drain_queue()

    (batch,) = batches(conversation)
    assert batch.status == "queued" and "allowance" in batch.error
    assert batch.model_failures == []  # nothing recorded as the model's failure
    assert scripted_llm.calls == []
    page = signed_in(alice).get(f"/conversations/{conversation.pk}/mistakes/")
    assert "Batch 1 is waiting: Today&#x27;s allowance" in page.content.decode()


# -- retries -------------------------------------------------------------------------------


def signed_in(user, **options) -> Client:
    client = Client(**options)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def failed_conversation(alice, settings, broken_analysis):
    settings.ANALYSIS_MAX_ATTEMPTS = 1
    conversation = chat(alice, numbered(10))
    drain_queue()
    assert [b.status for b in batches(conversation)] == ["failed"]
    return conversation


@pytest.fixture
def fixed(scripted_llm, settings):
    """The fault is gone: the next run of the batch succeeds."""

    def fix():
        settings.ANALYSIS_DETECTORS = ["model"]
        queue_batch(scripted_llm, numbered(10))

    return fix


def test_a_failed_batch_is_retried_by_itself_later(
    scripted_llm, alice, settings, broken_analysis, fixed
):
    conversation = failed_conversation(alice, settings, broken_analysis)
    (batch,) = batches(conversation)
    kind = jobs.kind_of(AnalysisBatch)
    fixed()

    assert jobs.sweep_kind(kind, now=batch.finished_at + timedelta(seconds=60)) == {}
    wait = settings.JOB_AUTO_RETRY_BASE_SECONDS
    assert jobs.sweep_kind(kind, now=batch.finished_at + timedelta(seconds=wait)) == {"retried": 1}
    drain_queue()

    batch.refresh_from_db()
    assert (batch.status, batch.error) == ("done", "")


def test_the_learner_retries_a_failed_analysis_from_its_page(
    scripted_llm, alice, bob, settings, broken_analysis, fixed
):
    conversation = failed_conversation(alice, settings, broken_analysis)
    page_url = f"/conversations/{conversation.pk}/mistakes/"
    retry_url = f"{page_url}retry/"
    client = signed_in(alice, enforce_csrf_checks=True)

    page = client.get(page_url).content.decode()
    assert "could not be analysed" in page and f'action="{retry_url}"' in page
    assert client.post(retry_url).status_code == 403  # no CSRF token
    assert signed_in(bob).post(retry_url).status_code == 404  # not his
    assert client.get(retry_url).status_code == 405
    assert batches(conversation)[0].status == "failed"

    fixed()
    token = client.cookies["csrftoken"].value
    response = client.post(retry_url, {"csrfmiddlewaretoken": token}, follow=True)
    assert "Analysing those messages again" in response.content.decode()
    drain_queue()

    assert [b.status for b in batches(conversation)] == ["done"]
    page = client.get(page_url).content.decode()
    assert "could not be analysed" not in page and retry_url not in page


def test_the_learner_retries_a_failed_analysis_through_the_api(
    scripted_llm, alice, api, bob_api, settings, broken_analysis, fixed
):
    conversation = failed_conversation(alice, settings, broken_analysis)
    url = f"/api/v1/conversations/{conversation.pk}/analysis/retry/"

    assert bob_api.post(url).status_code == 404
    fixed()
    response = api.post(url)
    again = api.post(url)
    drain_queue()

    assert (response.status_code, response.json()) == (202, {"queued": 1})
    assert again.json() == {"queued": 0}  # already queued
    analysis = api.get(f"/api/v1/conversations/{conversation.pk}/analysis/").json()
    assert [b["status"] for b in analysis["batches"]] == ["done"]


def test_an_integration_retries_a_failed_analysis_of_its_conversation(
    scripted_llm, alice, tutoring, settings, broken_analysis
):
    from rest_framework.test import APIClient

    settings.ANALYSIS_MAX_ATTEMPTS = 1
    texts = numbered(3)
    post_conversation(tutoring, "c1", texts)
    drain_queue()
    assert AnalysisBatch.objects.get().status == "failed"
    other = Integration.objects.create(name="Another app")
    _, other_key = Key.objects.create_key(name="other", integration=other)
    _, key = Key.objects.create_key(name="again", integration=tutoring)
    url = "/api/v1/analysis/conversations/c1/retry/"

    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Api-Key {other_key}")
    assert stranger.post(url).status_code == 404  # not its conversation
    settings.ANALYSIS_DETECTORS = ["model"]
    queue_batch(scripted_llm, texts)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    response = client.post(url)
    drain_queue()

    assert response.status_code == 200
    assert [b["status"] for b in response.json()["analysis"]["batches"]] == ["queued"]
    assert AnalysisBatch.objects.get().status == "done"
