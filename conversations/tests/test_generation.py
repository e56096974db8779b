"""Generating replies through the real queue: claim, stream into the row, finish or fail."""

import threading

import pytest
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from conversations import services
from conversations.models import Message
from conversations.services import generation
from conversations.services.liveness import replies
from conversations.tasks import generate_reply
from conversations.tests.conftest import drain_queue, first_reply, make_worker, wait_for
from core import jobs
from core.threads import StreamThreads
from llm.models import LLMCall

pytestmark = pytest.mark.django_db(transaction=True)


def start(alice, text="How do I use the present perfect?", **kwargs):
    conversation = services.conversation_create(owner=alice, text=text, **kwargs)
    return conversation, first_reply(conversation)


def test_queued_reply_is_generated_and_stored_whole(scripted_llm, alice):
    scripted_llm.queue("You use it for experiences: I have visited Rome.", chunk_size=5)
    _, reply = start(alice)

    drain_queue()

    reply.refresh_from_db()
    assert reply.status == "complete"
    assert reply.content == "You use it for experiences: I have visited Rome."
    assert reply.attempts == 1
    assert reply.model == "scripted-model"
    assert reply.prompt_tokens > 0 and reply.completion_tokens > 0
    assert reply.completed_at is not None
    assert DBTaskResult.objects.get(id=reply.task_id).status == "SUCCESSFUL"


def test_the_prompt_has_the_profile_system_prompt_and_the_learners_message(scripted_llm, alice):
    start(alice, text="¿Cómo se dice 'gato'?")

    drain_queue()

    (call,) = scripted_llm.calls
    assert call.profile == "chat"
    assert call.messages[0]["role"] == "system"
    assert "Spanish" in call.messages[0]["content"]  # alice's native language
    assert call.messages[-1] == {"role": "user", "content": "¿Cómo se dice 'gato'?"}


def test_task_type_picks_the_profile(scripted_llm, alice):
    start(alice, text="Why 'since' and not 'for'?", task_type="doubt_solver")

    drain_queue()

    assert [call.profile for call in scripted_llm.calls] == ["doubt_solver"]


def test_a_model_error_fails_the_reply_with_a_readable_reason(scripted_llm, alice):
    scripted_llm.queue("never", fail_after_chars=0, error="invalid")
    _, reply = start(alice)

    drain_queue()

    reply.refresh_from_db()
    assert reply.status == "failed"
    assert reply.error == "The tutor could not process this request."
    assert reply.completed_at is not None


def test_a_failure_mid_stream_keeps_the_reply_failed_not_streaming(scripted_llm, alice):
    scripted_llm.queue("Half a sentence and then", chunk_size=4, fail_after_chars=8)
    _, reply = start(alice)

    drain_queue()

    reply.refresh_from_db()
    assert reply.status == "failed"
    assert reply.error


@override_settings(REPLY_FLUSH_SECONDS=60)
def test_text_received_before_a_failure_is_stored_and_published(scripted_llm, alice, monkeypatch):
    # The first delta goes out at once; the next ones wait for a flush that, with this
    # interval, only the failure itself can bring.
    scripted_llm.queue("Half a sentence and then", chunk_size=4, fail_after_chars=12)
    _, reply = start(alice)
    sent = []
    monkeypatch.setattr(generation.events, "send", lambda _cid, *events: sent.extend(events))

    drain_queue()

    reply.refresh_from_db()
    assert reply.status == "failed"
    assert reply.content == "Half a sente"
    deltas = [(e["offset"], e["text"]) for e in sent if e["type"] == "reply.delta"]
    assert deltas == [(0, "Half"), (4, " a sente")]
    assert sent[-1]["type"] == "reply.failed"
    assert sent[-1]["message"]["content"] == "Half a sente"


def test_an_unexpected_error_fails_the_reply_with_a_generic_message(
    scripted_llm, alice, monkeypatch, caplog
):
    def broken(reply):
        raise RuntimeError("a bug in building the prompt")

    monkeypatch.setattr(generation.context, "prepare", broken)
    _, reply = start(alice)

    drain_queue()

    reply.refresh_from_db()
    assert reply.status == "failed"
    assert reply.error == generation.GENERIC_FAILURE
    assert "a bug in building the prompt" in caplog.text  # logged with its traceback


def test_failed_reply_retried_by_regenerate_completes(scripted_llm, alice):
    scripted_llm.queue("never", fail_after_chars=0, error="invalid")
    scripted_llm.queue("Second time lucky.")
    conversation, failed = start(alice)
    drain_queue()

    retry = services.reply_regenerate(conversation=conversation, author=alice)
    drain_queue()

    failed.refresh_from_db()
    retry.refresh_from_db()
    assert failed.status == "failed" and failed.superseded
    assert retry.status == "complete"
    assert retry.content == "Second time lucky."
    assert retry.seq == failed.seq + 1
    assert retry.replaces_seq == failed.seq
    assert retry.reply_to_id == failed.reply_to_id


def test_a_second_claim_of_the_same_reply_is_a_no_op(scripted_llm, alice):
    _, reply = start(alice)

    assert jobs.claim(replies(), reply.pk) is not None
    assert jobs.claim(replies(), reply.pk) is None

    reply.refresh_from_db()
    assert reply.status == "streaming" and reply.attempts == 1


def test_two_workers_never_generate_the_same_reply(scripted_llm, alice, bob):
    scripted_llm.set_default(text="One reply, written once.", chunk_size=3, delay=0.002)
    replies = []
    for owner in (alice, bob) * 4:
        _, reply = start(owner)
        replies.append(reply)
        # The same reply queued again, as a duplicate delivery would.
        generate_reply.enqueue(reply.pk)

    workers = [make_worker(batch=True, threads=4, worker_id=f"w{i}") for i in range(2)]
    threads = [threading.Thread(target=w.run) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    for reply in replies:
        reply.refresh_from_db()
        assert reply.status == "complete"
        assert reply.content == "One reply, written once."
        assert reply.attempts == 1
    assert len(scripted_llm.calls) == len(replies)
    assert LLMCall.objects.filter(task="chat").count() == len(replies)


def test_cancelling_a_streaming_reply_keeps_what_it_produced(scripted_llm, alice, worker, settings):
    settings.REPLY_HEARTBEAT_SECONDS = 0.05
    gate = scripted_llm.queue("Twelve chars and then a lot more", chunk_size=4, hold_after_chars=12)
    conversation, reply = start(alice)
    wait_for(lambda: Message.objects.get(pk=reply.pk).content == "Twelve chars", what="12 chars")

    cancelled = services.reply_cancel(conversation=conversation)

    assert cancelled.status == "cancelled"
    assert cancelled.content == "Twelve chars"
    # The worker notices while the model is still thinking, and stops it.
    wait_for(lambda: LLMCall.objects.filter(status="cancelled").exists(), what="model stopped")
    gate.release()
    wait_for(lambda: DBTaskResult.objects.filter(status="SUCCESSFUL").exists(), what="task end")
    reply.refresh_from_db()
    assert reply.status == "cancelled"
    assert reply.content == "Twelve chars"


def test_cancelling_a_pending_reply_means_it_is_never_generated(scripted_llm, alice):
    conversation, reply = start(alice)

    services.reply_cancel(conversation=conversation)
    drain_queue()

    reply.refresh_from_db()
    assert reply.status == "cancelled"
    assert reply.content == ""
    assert scripted_llm.calls == []


def test_deleting_the_conversation_stops_its_running_reply(scripted_llm, alice, worker, settings):
    settings.REPLY_HEARTBEAT_SECONDS = 0.05
    gate = scripted_llm.queue("Some words and then more words", chunk_size=4, hold_after_chars=8)
    conversation, reply = start(alice)
    wait_for(lambda: Message.objects.filter(pk=reply.pk, content__startswith="Some").exists())

    services.conversation_delete(conversation=conversation)

    wait_for(lambda: LLMCall.objects.filter(status="cancelled").exists(), what="model stopped")
    gate.release()
    assert not Message.objects.filter(pk=reply.pk).exists()


@override_settings(REPLY_FLUSH_SECONDS=0.05)
def test_deltas_are_coalesced_but_the_first_goes_out_at_once(scripted_llm, alice, monkeypatch):
    _, reply = start(alice)
    assert jobs.claim(replies(), reply.pk)
    reply.refresh_from_db()
    sent = []
    monkeypatch.setattr(generation.events, "send", lambda _cid, event: sent.append(event))
    writer = generation.ReplyWriter(reply)

    assert writer.add("Hel")
    assert writer.add("lo")
    assert writer.add(" there")
    assert writer.flush()

    assert [(e["offset"], e["text"]) for e in sent] == [(0, "Hel"), (3, "lo there")]
    reply.refresh_from_db()
    assert reply.content == "Hello there"


def test_offsets_count_like_javascript_strings(scripted_llm, alice, monkeypatch):
    _, reply = start(alice)
    assert jobs.claim(replies(), reply.pk)
    reply.refresh_from_db()
    sent = []
    monkeypatch.setattr(generation.events, "send", lambda _cid, event: sent.append(event))
    writer = generation.ReplyWriter(reply)

    writer.add("🙂 ok")  # one code point, two UTF-16 units
    writer.flush()
    writer.buffer.append("!")
    writer.flush()

    assert [e["offset"] for e in sent] == [0, 5]


def test_model_streams_never_wait_for_each_other_and_their_threads_are_reused(settings):
    # More replies at once than any fixed pool sized from the settings would run.
    streams = 2 * settings.WORKER_THREADS + 1
    threads = StreamThreads("test-model")
    everyone_running = threading.Barrier(streams, timeout=10)
    ran: list[str] = []

    def job() -> None:
        everyone_running.wait()  # breaks (and fails the test) if one job was held back
        ran.append(threading.current_thread().name)

    for _ in range(streams):
        threads.submit(job)
    wait_for(lambda: len(ran) == streams, what="every stream to run")
    wait_for(lambda: threads._idle.qsize() == streams, what="the threads to be idle")
    for _ in range(streams):
        threads.submit(lambda: ran.append(threading.current_thread().name))
    wait_for(lambda: len(ran) == 2 * streams, what="the second round")

    assert not everyone_running.broken
    assert len(set(ran)) == streams  # the second round ran on the same threads
