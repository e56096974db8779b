"""The conversation socket, end to end: Channels' communicator on the real ASGI app, the
real queue and worker, the scripted model. See docs/websocket-protocol.md."""

import itertools

import pytest
from channels.db import database_sync_to_async
from django.test import override_settings

from conversations import services
from conversations.models import Message
from conversations.tests.conftest import (
    await_final,
    first_reply,
    open_socket,
    receive_until,
    wait_for,
)
from ops.socket_testing import communicator

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def conversation_for(user, text="Hi! Can we practise?"):
    return services.conversation_create(owner=user, text=text)


@database_sync_to_async
def conversation_with_finished_turns(user, turns: int):
    conversation = services.conversation_create(owner=user, text="Turn 1")
    for number in range(turns):
        reply = conversation.messages.order_by("-seq").first()
        Message.objects.filter(pk=reply.pk).update(status="complete", content=f"Reply {number}")
        if number + 1 < turns:
            services.message_post(conversation=conversation, author=user, text=f"Turn {number + 2}")
    return conversation


async def first_reply_id(conversation) -> int:
    return (await database_sync_to_async(first_reply)(conversation)).pk


@database_sync_to_async
def stored(reply_id: int) -> Message:
    return Message.objects.get(pk=reply_id)


def is_final_for(seq: int):
    return lambda e: e["type"] in ("reply.completed", "reply.failed") and e["seq"] == seq


def assemble(events: list[dict], seq: int, start: str = "") -> str:
    """A client's view: append each delta after trimming what it already has."""
    text = start
    for event in events:
        if event["type"] == "reply.delta" and event["seq"] == seq:
            assert event["offset"] <= len(text), "a gap: the client would resume"
            text += event["text"][len(text) - event["offset"] :]
    return text


# --- The door -------------------------------------------------------------------------


async def test_anonymous_socket_is_closed_with_4401(alice):
    conversation = await conversation_for(alice)
    socket = communicator(f"/ws/conversations/{conversation.pk}/")
    connected, _ = await socket.connect()

    # Accepted, then closed: a browser receives the code only after the handshake.
    assert connected
    assert await socket.receive_output() == {"type": "websocket.close", "code": 4401}


async def test_another_learners_conversation_is_closed_with_4404_and_no_data(alice, bob):
    conversation = await conversation_for(alice)

    theirs = await open_socket(bob, conversation.pk)
    missing = await open_socket(bob, 999_999)

    assert theirs[1] and missing[1]
    for socket, _, _ in (theirs, missing):
        assert await socket.receive_output() == {"type": "websocket.close", "code": 4404}
        assert await socket.receive_nothing()


# --- Streaming ------------------------------------------------------------------------


async def test_deltas_arrive_in_order_and_the_stored_reply_equals_the_streamed_text(
    alice, scripted_llm, worker
):
    text = "Of course! Tell me about your weekend, in the past tense please."
    scripted_llm.queue("Welcome!")
    scripted_llm.queue(text, chunk_size=3, delay=0.004)
    conversation = await conversation_for(alice)
    await await_final(await first_reply_id(conversation))
    socket, connected, _ = await open_socket(alice, conversation.pk)
    assert connected

    await socket.send_json_to(
        {"type": "message.send", "text": "I go to the cinema", "client_id": "c1"}
    )
    events = await receive_until(socket, is_final_for(4))

    created = [e for e in events if e["type"] == "message.created"]
    assert [(e["seq"], e["message"]["role"]) for e in created] == [(3, "user"), (4, "assistant")]
    assert created[0]["message"]["client_id"] == "c1"
    deltas = [e for e in events if e["type"] == "reply.delta"]
    assert len(deltas) > 1
    offsets = [e["offset"] for e in deltas]
    assert offsets == sorted(offsets)
    assert all(b["offset"] == a["offset"] + len(a["text"]) for a, b in itertools.pairwise(deltas))
    assert "".join(e["text"] for e in deltas) == text
    completed = events[-1]
    assert completed["type"] == "reply.completed"
    assert completed["message"]["status"] == "complete"
    assert completed["message"]["content"] == text
    assert (await stored(completed["message"]["id"])).content == text
    await socket.disconnect()


async def test_resume_mid_reply_gives_the_partial_text_then_exactly_the_rest(
    alice, scripted_llm, worker
):
    text = "First part, and then the second part of the answer."
    gate = scripted_llm.queue(text, chunk_size=4, hold_after_chars=12)
    conversation = await conversation_for(alice)
    reply_id = await first_reply_id(conversation)
    await database_sync_to_async(wait_for)(
        lambda: Message.objects.get(pk=reply_id).content == text[:12], 10, "partial reply"
    )
    # A reload in the middle of the reply: a new socket that knows the first message.
    socket, _, _ = await open_socket(alice, conversation.pk)
    await socket.send_json_to({"type": "resume", "after_seq": 1})

    replayed = await receive_until(socket, lambda e: e["type"] == "resume.done")
    gate.release()
    live = await receive_until(socket, is_final_for(2))

    snapshot, done = replayed
    assert snapshot["type"] == "message.created" and snapshot["seq"] == 2
    assert snapshot["message"]["status"] == "streaming"
    assert snapshot["message"]["content"] == text[:12]
    assert done == {"type": "resume.done", "seq": 2, "more": False}
    deltas = [e for e in live if e["type"] == "reply.delta"]
    assert deltas[0]["offset"] == 12
    assert snapshot["message"]["content"] + "".join(e["text"] for e in deltas) == text
    assert assemble(live, 2, start=snapshot["message"]["content"]) == text
    assert live[-1]["message"]["content"] == text
    await socket.disconnect()


async def test_resume_after_n_replays_exactly_the_messages_after_n(alice):
    conversation = await conversation_with_finished_turns(alice, turns=3)  # seq 1..6
    socket, _, _ = await open_socket(alice, conversation.pk)

    await socket.send_json_to({"type": "resume", "after_seq": 2})
    events = await receive_until(socket, lambda e: e["type"] == "resume.done")

    assert [(e["type"], e["seq"]) for e in events] == [
        ("message.created", 3),
        ("message.created", 4),
        ("message.created", 5),
        ("message.created", 6),
        ("resume.done", 6),
    ]
    assert events[1]["message"]["content"] == "Reply 1"
    await socket.send_json_to({"type": "resume", "after_seq": 6})
    assert await socket.receive_json_from() == {"type": "resume.done", "seq": 6, "more": False}
    await socket.disconnect()


async def test_a_resent_message_with_the_same_client_id_is_stored_once(alice, scripted_llm, worker):
    conversation = await conversation_for(alice)
    await await_final(await first_reply_id(conversation))
    socket, _, _ = await open_socket(alice, conversation.pk)

    frame = {"type": "message.send", "text": "Same again", "client_id": "abc"}
    await socket.send_json_to(frame)
    await receive_until(socket, is_final_for(4))
    await socket.send_json_to(frame)
    await socket.send_json_to({"type": "ping"})
    after = await receive_until(socket, lambda e: e["type"] == "pong")

    assert after == [{"type": "pong"}]
    count = await database_sync_to_async(Message.objects.filter(content="Same again").count)()
    assert count == 1
    await socket.disconnect()


async def test_cancel_over_the_socket_keeps_the_partial_reply(alice, scripted_llm, worker):
    gate = scripted_llm.queue("Partial text and more to come", chunk_size=4, hold_after_chars=8)
    conversation = await conversation_for(alice)
    socket, _, _ = await open_socket(alice, conversation.pk)
    await socket.send_json_to({"type": "resume", "after_seq": 0})
    await receive_until(
        socket, lambda e: e["type"] == "reply.delta" and e["offset"] + len(e["text"]) == 8
    )

    await socket.send_json_to({"type": "reply.cancel", "seq": 2})
    events = await receive_until(socket, is_final_for(2))
    gate.release()

    final = events[-1]
    assert final["type"] == "reply.completed"
    assert final["message"]["status"] == "cancelled"
    assert final["message"]["content"] == "Partial "
    await socket.disconnect()


async def test_a_failed_reply_is_announced_and_a_retry_completes(alice, scripted_llm, worker):
    # Held until the socket listens, so the failure is announced rather than replayed.
    failing = scripted_llm.queue("never", hold_after_chars=0, fail_after_chars=1, error="invalid")
    scripted_llm.queue("Here you are.")
    conversation = await conversation_for(alice)
    socket, _, _ = await open_socket(alice, conversation.pk)
    await socket.send_json_to({"type": "resume", "after_seq": 0})
    await receive_until(socket, lambda e: e["type"] == "resume.done")
    failing.release()

    failed = (await receive_until(socket, is_final_for(2)))[-1]
    await database_sync_to_async(services.reply_regenerate)(conversation=conversation, author=alice)
    retried = await receive_until(socket, is_final_for(3))

    assert failed["type"] == "reply.failed"
    assert failed["error"] == "The tutor could not process this request."
    assert failed["message"]["status"] == "failed"
    assert failed["message"]["content"] == "n"  # what came before the failure is kept
    created = [e["message"] for e in retried if e["type"] == "message.created"]
    assert [(m["seq"], m["superseded"]) for m in created] == [(2, True), (3, False)]
    assert retried[-1]["type"] == "reply.completed"
    assert retried[-1]["message"]["content"] == "Here you are."
    assert retried[-1]["message"]["replaces_seq"] == 2
    await socket.disconnect()


# --- Refused frames ---------------------------------------------------------------------


async def test_malformed_frames_get_an_error_event_and_the_socket_stays_open(alice):
    conversation = await conversation_for(alice)
    socket, _, _ = await open_socket(alice, conversation.pk)

    await socket.send_to(text_data="{not json")
    await socket.send_to(text_data="[1, 2]")
    await socket.send_json_to({"type": "dance"})
    await socket.send_json_to({"type": "resume", "after_seq": "ten"})
    await socket.send_json_to({"type": "message.send"})
    await socket.send_json_to({"type": "message.send", "text": "hi", "task_type": "poetry"})
    await socket.send_json_to({"type": "reply.cancel", "seq": "2"})
    await socket.send_to(bytes_data=b"\x00")

    for _ in range(8):
        event = await socket.receive_json_from()
        assert event["type"] == "error" and event["error"]
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    await socket.disconnect()


@override_settings(MESSAGE_MAX_CHARS=10)
async def test_refused_posts_explain_why(alice):
    conversation = await conversation_for(alice, text="Short one")
    socket, _, _ = await open_socket(alice, conversation.pk)

    await socket.send_json_to({"type": "message.send", "text": "far too long for the limit"})
    too_long = await socket.receive_json_from()
    await socket.send_json_to({"type": "message.send", "text": "ok"})
    busy = await socket.receive_json_from()

    assert too_long == {
        "type": "error",
        "error": "Your message is too long: keep it under 10 characters.",
        "status": 413,
    }
    assert busy["status"] == 409 and busy["error"] == "The tutor is still answering"
    await socket.disconnect()


async def test_conversation_updates_reach_the_socket(alice):
    conversation = await conversation_for(alice)
    socket, _, _ = await open_socket(alice, conversation.pk)

    await database_sync_to_async(services.conversation_rename)(
        conversation=conversation, title="Weekend plans"
    )
    event = await socket.receive_json_from()

    assert event["type"] == "conversation.updated"
    assert event["conversation"] == {
        "id": conversation.pk,
        "title": "Weekend plans",
        "ended_at": None,
    }
    assert event["seq"] == 2
    await socket.disconnect()
