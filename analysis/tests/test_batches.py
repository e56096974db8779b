"""Batches: every ANALYSIS_BATCH_SIZE learner messages, in order, each analysed once; the
end of a conversation analyses the rest and clusters; failures are retried, then shown."""

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from analysis import services
from analysis.models import (
    AnalysisBatch,
    BatchItem,
    ClusteringRun,
    DetectedError,
    ErrorCluster,
    UtteranceAnalysis,
)
from analysis.sources import OwnConversation
from analysis.tests.conftest import (
    INVALID_REPLY,
    analysis_reply,
    batches,
    chat,
    drain_queue,
    numbered,
    queue_batch,
    trusted_model_table,
    wait_for,
    went,
)
from conversations import services as conversation_services
from conversations.models import Message
from core import jobs
from ops.testing import make_worker, worker_process
from teaching.models import Module, TeachingRun
from teaching.pipeline import advance

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("pipeline_settings")]


def covered(batch: AnalysisBatch) -> list[str]:
    return [item.message.content for item in batch.items.select_related("message")]


@pytest.mark.parametrize(
    ("count", "sizes"),
    [(9, []), (10, [10]), (11, [10]), (25, [10, 10])],
)
def test_every_ten_learner_messages_make_a_batch(scripted_llm, alice, count, sizes):
    texts = numbered(count)
    for start in range(0, count - count % 10, 10):
        queue_batch(scripted_llm, texts[start : start + 10])

    conversation = chat(alice, texts)
    drain_queue()

    made = batches(conversation)
    assert [b.items.count() for b in made] == sizes
    assert [b.sequence for b in made] == list(range(1, len(sizes) + 1))
    assert all(b.status == "done" for b in made)
    assert [t for b in made for t in covered(b)] == texts[: sum(sizes)]
    assert UtteranceAnalysis.objects.filter(batch__isnull=False).count() == sum(sizes)
    # Every message has its analysis at once: the model-free pass's, until its batch's.
    assert UtteranceAnalysis.objects.count() == count


def test_the_end_analyses_the_leftovers_then_clusters(scripted_llm, alice):
    texts = numbered(13)
    queue_batch(scripted_llm, texts[:10])
    queue_batch(scripted_llm, texts[10:])
    conversation = chat(alice, texts)
    drain_queue()
    assert not ClusteringRun.objects.exists()  # not before the end

    conversation_services.conversation_end(conversation=conversation)
    drain_queue()

    assert [b.items.count() for b in batches(conversation)] == [10, 3]
    assert UtteranceAnalysis.objects.filter(has_errors=True).count() == 13
    # One run at the end over what the checks marked, one once the last batch is in.
    at_end, run = ClusteringRun.objects.order_by("pk")
    assert (at_end.status, at_end.batches_done) == ("done", 1)
    assert (run.status, run.batches_done, run.conversation) == ("done", 2, conversation)
    cluster = ErrorCluster.objects.get(scope="conversation", conversation=conversation)
    assert cluster.size == 13
    assert ErrorCluster.objects.filter(scope="learner", learner=alice).count() == 1


AGREEMENT = [
    "He go to school every day.",
    "She go to the park after school.",
    "My brother go to the gym every morning.",
]


@pytest.fixture
def checked_too(settings, tmp_path, scripted_llm):
    """The product's model-free detectors beside the scripted model, which the batch asks
    (and which agrees with them): the checks mark each message as it is sent."""
    settings.ANALYSIS_DETECTORS = ["harper", "spelling", "rules", "model"]
    settings.ANALYSIS_CALIBRATION_FILE = str(trusted_model_table(tmp_path, merge=True))
    scripted_llm.queue(analysis_reply([t.replace(" go ", " goes ") for t in AGREEMENT]))


def test_the_end_clusters_the_checked_messages_before_the_models_last_batch(checked_too, alice):
    conversation = chat(alice, AGREEMENT)
    drain_queue()  # the replies and the model-free checks: no batch yet

    conversation_services.conversation_end(conversation=conversation)
    at_end = ClusteringRun.objects.get()
    (batch,) = batches(conversation)
    assert (at_end.status, at_end.batches_done, batch.status) == ("queued", 0, "queued")
    jobs.run(ClusteringRun, at_end.pk, work=services.clustering_process)

    # The lessons can start now: the model has not looked at these messages yet.
    cluster = ErrorCluster.objects.get(scope="conversation", conversation=conversation)
    assert (cluster.run_id, cluster.size) == (at_end.pk, 3)
    assert AnalysisBatch.objects.get().status == "queued"

    drain_queue()
    after = ClusteringRun.objects.order_by("pk").last()
    assert (after.status, after.batches_done) == ("done", 1)
    cluster = ErrorCluster.objects.get(scope="conversation", conversation=conversation)
    assert (cluster.run_id, cluster.size) == (after.pk, 3)
    assert ClusteringRun.objects.count() == 2


def test_the_first_lesson_is_built_before_the_models_last_batch_lands(checked_too, alice):
    conversation = chat(alice, AGREEMENT)
    drain_queue()
    conversation_services.conversation_end(conversation=conversation)
    at_end = ClusteringRun.objects.get()
    jobs.run(ClusteringRun, at_end.pk, work=services.clustering_process)

    run = TeachingRun.objects.get(conversation=conversation)  # queued by the clustering
    jobs.run(TeachingRun, run.pk, work=advance)
    assert AnalysisBatch.objects.get().status == "queued"
    (lesson,) = Module.objects.filter(run=run)
    assert (lesson.status, lesson.source, lesson.error_type) == (
        "validated",
        "built",
        "subject_verb_agreement",
    )
    assert "He ___ to school every day." in json.dumps(lesson.content)

    # The model's pass lands, the conversation is clustered again and its run goes
    # through once more: the lesson stays, and is not made twice.
    drain_queue()
    run.refresh_from_db()
    assert run.status == "done"
    assert list(Module.objects.filter(run__conversation=conversation)) == [lesson]


def test_a_private_conversation_is_clustered_only_after_the_models_last_batch(checked_too, alice):
    conversation = chat(alice, AGREEMENT)
    conversation.keep_raw_messages = False
    conversation.save(update_fields=["keep_raw_messages"])
    drain_queue()

    conversation_services.conversation_end(conversation=conversation)
    # Its chat is purged once its lessons are made; the model's batch still needs it.
    assert not ClusteringRun.objects.exists()
    drain_queue()
    assert ClusteringRun.objects.get().batches_done == 1


def test_a_batch_landing_while_the_run_clusters_leaves_no_dangling_member(
    checked_too, alice, monkeypatch
):
    conversation = chat(alice, AGREEMENT)
    drain_queue()
    conversation_services.conversation_end(conversation=conversation)
    at_end, (batch,) = ClusteringRun.objects.get(), batches(conversation)
    clusters_of = services.clustering._clusters_of

    def batch_lands_meanwhile(errors, *, user):
        found = clusters_of(errors, user=user)
        jobs.run(AnalysisBatch, batch.pk, work=services.batch_process)
        return found

    monkeypatch.setattr(services.clustering, "_clusters_of", batch_lands_meanwhile)
    jobs.run(ClusteringRun, at_end.pk, work=services.clustering_process)

    # The checks' errors it read are gone with their analyses: nothing of them is kept,
    # and the run is not failed for it; the run after the batch clusters the new ones.
    at_end.refresh_from_db()
    assert at_end.status == "done"
    assert not ErrorCluster.objects.filter(run=at_end, scope="conversation").exists()
    monkeypatch.undo()
    drain_queue()
    cluster = ErrorCluster.objects.get(scope="conversation", conversation=conversation)
    assert cluster.size == 3 and cluster.run.batches_done == 1


def test_the_end_with_nothing_left_clusters_at_once(scripted_llm, alice):
    texts = numbered(10)
    queue_batch(scripted_llm, texts)
    conversation = chat(alice, texts)
    drain_queue()

    conversation_services.conversation_end(conversation=conversation)
    drain_queue()

    assert len(batches(conversation)) == 1
    assert ClusteringRun.objects.get().status == "done"
    conversation_services.conversation_end(conversation=conversation)  # again: nothing new
    drain_queue()
    assert ClusteringRun.objects.count() == 1


def test_only_learner_messages_are_analysed(scripted_llm, alice):
    texts = numbered(10)
    queue_batch(scripted_llm, texts)
    conversation = chat(alice, texts)
    drain_queue()

    analysed = Message.objects.filter(conversation=conversation, analysis__isnull=False)
    assert analysed.count() == 10
    assert set(analysed.values_list("role", flat=True)) == {"user"}


def test_each_utterance_goes_with_the_three_messages_before_it(scripted_llm, alice):
    texts = numbered(10)
    queue_batch(scripted_llm, texts)
    conversation = chat(alice, texts)
    batch = batches(conversation)[0]
    source = OwnConversation(conversation.pk)

    items = list(batch.items.select_related("message"))
    first, fifth = (source.context_for(items[n].message) for n in (0, 4))

    assert first == ()
    assert source.contexts_for([i.message for i in items]) == [
        source.context_for(i.message) for i in items
    ]
    assert [(line.role, line.text) for line in fifth] == [
        ("tutor", "Tell me more."),
        ("learner", texts[3]),
        ("tutor", "Tell me more."),
    ]
    drain_queue()
    prompt = scripted_llm.calls[-1].messages[-1]["content"]
    assert texts[9] in prompt


def test_errors_are_stored_with_spans_into_the_message(scripted_llm, alice):
    texts = numbered(10)
    queue_batch(scripted_llm, texts, explanation="Go is irregular: went.")
    conversation = chat(alice, texts)
    drain_queue()

    error = DetectedError.objects.select_related("utterance").first()
    text = error.utterance.text
    assert text[error.start : error.end] == error.original == "goed"
    assert (error.correction, error.explanation) == ("went", "Go is irregular: went.")
    assert error.utterance.message.conversation == conversation


def test_a_batch_waits_for_the_one_before_it(scripted_llm, alice):
    texts = numbered(20)
    conversation = chat(alice, texts)

    made = batches(conversation)
    assert [(b.sequence, b.status) for b in made] == [(1, "queued")]  # the second waits
    queue_batch(scripted_llm, texts[:10])
    queue_batch(scripted_llm, texts[10:])
    drain_queue()
    assert [(b.sequence, b.status) for b in batches(conversation)] == [(1, "done"), (2, "done")]
    first, second = batches(conversation)
    assert first.finished_at <= second.started_at


def test_concurrent_posts_and_schedules_cover_each_message_once(scripted_llm, alice, bob):
    conversation = chat(alice, numbered(9))
    source = OwnConversation(conversation.pk)
    conversation_services.message_post(conversation=conversation, author=alice, text="Ten.")
    Message.objects.filter(status="pending").update(status="complete", content="Ok.")
    barrier = threading.Barrier(6)

    def schedule() -> None:
        barrier.wait()
        try:
            services.batches_schedule(source=source)
        finally:
            connection.close()

    threads = [threading.Thread(target=schedule) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert AnalysisBatch.objects.count() == 1
    assert BatchItem.objects.count() == 10


def test_a_retried_task_does_not_analyse_a_batch_twice(scripted_llm, alice):
    texts = numbered(10)
    queue_batch(scripted_llm, texts)
    conversation = chat(alice, texts)
    batch = batches(conversation)[0]

    jobs.run(AnalysisBatch, batch.pk, work=services.batch_process)
    jobs.run(AnalysisBatch, batch.pk, work=services.batch_process)  # delivered again
    drain_queue()

    assert len(scripted_llm.calls) == 1
    assert UtteranceAnalysis.objects.count() == 10
    batch.refresh_from_db()
    assert (batch.status, batch.attempts) == ("done", 1)


def test_invalid_model_output_is_asked_again_then_the_model_free_edits_stand(
    scripted_llm, alice, settings
):
    settings.ANALYSIS_DETECTORS = ["rules", "model"]
    settings.ANALYSIS_CALIBRATION_FILE = str(
        trusted_model_table(Path(settings.ANALYSIS_CALIBRATION_FILE).parent, merge=True)
    )
    texts = ["He go to school every day.", *numbered(9)]
    scripted_llm.set_default(text=INVALID_REPLY)  # every answer of the model is invalid
    conversation = chat(alice, texts)
    drain_queue()

    batch = batches(conversation)[0]
    assert (batch.status, batch.error) == ("done", "")  # the learner is told nothing
    assert batch.model_failures and "again" in batch.model_failures[0]  # staff are
    # The batch's call, then each sentence alone with another instruction: never a copy.
    assert len(scripted_llm.calls) > 2
    temperatures = {call.temperature for call in scripted_llm.calls[1:]}
    assert temperatures and None not in temperatures
    (analysis,) = UtteranceAnalysis.objects.filter(batch=batch, message_seq=1)
    shown = [(e.original, e.correction) for e in analysis.errors.filter(shown=True)]
    assert shown == [("go", "goes")]  # the parse rules' edit stands without the model
    assert UtteranceAnalysis.objects.filter(batch=batch).count() == 10


def test_a_failed_batch_can_be_run_again(scripted_llm, alice, settings, broken_analysis):
    settings.ANALYSIS_MAX_ATTEMPTS = 1
    texts = numbered(10)
    conversation = chat(alice, texts)
    drain_queue()
    batch = batches(conversation)[0]
    assert batch.status == "failed"
    assert batch.error == jobs.GENERIC_FAILURE  # no traceback text reaches the learner

    settings.ANALYSIS_DETECTORS = ["model"]
    queue_batch(scripted_llm, texts)
    assert services.batch_rerun(batch=batch) is True
    drain_queue()

    batch.refresh_from_db()
    assert (batch.status, batch.error) == ("done", "")
    assert UtteranceAnalysis.objects.filter(batch=batch).count() == 10
    assert services.batch_rerun(batch=batch) is False  # done: nothing to re-run


def test_a_failed_batch_does_not_hold_up_the_next(scripted_llm, alice, settings, broken_analysis):
    settings.ANALYSIS_MAX_ATTEMPTS = 1
    conversation = chat(alice, numbered(20))
    drain_queue()

    assert [b.status for b in batches(conversation)] == ["failed", "failed"]


def test_the_idle_timeout_ends_a_quiet_conversation_and_completes_it(scripted_llm, alice, settings):
    texts = numbered(4)
    queue_batch(scripted_llm, texts)
    conversation = chat(alice, texts)
    busy = chat(alice, numbered(1))
    later = timezone.now() + timedelta(seconds=settings.ANALYSIS_IDLE_END_SECONDS + 1)
    busy.updated_at = later
    busy.save(update_fields=["updated_at"])

    assert services.conversations_end_idle() == {}
    assert services.conversations_end_idle(now=later) == {"conversations": 1}
    drain_queue()

    conversation.refresh_from_db()
    busy.refresh_from_db()
    assert conversation.ended_at is not None and busy.ended_at is None
    assert [b.items.count() for b in batches(conversation)] == [4]
    assert ClusteringRun.objects.get(conversation=conversation).status == "done"


def test_jobs_are_registered_with_the_shared_mechanism():
    batch_job = AnalysisBatch(status=jobs.JobStatus.DONE)
    assert batch_job.is_finished


@pytest.mark.timeout(90)
def test_a_worker_killed_mid_batch_leads_to_one_finished_batch(
    scripted_llm, alice, tmp_path, settings
):
    """The real thing: a `db_worker` subprocess is killed with SIGKILL while it analyses;
    the sweeper hands the batch back and it is analysed once, by the next worker."""
    texts = numbered(10)
    slow = {"text": analysis_reply(went(texts)), "chunk_size": 5, "delay": 0.05}
    conversation = chat(alice, texts)
    Message.objects.filter(role="assistant").update(status="complete")
    with worker_process(
        {"default": slow},
        tmp_path,
        ANALYSIS_UTTERANCES_PER_CALL="10",
        ANALYSIS_DETECTORS="model",
        ANALYSIS_CALIBRATION_FILE=settings.ANALYSIS_CALIBRATION_FILE,
    ):
        wait_for(
            lambda: AnalysisBatch.objects.filter(status="running").exists(),
            timeout=60,
            what="the worker to start the batch",
        )
    batch = batches(conversation)[0]
    assert batch.status == "running"  # stuck, as a killed worker leaves it

    queue_batch(scripted_llm, texts)
    later = timezone.now() + timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    swept = jobs.sweep_kind(jobs.kind_of(AnalysisBatch), now=later)
    drain_queue()

    assert swept["requeued"] == 1
    batch.refresh_from_db()
    assert (batch.status, batch.attempts) == ("done", 2)
    assert UtteranceAnalysis.objects.filter(batch=batch).count() == 10


def test_cancel_then_rerun_of_a_running_batch_stores_only_the_rerun(scripted_llm, alice, settings):
    """A batch cancelled while the model reads it and run again at once: the first
    attempt, back from the model while the rerun works, must store nothing."""
    settings.JOB_HEARTBEAT_SECONDS = 60  # no heartbeat tells the first attempt in time
    texts = numbered(10)
    first_reply = analysis_reply([t.replace("goed", "walked") for t in texts])
    held = scripted_llm.queue(first_reply, hold_after_chars=0)
    rerun = scripted_llm.queue(analysis_reply(went(texts)), hold_after_chars=0)
    conversation = chat(alice, texts)
    batch = batches(conversation)[0]
    live = make_worker(batch=False, worker_id="race")
    thread = threading.Thread(target=live.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: scripted_llm.pending == 1, timeout=60, what="the first attempt")
        task_path = jobs.kind_of(AnalysisBatch).task.module_path
        first_task = DBTaskResult.objects.get(status="RUNNING", task_path=task_path).pk
        first = AnalysisBatch.objects.get(pk=batch.pk)
        assert jobs.cancel(first)
        assert services.batch_rerun(batch=first)
        wait_for(lambda: scripted_llm.pending == 0, timeout=30, what="the rerun")
        held.release()
        wait_for(
            lambda: DBTaskResult.objects.get(pk=first_task).status != "RUNNING",
            timeout=30,
            what="the first attempt to end",
        )
        assert not UtteranceAnalysis.objects.filter(batch=batch).exists()
        rerun.release()
        wait_for(lambda: AnalysisBatch.objects.get(pk=batch.pk).status == "done", timeout=30)
    finally:
        live.running = False
        thread.join(timeout=20)

    assert UtteranceAnalysis.objects.filter(batch=batch).count() == 10
    corrections = set(
        DetectedError.objects.filter(utterance__batch=batch).values_list("correction", flat=True)
    )
    assert corrections == {"went"}  # the rerun's, none of the first attempt's "walked"
