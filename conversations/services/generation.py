"""Generating one reply: claim the row, stream the model into it, tell the sockets.

Runs in a worker thread. Every write is conditional on the row still being ours
(`status='streaming'` and our attempt number), so a cancel, a delete or a sweeper that
gave our attempt up stops us at the next write, and never lets two writers mix text.
Text is stored before it is published: a client that resumes from the database can
never miss a delta it did not receive.
"""

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

import llm
from conversations import context, events
from conversations.models import Message, Role, Status
from conversations.services import liveness
from ops import logs
from ops.db import release_connection

logger = logging.getLogger(__name__)

GENERIC_FAILURE = "Something went wrong while the tutor was answering. Please try again."


def reply_generate(*, reply_id: int, task_id: str = "") -> None:
    """Generate the pending reply `reply_id`; a reply already claimed, finished, cancelled
    or deleted is left alone. Failures end as a `failed` reply with a readable reason."""
    reply = _claim(reply_id, task_id)
    if reply is None:
        return
    logs.bind(conversation_id=reply.conversation_id, user_id=reply.conversation.owner_id)
    with liveness.beating(reply) as beat:
        stream = prompt = None
        try:
            prompt = context.prepare(reply)
            reply.citations = prompt.citations
            stream = llm.stream(reply.task_type, prompt.messages, user=reply.conversation.owner)
            beat.on_lost = stream.close
            _stream_into(reply, stream)
            # Bookkeeping that is not needed for this reply waits until it is written.
            context.record(prompt)
        except llm.errors.LLMError as exc:
            _finish(reply, status=Status.FAILED, error=exc.user_message, stream=stream)
        except Exception:
            logger.exception("Reply %s of conversation %s failed", reply.pk, reply.conversation_id)
            _finish(reply, status=Status.FAILED, error=GENERIC_FAILURE, stream=stream)


def _claim(reply_id: int, task_id: str = "") -> Message | None:
    """Take the reply atomically; of two workers, exactly one gets it."""
    now = timezone.now()
    claimed = Message.objects.filter(
        pk=reply_id, role=Role.ASSISTANT, status=Status.PENDING
    ).update(
        status=Status.STREAMING,
        attempts=F("attempts") + 1,
        heartbeat_at=now,
        started_at=now,
        content="",
        error="",
        task_id=task_id[:64],
    )
    if not claimed:
        return None
    reply = (
        Message.objects.select_related("conversation__owner__profile").filter(pk=reply_id).first()
    )
    if reply is not None and reply.attempts > 1:
        # A retry after a lost worker: clients replace what they showed of the last try.
        events.send(reply.conversation_id, events.message_created(reply))
    return reply


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


class StreamThreads:
    """Runs each job at once, on an idle thread of an earlier job or on a new one.

    A pump must never wait behind another reply's pump: its worker thread is blocked on
    the deltas it would produce. A bounded pool cannot promise that, as the number of
    replies a process writes at once is `db_worker --threads`, not a setting. Threads
    live on once started, so they keep their SQLite connection between replies (the
    gateway records each call from here); there are about as many as the most replies
    the process has written at once.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._idle: queue.SimpleQueue[queue.SimpleQueue] = queue.SimpleQueue()
        self._started = itertools.count(1)

    def submit(self, job: Callable[[], None]) -> None:
        try:
            inbox = self._idle.get_nowait()
        except queue.Empty:
            inbox = self._start()
        inbox.put(job)

    def _start(self) -> queue.SimpleQueue:
        inbox: queue.SimpleQueue = queue.SimpleQueue()
        name = f"{self.name}-{next(self._started)}"
        threading.Thread(target=self._serve, args=(inbox,), name=name, daemon=True).start()
        return inbox

    def _serve(self, inbox: queue.SimpleQueue) -> None:
        while True:
            job = inbox.get()
            try:
                job()
            except Exception:
                logger.exception("A model stream thread's job failed")
            self._idle.put(inbox)


_pumps = StreamThreads("model")


def _finish(reply: Message, *, status: str, stream=None, error: str = "") -> None:
    fields = {
        "status": status,
        "error": error,
        "completed_at": timezone.now(),
        "heartbeat_at": None,
    }
    if stream is not None:
        fields |= _usage(stream)
    if status != Status.FAILED and reply.citations:
        fields["citations"] = reply.citations
    finished = Message.objects.filter(
        pk=reply.pk, status=Status.STREAMING, attempts=reply.attempts
    ).update(**fields)
    if finished:
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
    it is one plain statement rather than an ORM update compiled each time.
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
