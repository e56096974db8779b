"""Ingestion on the job mechanism: progress on the owner's socket, cancel, retry, a killed
worker, dedup. Real queue and worker, the embedded embedder."""

import threading
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core import jobs
from documents import services
from documents.models import Chunk, Ingestion
from documents.testing.pdf import build_pdf
from documents.tests.conftest import GRAMMAR, ingested, sample_pdf, upload
from ops.socket_testing import open_events_socket
from ops.testing import drain_queue, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

LONG = "\n\n".join(
    f"## Section {n}\n\nThe present perfect connects the past with now, example {n}. " * 3
    for n in range(12)
)


def ingestion_of(document) -> Ingestion:
    return Ingestion.objects.get(document=document)


def test_an_upload_is_parsed_chunked_embedded_and_indexed(alice):
    document = ingested(alice)
    ingestion = ingestion_of(document)
    assert (ingestion.status, ingestion.stage, ingestion.error) == ("done", "indexed", "")
    chunks = list(Chunk.objects.filter(document=document))
    assert ingestion.done == ingestion.total == len(chunks) > 1
    assert document.indexed_at is not None
    assert document.title == "Present perfect"
    for chunk in chunks:
        assert document.text[chunk.char_start : chunk.char_end] == chunk.text
        assert len(chunk.vector) == 256 * 4
    assert {c.section for c in chunks} >= {"Present perfect", "Past simple"}


def test_a_pdf_keeps_its_pages(alice):
    document = ingested(alice, sample_pdf(), "verbs.pdf")
    assert (document.title, document.pages) == ("Phrasal verbs", 2)
    pages = dict(Chunk.objects.filter(document=document).values_list("page", "text"))
    assert "turn it off" in pages[2] and "give up" in pages[1]


def test_identical_content_uploaded_again_is_the_same_document_with_no_new_chunks(alice, bob):
    first = ingested(alice)
    count = Chunk.objects.count()
    again, created = services.document_upload(
        owner=alice, filename="copy.md", data=GRAMMAR.encode()
    )
    drain_queue()
    assert (again.pk, created) == (first.pk, False)
    assert Chunk.objects.count() == count
    # Another learner's identical file is their own document.
    theirs, created = services.document_upload(owner=bob, filename="g.md", data=GRAMMAR.encode())
    assert created and theirs.pk != first.pk


def test_a_pdf_with_no_text_fails_with_the_reason_and_no_chunks(alice):
    document = ingested(alice, build_pdf([[""]]), "scan.pdf")
    ingestion = ingestion_of(document)
    assert ingestion.status == "failed"
    assert "no text layer" in ingestion.error
    assert ingestion.attempts == 1  # a file that cannot be read is not retried
    assert not Chunk.objects.filter(document=document).exists()


def test_an_unreachable_embedder_is_retried_then_fails_readably_and_a_retry_works(embedding, alice):
    embedding.failures = 99
    document = ingested(alice)
    ingestion = ingestion_of(document)
    assert ingestion.status == "failed"
    assert ingestion.attempts == 3
    assert "busy or unreachable" in ingestion.error
    assert not Chunk.objects.filter(document=document).exists()

    embedding.failures = 0
    services.ingestion_retry(document=document)
    assert ingestion_of(document).status == "queued"
    drain_queue()
    ingestion = ingestion_of(document)
    assert (ingestion.status, ingestion.error) == ("done", "")
    assert Chunk.objects.filter(document=document).count() == ingestion.total > 0


def test_a_cancelled_queued_ingestion_never_runs_and_can_be_retried(alice):
    document = upload(alice)
    services.ingestion_cancel(document=document)
    drain_queue()
    assert ingestion_of(document).status == "cancelled"
    assert not Chunk.objects.filter(document=document).exists()
    services.ingestion_retry(document=document)
    drain_queue()
    assert ingestion_of(document).status == "done"


def test_cancel_while_embedding_stops_without_indexing_anything(settings, embedding, alice):
    settings.DOCUMENT_EMBED_BATCH = 2
    document = upload(alice, LONG, "long.md")

    def cancel_on_second_batch():
        if embedding.calls == 2:
            services.ingestion_cancel(document=document)

    embedding.before.append(cancel_on_second_batch)
    drain_queue()
    ingestion = ingestion_of(document)
    assert ingestion.status == "cancelled"
    assert ingestion.stage == "embedded" and ingestion.done < ingestion.total
    assert not Chunk.objects.filter(document=document).exists()


def test_a_killed_worker_leaves_it_to_the_sweeper_which_requeues_it(settings, alice):
    document = upload(alice)
    ingestion = ingestion_of(document)
    task = DBTaskResult.objects.get(args_kwargs__args__0=ingestion.pk)
    # What a worker killed mid-ingestion leaves behind: a running task and a running row
    # whose heartbeat stops.
    DBTaskResult.objects.filter(pk=task.pk).update(status="RUNNING", worker_ids=["killed"])
    Ingestion.objects.filter(pk=ingestion.pk).update(
        status="running", attempts=1, heartbeat_at=timezone.now(), stage="embedded"
    )
    later = timezone.now() + timedelta(seconds=settings.JOB_STALE_SECONDS + 1)

    assert jobs.jobs_sweep(now=later) == {"requeued": 1}
    drain_queue()

    ingestion.refresh_from_db()
    assert (ingestion.status, ingestion.attempts, ingestion.stage) == ("done", 2, "indexed")
    assert DBTaskResult.objects.get(pk=task.pk).status == "FAILED"


def test_deleting_a_document_removes_its_chunks_vectors_and_lexical_index(alice):
    from documents import search

    document = ingested(alice)
    assert search.lexical_search("present perfect", [document.pk], 10)
    chunk_ids = list(Chunk.objects.filter(document=document).values_list("id", flat=True))
    services.document_delete(document=document)
    assert not Chunk.objects.filter(pk__in=chunk_ids).exists()
    assert not Ingestion.objects.filter(document_id=document.pk).exists()
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM documents_chunk_fts WHERE documents_chunk_fts MATCH ?",
                ['"perfect"'],
            )
            assert cursor.fetchone()[0] == 0


# --- Live progress on the owner's socket ------------------------------------------------


async def document_events(socket, until: str, timeout: float = 20.0) -> list[dict]:
    events = []
    while True:
        event = await socket.receive_json_from(timeout=timeout)
        events.append(event)
        if event["type"] == until:
            return events


async def test_progress_is_pushed_live_to_the_owner_only(settings, worker, alice, bob):
    settings.DOCUMENT_EMBED_BATCH = 2
    mine, theirs = await open_events_socket(alice), await open_events_socket(bob)

    document = await database_sync_to_async(upload)(alice, LONG, "long.md")
    events = await document_events(mine, "document.ready")

    assert {e["document_id"] for e in events} == {document.pk}
    stages = [e["ingestion"]["stage"] for e in events if e["type"] == "document.progress"]
    assert stages[0] == "parsed" and "chunked" in stages
    embedded = [e["ingestion"] for e in events if e["ingestion"]["stage"] == "embedded"]
    total = embedded[0]["total"]
    assert [e["done"] for e in embedded][:2] == [2, 4]
    assert embedded[-1]["done"] == total and len(embedded) == -(-total // 2)
    assert embedded[0]["label"] == f"Embedded 2 of {total}"
    ready = events[-1]["ingestion"]
    assert (ready["status"], ready["done"], ready["total"]) == ("done", total, total)
    assert await theirs.receive_nothing(timeout=0.3)
    await mine.disconnect()
    await theirs.disconnect()


async def test_a_failure_is_pushed_with_its_reason(worker, alice):
    socket = await open_events_socket(alice)
    await database_sync_to_async(upload)(alice, build_pdf([[""]]), "scan.pdf")
    events = await document_events(socket, "document.failed")
    assert "no text layer" in events[-1]["ingestion"]["error"]
    await socket.disconnect()


def test_enqueue_happens_only_on_commit(alice):
    with transaction.atomic():
        document = upload(alice)
        assert not DBTaskResult.objects.exists()
    assert DBTaskResult.objects.filter(args_kwargs__args__0=ingestion_of(document).pk).exists()


def test_cancel_then_retry_through_the_api_runs_one_ingestion(
    settings, embedding, api, alice, worker
):
    """Outside clients cancelled a running ingestion and retried it at once: both
    attempts ran to the end. The first must stop at its next write and store nothing
    while the retry's attempt indexes the document once."""
    settings.JOB_HEARTBEAT_SECONDS = 60  # no heartbeat tells the first attempt in time
    settings.DOCUMENT_EMBED_BATCH = 4
    started, second_running = threading.Event(), threading.Event()
    first_task: list[str] = []
    threads: list[int] = []

    def race():
        threads.append(threading.get_ident())
        if embedding.calls == 1:
            started.set()
            second_running.wait(30)
        elif not second_running.is_set():
            second_running.set()
            # Let the first attempt run on to its end while this one works.
            wait_for(
                lambda: DBTaskResult.objects.get(pk=first_task[0]).status != "RUNNING",
                timeout=30,
                what="the first attempt to end",
            )

    embedding.before.append(race)
    document = upload(alice, LONG, "long.md")
    assert started.wait(60)  # the worker warms its models first
    first_task.append(DBTaskResult.objects.get(status="RUNNING").pk)

    assert api.post(f"/api/v1/documents/{document.pk}/cancel/").status_code == 200
    assert api.post(f"/api/v1/documents/{document.pk}/retry/").status_code == 200
    wait_for(lambda: ingestion_of(document).status == "done", timeout=60, what="the retry")
    wait_for(lambda: not DBTaskResult.objects.filter(status="RUNNING").exists(), timeout=30)

    ingestion = ingestion_of(document)
    chunks = Chunk.objects.filter(document=document)
    assert (ingestion.stage, ingestion.error) == ("indexed", "")
    assert ingestion.done == ingestion.total == chunks.count() > 4
    assert len(set(chunks.values_list("char_start", flat=True))) == chunks.count()
    assert DBTaskResult.objects.get(pk=first_task[0]).status == "SUCCESSFUL"
    # The first attempt stopped at its first write after the retry: it embedded no more.
    assert threads.count(threads[0]) == 1


def test_deleting_a_document_mid_ingestion_stops_it_without_a_traceback(
    settings, embedding, api, alice, caplog
):
    settings.DOCUMENT_EMBED_BATCH = 2
    document = upload(alice, LONG, "long.md")

    def delete_on_second_batch():
        if embedding.calls == 2:
            assert api.delete(f"/api/v1/documents/{document.pk}/").status_code == 204

    embedding.before.append(delete_on_second_batch)
    with caplog.at_level("INFO"):
        drain_queue()

    assert not Ingestion.objects.filter(document_id=document.pk).exists()
    assert not Chunk.objects.filter(document_id=document.pk).exists()
    # (The hooked embedder cannot be warmed up front: that error is the fixture's.)
    faults = [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]
    assert not [r for r in faults if not r.getMessage().startswith("Warm-up")]
