"""Whole runs on the real queue: orchestration, idempotent re-runs, a killed worker,
failures recorded with their reason, and the live events on the learner's socket."""

import json
import threading
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from analysis.models import UtteranceAnalysis
from conversations.models import Conversation
from core import jobs
from ops.socket_testing import open_events_socket
from ops.testing import drain_queue, make_worker, wait_for, worker_process
from teaching import services
from teaching.models import Module, ModuleStatus, Stage, TeachingRun, ValidationReport
from teaching.services import runs
from teaching.tests.conftest import group, module_for
from teaching.tests.factories import judge

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def model_writes(request, settings):
    """The orchestration is tested on the model's path (judged, some rejected); a run
    with the builder on has its own tests, named "built"."""
    settings.TEACHING_BUILD_LESSONS = "built" in request.node.name


def started(alice, *, stage=Stage.FOCUS) -> TeachingRun:
    """A conversation's run, with its filter stage's output already stored."""
    conversation = Conversation.objects.create(owner=alice, title="Weekend")
    run = services.teaching_run_start(learner=alice, conversation=conversation)
    TeachingRun.objects.filter(pk=run.pk).update(stage=stage, groups=[group(1), group(2)])
    return run


def script_two_modules(scripted_llm, *, second_score=2):
    scripted_llm.queue({"focuses": [{"group": 1, "reason": "a"}, {"group": 2, "reason": "b"}]})
    scripted_llm.queue(module_for(1))
    scripted_llm.queue(module_for(2))
    scripted_llm.queue(judge(4))
    scripted_llm.queue(judge(second_score, verdict="validated" if second_score > 2 else "rejected"))


def test_a_run_goes_through_every_stage_to_done(alice, scripted_llm):
    run = started(alice)
    script_two_modules(scripted_llm)
    drain_queue()
    run.refresh_from_db()
    assert (run.status, run.stage) == (jobs.JobStatus.DONE, Stage.DONE)
    statuses = list(Module.objects.order_by("focus__position").values_list("status", flat=True))
    assert statuses == [ModuleStatus.VALIDATED, ModuleStatus.REJECTED]


def test_a_rerun_is_idempotent_per_focus(alice, scripted_llm):
    run = started(alice)
    script_two_modules(scripted_llm)
    drain_queue()
    calls = len(scripted_llm.calls)
    again = services.run_for_conversation(run.conversation_id)
    assert again.pk == run.pk
    drain_queue()
    run.refresh_from_db()
    assert run.status == jobs.JobStatus.DONE
    assert Module.objects.count() == 2 and len(scripted_llm.calls) == calls


def test_starting_a_running_run_again_changes_nothing(alice, scripted_llm):
    run = started(alice)
    assert services.run_for_conversation(run.conversation_id).pk == run.pk
    assert TeachingRun.objects.count() == 1


def test_a_killed_worker_mid_run_is_swept_and_the_run_resumes(alice, scripted_llm, settings):
    run = started(alice)
    scripted_llm.queue({"focuses": [{"group": 1, "reason": "a"}, {"group": 2, "reason": "b"}]})
    scripted_llm.queue(module_for(1))
    # A worker claims the run, writes the first module, then dies (no heartbeat, no finish).
    from teaching.pipeline.focus import select_focuses
    from teaching.pipeline.generate import module_generate

    claimed = jobs.claim(jobs.kind_of(TeachingRun), run.pk)
    select_focuses(run.pk)
    module_generate(focus=claimed.focuses.order_by("position").first(), run=claimed)
    TeachingRun.objects.filter(pk=run.pk).update(stage=Stage.GENERATE)
    later = timezone.now() + timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    assert jobs.jobs_sweep(now=later)["requeued"] == 1
    scripted_llm.queue(module_for(2))
    scripted_llm.queue(judge(4))
    scripted_llm.queue(judge(4))
    drain_queue()
    run.refresh_from_db()
    assert (run.status, run.attempts) == (jobs.JobStatus.DONE, 2)
    assert Module.objects.filter(status=ModuleStatus.VALIDATED).count() == 2
    generation_calls = [c for c in scripted_llm.calls if c.profile == "module_generation"]
    assert len(generation_calls) == 2  # the first module was not written twice


@pytest.mark.timeout(120)
def test_a_worker_process_killed_mid_run_leads_to_one_finished_run(alice, scripted_llm, tmp_path):
    """The real thing: a `db_worker` process is killed with SIGKILL while it writes the
    first module; the sweeper hands the run back, and the next worker resumes it at its
    stage: the focuses are not chosen again and every module is written once."""
    focuses = {"focuses": [{"group": 1, "reason": "a"}, {"group": 2, "reason": "b"}]}
    slow_module = {"text": json.dumps(module_for(1)), "chunk_size": 5, "delay": 0.05}
    script = {"replies": [{"text": json.dumps(focuses)}, slow_module]}
    with transaction.atomic():  # its task is queued once the stored groups are committed
        run = started(alice)
    with worker_process(script, tmp_path):
        wait_for(
            lambda: TeachingRun.objects.filter(pk=run.pk, stage=Stage.GENERATE).exists(),
            timeout=90,
            what="the worker to start writing modules",
        )
    run.refresh_from_db()
    assert (run.status, run.stage) == (jobs.JobStatus.RUNNING, Stage.GENERATE)  # stuck
    assert run.focuses.count() == 2 and not Module.objects.exists()

    scripted_llm.queue(module_for(1))
    scripted_llm.queue(module_for(2))
    scripted_llm.queue(judge(4))
    scripted_llm.queue(judge(4))
    later = timezone.now() + timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    assert jobs.jobs_sweep(now=later)["requeued"] == 1
    drain_queue()

    run.refresh_from_db()
    assert (run.status, run.attempts) == (jobs.JobStatus.DONE, 2)
    assert Module.objects.filter(status=ModuleStatus.VALIDATED).count() == 2
    assert [c.profile for c in scripted_llm.calls].count("focus_selection") == 0


def test_a_model_outage_is_retried_then_failed_with_a_reason(alice, scripted_llm, settings):
    settings.JOB_RETRY_BASE_SECONDS = 0
    run = started(alice)
    for _ in range(40):
        scripted_llm.queue("", fail_after_chars=0, error="unavailable")
    drain_queue()
    run.refresh_from_db()
    assert run.status == jobs.JobStatus.FAILED and run.attempts == settings.TEACHING_MAX_ATTEMPTS
    assert run.stage == Stage.FOCUS and "unreachable" in run.error  # where, and why


def test_a_private_conversation_loses_its_raw_chat_when_the_run_ends(alice, scripted_llm):
    run = started(alice)
    conversation = run.conversation
    said = conversation.messages.create(seq=1, role="user", content="Yesterday I go to the market.")
    conversation.messages.create(seq=2, role="assistant", content="Nice!")
    # The model-free check's analysis, which no batch replaced (the batch failed, say).
    UtteranceAnalysis.objects.create(
        learner=alice, message=said, message_seq=1, text=said.content, has_errors=True
    )
    Conversation.objects.filter(pk=conversation.pk).update(keep_raw_messages=False)
    script_two_modules(scripted_llm)
    drain_queue()
    assert conversation.messages.count() == 0
    assert not UtteranceAnalysis.objects.filter(text=said.content).exists()
    assert Module.objects.count() == 2  # derived results stay
    assert run.learner.purge_logs.get().messages_removed == 2
    run.refresh_from_db()
    assert run.groups == []  # no copies of the raw chat beyond what a module quotes
    first = run.focuses.get(position=0)
    assert first.examples == [group(1)["examples"][0]]


# -- Live events -----------------------------------------------------------------------


async def collect(socket, until, timeout=10.0) -> list[dict]:
    seen = []
    while True:
        event = await socket.receive_json_from(timeout=timeout)
        seen.append(event)
        if until(event):
            return seen


async def test_modules_are_announced_live_and_only_when_validated(alice, bob, scripted_llm):
    run = await database_sync_to_async(started)(alice)
    script_two_modules(scripted_llm)
    socket, bobs = await open_events_socket(alice), await open_events_socket(bob)
    await database_sync_to_async(drain_queue)()
    seen = await collect(
        socket, lambda e: e["type"] == "teaching.run_updated" and e["run"]["status"] == "done"
    )
    ready = [e for e in seen if e["type"] == "teaching.module_ready"]
    assert len(ready) == 1 and ready[0]["module"]["title"] == module_for(1)["title"]
    assert ready[0]["progress"]["ready"] == 1 and ready[0]["progress"]["total"] == 2
    stages = [e["run"]["stage"] for e in seen if e["type"] == "teaching.run_updated"]
    assert {"focus", "generate", "validate", "done"} <= set(stages)
    assert seen[-1]["run"]["id"] == run.pk
    assert "did not pass" in seen[-1]["run"]["progress"]["text"]
    assert await bobs.receive_nothing(timeout=0.2)
    await socket.disconnect()
    await bobs.disconnect()


def test_queries_per_run_do_not_grow_with_the_conversation(alice, scripted_llm):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from teaching.pipeline import advance
    from teaching.tests.analysed import analysed_conversation

    counts = []
    for n, size in enumerate((5, 25)):
        conversation = analysed_conversation(alice, counts={"verb_tense": size}, title=f"c{n}")
        scripted_llm.queue({"focuses": [{"group": 1, "reason": "a"}]})
        scripted_llm.queue({**module_for(1, title=f"Lesson {n}")})
        scripted_llm.queue(judge(4))
        run = services.run_for_conversation(conversation.pk)
        with CaptureQueriesContext(connection) as queries:
            jobs.run(TeachingRun, run.pk, work=advance)
        counts.append(len(queries))
        assert Module.objects.get(run=run).status == ModuleStatus.VALIDATED
    assert counts[0] == counts[1]


def test_a_learner_wide_run_on_demand_teaches_from_every_conversation(alice, bob, scripted_llm):
    from rest_framework.test import APIClient

    from teaching.tests.analysed import analysed_conversation

    analysed_conversation(alice, counts={"verb_tense": 2}, title="One")
    analysed_conversation(alice, counts={"preposition": 3}, title="Two")
    analysed_conversation(bob, counts={"determiner": 5}, title="Bob's")
    client = APIClient()
    client.force_authenticate(alice)
    response = client.post("/api/v1/teaching/runs/")
    assert response.status_code == 202 and response.json()["scope"] == "learner"
    scripted_llm.queue({"focuses": []})  # the model picks nothing: the top groups are taught
    drain_queue()
    run = TeachingRun.objects.get(pk=response.json()["id"])
    assert run.status == jobs.JobStatus.DONE and run.conversation is None
    assert sorted(g["error_type"] for g in run.groups) == ["preposition", "verb_tense"]
    assert client.get(f"/api/v1/teaching/runs/{run.pk}/").json()["status"] == "done"


def _spent(user, *, allowance: str) -> None:
    from llm.models import LLMCall

    LLMCall.objects.create(
        user=user,
        task="chat" if allowance == "chat" else "module_generation",
        kind="stream",
        provider="scripted",
        model="m",
        prompt_tokens=5,
        completion_tokens=5,
        allowance=allowance,
    )


def test_a_spent_chat_allowance_does_not_stop_the_lessons(alice, scripted_llm, settings):
    settings.LLM_DAILY_TOKEN_QUOTA = 1
    _spent(alice, allowance="chat")
    run = started(alice)
    script_two_modules(scripted_llm)
    drain_queue()
    run.refresh_from_db()
    assert (run.status, run.stage) == (jobs.JobStatus.DONE, Stage.DONE)


def test_a_spent_background_allowance_defers_the_run_to_midnight(alice, scripted_llm, settings):
    from llm.selectors import day_start

    settings.LLM_BACKGROUND_DAILY_TOKENS = 1
    _spent(alice, allowance="background")
    run = started(alice)
    drain_queue()
    run.refresh_from_db()
    # Waiting, not failed: it resumes at its stage when the allowance renews.
    assert (run.status, run.stage) == (jobs.JobStatus.QUEUED, Stage.FOCUS)
    assert "allowance" in run.error.lower()
    assert scripted_llm.calls == []
    (task,) = DBTaskResult.objects.filter(args_kwargs__args=[run.pk], status="READY")
    assert task.run_after == day_start() + timedelta(days=1)
    from teaching import selectors

    assert "allowance" in selectors.run_progress(run)["text"]  # what the page says


def test_a_finished_clustering_run_starts_the_conversations_teaching_run(alice):
    from django.db import transaction

    from analysis import hooks
    from analysis.models import ClusteringRun
    from analysis.services.clustering import clustering_changed

    assert services.run_for_conversation in hooks.conversation_clustered.subscribers
    conversation = Conversation.objects.create(owner=alice, title="Weekend")
    clustering = ClusteringRun.objects.create(
        conversation=conversation, learner=alice, batches_done=1, status=jobs.JobStatus.DONE
    )

    with transaction.atomic():
        clustering_changed(clustering)
        assert not TeachingRun.objects.exists()  # only once the clustering is committed

    assert TeachingRun.objects.get().conversation == conversation


def test_a_run_with_no_capable_model_ends_with_built_validated_lessons(alice, scripted_llm):
    from teaching.tests.analysed import analysed_conversation

    conversation = analysed_conversation(
        alice, counts={"verb_tense": 3, "subject_verb_agreement": 3, "preposition": 3}
    )
    scripted_llm.set_default(text="not json at all")  # a model that cannot write
    services.run_for_conversation(conversation.pk)
    drain_queue()
    modules = Module.objects.filter(conversation=conversation)
    assert modules.count() == 3
    assert set(modules.values_list("status", flat=True)) == {ModuleStatus.VALIDATED}
    assert {m.source for m in modules} == {"built"}
    run = TeachingRun.objects.get(conversation=conversation)
    assert run.status == jobs.JobStatus.DONE


def test_cancel_then_restart_of_a_running_run_leaves_the_first_attempt_nothing_to_write(
    alice, scripted_llm, settings
):
    """A run cancelled while its model writes a lesson, then started again at once: the
    first attempt, still waiting on the model, must store nothing when it comes back."""
    settings.JOB_HEARTBEAT_SECONDS = 60  # no heartbeat tells the first attempt in time
    run = started(alice)
    scripted_llm.queue({"focuses": [{"group": 1, "reason": "a"}, {"group": 2, "reason": "b"}]})
    held = scripted_llm.queue(json.dumps(module_for(1)), hold_after_chars=0)
    for reply in (module_for(1), module_for(2), judge(4)):
        scripted_llm.queue(reply)
    # The restarted attempt's last call waits until the first attempt has come back.
    last = scripted_llm.queue(json.dumps(judge(4)), hold_after_chars=0)
    live = make_worker(batch=False, worker_id="race")
    thread = threading.Thread(target=live.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: scripted_llm.pending == 4, timeout=60, what="the held lesson")
        first_task = DBTaskResult.objects.get(status="RUNNING").pk
        first = TeachingRun.objects.get(pk=run.pk)
        assert jobs.cancel(first)
        assert runs.run_restart(run=first)
        wait_for(lambda: scripted_llm.pending == 0, timeout=60, what="the restarted run")
        held.release()
        wait_for(
            lambda: DBTaskResult.objects.get(pk=first_task).status != "RUNNING",
            timeout=30,
            what="the first attempt to end",
        )
        calls = len(scripted_llm.calls)
        last.release()
        wait_for(
            lambda: TeachingRun.objects.get(pk=run.pk).status == jobs.JobStatus.DONE,
            timeout=60,
            what="the restarted run to finish",
        )
    finally:
        live.running = False
        thread.join(timeout=20)

    run.refresh_from_db()
    assert (run.status, run.stage) == (jobs.JobStatus.DONE, Stage.DONE)
    statuses = set(Module.objects.values_list("status", flat=True))
    assert statuses == {ModuleStatus.VALIDATED} and Module.objects.count() == 2
    assert ValidationReport.objects.count() == 2
    assert len(scripted_llm.calls) == calls  # the first attempt asked the model no more


def test_starting_a_learner_run_while_one_is_queued_returns_that_run(alice, api):
    first = api.post("/api/v1/teaching/runs/")
    again = api.post("/api/v1/teaching/runs/", {}, format="json")
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    assert TeachingRun.objects.filter(learner=alice).count() == 1
    # Once it is finished, a new request starts a new run.
    TeachingRun.objects.filter(pk=first.json()["id"]).update(status=jobs.JobStatus.DONE)
    assert api.post("/api/v1/teaching/runs/").status_code == 202


@pytest.mark.parametrize(
    "body",
    [{"scope": "conversation"}, {"scope": 3}, {"unknown": 1}, [], "learner"],
)
def test_starting_a_run_refuses_unknown_fields_and_wrong_types(alice, api, body):
    response = api.post("/api/v1/teaching/runs/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]
    assert not TeachingRun.objects.exists()
