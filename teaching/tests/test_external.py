"""Lessons follow every source: a conversation posted through the ingestion API gets its
lessons once its mistakes are clustered, and "all my conversations" teaches from every
source."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from analysis import hooks
from analysis.models import ExternalConversation, Integration, IntegrationLearner
from analysis.models import IntegrationAPIKey as Key
from analysis.tests.conftest import analysis_reply, numbered, pipeline_settings, went  # noqa: F401
from core import jobs
from ops.testing import drain_queue
from teaching import services
from teaching.models import Module, ModuleStatus, Scope, TeachingRun
from teaching.tests.analysed import analysed_conversation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("pipeline_settings")]

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def tutoring_app(alice) -> APIClient:
    integration = Integration.objects.create(name="Tutoring app")
    IntegrationLearner.objects.create(integration=integration, external_id="L-1", user=alice)
    _, key = Key.objects.create_key(name="key", integration=integration)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def post_conversation(client: APIClient, texts: list[str]) -> None:
    url = "/api/v1/analysis/conversations/call-1/"
    for n, text in enumerate(texts, start=1):
        body = {
            "message_id": f"m{n}",
            "speaker": "Ana",
            "role": "learner",
            "text": text,
            "sent_at": (T0 + timedelta(minutes=n)).isoformat(),
            "learner": "L-1",
        }
        assert client.post(f"{url}messages/", body, format="json").status_code == 201
    assert client.post(f"{url}end/").status_code == 200


def test_an_external_conversation_gets_built_lessons_once_clustered(alice, scripted_llm):
    followers = hooks.external_conversation_clustered.subscribers
    assert services.run_for_external_conversation in followers
    texts = numbered(3)
    scripted_llm.queue(analysis_reply(went(texts)))  # the analysis of the one batch
    scripted_llm.set_default(text="not json at all")  # then a model that cannot write lessons

    post_conversation(tutoring_app(alice), texts)
    drain_queue()  # analysis, clustering, then the teaching run the clustering started

    run = TeachingRun.objects.get(learner=alice)
    assert (run.scope, run.status) == (Scope.LEARNER, jobs.JobStatus.DONE)
    module = Module.objects.get(learner=alice)
    assert (module.status, module.source) == (ModuleStatus.VALIDATED, "built")
    assert module.content["learner_sentence"] in texts
    assert module.content["correction"] in went(texts)
    assert ExternalConversation.objects.get().error_clusters.exists()


def test_all_my_conversations_teaches_from_every_source(alice, scripted_llm):
    texts = numbered(3)
    scripted_llm.queue(analysis_reply(went(texts)))
    scripted_llm.set_default(text="not json at all")
    post_conversation(tutoring_app(alice), texts)
    drain_queue()
    analysed_conversation(alice, counts={"preposition": 3}, title="Ours")

    run, created = services.run_for_learner(learner=alice)
    drain_queue()

    run.refresh_from_db()
    assert created and run.status == jobs.JobStatus.DONE
    # Its groups come from both sources, and each gets a built lesson.
    examples = [e["sentence"] for g in run.groups for e in g["examples"]]
    assert set(examples) & set(texts) and "I arrived to the market late." in examples
    modules = Module.objects.filter(learner=alice, status=ModuleStatus.VALIDATED)
    sentences = {m.content["learner_sentence"] for m in modules}
    assert sentences & set(texts) and "I arrived to the market late." in sentences
