"""Staff see batches with their failures and re-run them; integrations get keys."""

import pytest
from django.test import Client

from analysis.models import AnalysisBatch, Integration, IntegrationAPIKey
from analysis.tests.conftest import INVALID_REPLY, chat, drain_queue, numbered, queue_batch
from conftest import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("pipeline_settings")]


def staff(carol) -> Client:
    client = Client()
    assert client.login(username=carol.username, password=PASSWORD)
    return client


def test_staff_see_a_failed_batch_and_run_it_again(
    scripted_llm, alice, carol, settings, broken_analysis
):
    settings.ANALYSIS_MAX_ATTEMPTS = 1
    texts = numbered(10)
    chat(alice, texts)
    drain_queue()
    batch = AnalysisBatch.objects.get()
    client = staff(carol)

    listing = client.get("/admin/analysis/analysisbatch/?status__exact=failed").content.decode()
    settings.ANALYSIS_DETECTORS = ["model"]
    queue_batch(scripted_llm, texts)
    client.post(
        "/admin/analysis/analysisbatch/",
        {"action": "rerun", "_selected_action": [batch.pk]},
    )
    drain_queue()

    assert f"Batch 1 of {batch.conversation_id} (failed)" in listing
    batch.refresh_from_db()
    assert batch.status == "done"


def test_staff_create_an_integration_key_and_see_it_once(carol):
    integration = Integration.objects.create(name="Exchange")
    client = staff(carol)

    response = client.post(
        "/admin/analysis/integrationapikey/add/",
        {"name": "prod", "integration": integration.pk},
        follow=True,
    )

    key = IntegrationAPIKey.objects.get()
    assert key.integration == integration
    assert "store it somewhere safe" in response.content.decode()
    for page in ("analysis/utteranceanalysis", "analysis/errorcluster", "analysis/integration"):
        assert client.get(f"/admin/{page}/").status_code == 200


def test_staff_see_what_the_model_got_wrong_in_a_batch_that_finished(
    scripted_llm, alice, carol, settings
):
    scripted_llm.set_default(text=INVALID_REPLY)
    chat(alice, numbered(10))
    drain_queue()
    batch = AnalysisBatch.objects.get()
    assert batch.status == "done" and batch.model_failures

    page = staff(carol).get(f"/admin/analysis/analysisbatch/{batch.pk}/change/").content.decode()

    assert "Model failures" in page and "invalid reply" in page
