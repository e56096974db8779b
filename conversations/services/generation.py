"""Generating one reply: claim the row, stream the model into it, tell the sockets.

Runs in a worker thread, on the job mechanism's pieces (core.jobs: claim, heartbeat,
finish). Every write is conditional on the row still being ours (`jobs.mine`: status
'streaming' and our attempt number), so a cancel, a delete or a sweeper that gave our
attempt up stops us at the next write, and never lets two writers mix text.
Text is stored before it is published: a client that resumes from the database can
never miss a delta it did not receive.
"""

import logging
import queue
import time

from django.conf import settings
from django.db import connection
from django.utils import timezone

import llm
from conversations import context, events, tutoring
from conversations.models import Message, Status
from conversations.services.liveness import replies
from core import jobs
from core.db import release_connection
from core.threads import StreamThreads
from ops import logs

logger = logging.getLogger(__name__)

GENERIC_FAILURE = "Something went wrong while the tutor was answering. Please try again."


def reply_generate(*, reply_id: int, task_id: str = "") -> None:
    """Generate the pending reply `reply_id`; a reply already claimed, finished, cancelled
    or deleted is left alone. Failures end as a `failed` reply with a readable reason."""
    kind = replies()
    reply = jobs.claim(kind, reply_id, task_id=task_id)
    if reply is None:
        return
    logs.bind(conversation_id=reply.conversation_id, user_id=reply.conversation.owner_id)
    with jobs.beating(kind, reply) as beat:
        stream = prompt = None
        try:
            prompt = context.prepare(reply)
            plan = tutoring.compose(reply, prompt)
            reply.citations = plan.citations
            stream = plan.stream(
                lambda messages: llm.stream(
                    reply.task_type, messages, user=reply.conversation.owner
                )
            )
            beat.on_lost = stream.close
            _stream_into(reply, stream)
            # Bookkeeping that is not needed for this reply waits until it is written.
            context.record(prompt)
        except llm.errors.LLMError as exc:
            _finish(reply, status=Status.FAILED, error=exc.user_message, stream=stream)
        except Exception:
            logger.exception("Reply %s of conversation %s failed", reply.pk, reply.conversation_id)
            _finish(reply, status=Status.FAILED, error=GENERIC_FAILURE, stream=stream)


def _stream_into(reply: Message, stream) -> None:
    """Store and publish the model's text as it comes. The model is read by its own
    thread so that text buffered for coalescing goes out on time even while the model
    pauses between tokens."""
    writer = ReplyWriter(reply)
    deltas = _pump(stream)
    while True:
        try:
            item = deltas.get(timeout=writer.wait_time())
        except queue.Empty:
            item = None  # the buffered text is due
        if item is _END:
            break
        if isinstance(item, BaseException):
            # Text received before the failure is the learner's to read: store and
            # publish it before the reply is marked failed.
            writer.flush()
            raise item
        if not (writer.flush() if item is None else writer.add(item)):
            stream.close()  # cancelled, deleted or given up: keep what is stored
            return
    if writer.flush():
        _finish(reply, status=Status.COMPLETE, stream=stream)


_END = object()


def _pump(stream) -> queue.SimpleQueue:
    """Iterate `stream` in a thread of its own, handing deltas (then _END, or the
    exception that ended it) to the caller through a queue."""
    deltas: queue.SimpleQueue = queue.SimpleQueue()
    pooled = bool(connection.settings_dict.get("OPTIONS", {}).get("pool"))

    def run() -> None:
        try:
            for number, delta in enumerate(stream):
                deltas.put(delta)
                if number == 0 and pooled:
                    # The gateway touches the database only when it starts and ends;
                    # give the connection back to the pool while the model streams.
                    connection.close()
            deltas.put(_END)
        except BaseException as exc:
            deltas.put(exc)
        finally:
            release_connection()

    _pumps.submit(run)
    return deltas


_pumps = StreamThreads("model")


def _finish(reply: Message, *, status: str, stream=None, error: str = "") -> None:
    fields = _usage(stream) if stream is not None else {}
    if status != Status.FAILED and reply.citations:
        fields["citations"] = reply.citations
    if jobs.finish(replies(), reply, status=status, error=error, **fields):
        reply.refresh_from_db()
        events.send(reply.conversation_id, events.reply_finished(reply))


def _usage(stream) -> dict:
    return {
        "model": (getattr(stream, "model", "") or "")[:200],
        "prompt_tokens": getattr(stream, "prompt_tokens", None),
        "completion_tokens": getattr(stream, "completion_tokens", None),
    }


def append_text(reply: Message, chunk: str) -> bool:
    """Append to the stored reply while it is still this attempt's, and beat its heart.

    The most frequent write of the product (one per flush of every streaming reply), so
    it is one plain statement rather than an ORM update compiled each time; its WHERE is
    `jobs.mine(reply)` written out.
    """
    table = connection.ops.quote_name(Message._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET content = content || %s, heartbeat_at = %s "  # noqa: S608
            "WHERE id = %s AND status = %s AND attempts = %s",
            [
                chunk,
                connection.ops.adapt_datetimefield_value(timezone.now()),
                reply.pk,
                Status.STREAMING,
                reply.attempts,
            ],
        )
        return cursor.rowcount == 1


def utf16_len(text: str) -> int:
    """Length as JavaScript counts it: `offset`s are in these units (see the protocol)."""
    return len(text.encode("utf-16-le")) // 2


class ReplyWriter:
    """Appends deltas to the stored reply and publishes them, coalesced: the first delta
    goes out at once, later ones at most every REPLY_FLUSH_SECONDS."""

    def __init__(self, reply: Message) -> None:
        self.reply = reply
        self.offset = 0
        self.buffer: list[str] = []
        self.last_flush: float | None = None
        self.interval = settings.REPLY_FLUSH_SECONDS

    def add(self, delta: str) -> bool:
        """False once the reply is no longer ours (cancelled, deleted, given up)."""
        if delta:
            self.buffer.append(delta)
        return self.flush() if self.wait_time() == 0 else True

    def wait_time(self) -> float | None:
        """Seconds until the buffered text is due; None when nothing is buffered."""
        if not self.buffer:
            return None
        if self.last_flush is None:
            return 0
        return max(0.0, self.last_flush + self.interval - time.monotonic())

    def flush(self) -> bool:
        if not self.buffer:
            return True
        self.last_flush = time.monotonic()
        chunk = "".join(self.buffer)
        self.buffer.clear()
        if not append_text(self.reply, chunk):
            return False
        event = events.reply_delta(
            seq=self.reply.seq, offset=self.offset, text=chunk, attempt=self.reply.attempts
        )
        events.send(self.reply.conversation_id, event)
        self.offset += utf16_len(chunk)
        return True
