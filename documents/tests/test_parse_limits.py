"""A small PDF built to be slow to read (one compressed stream of text operators, shared
by every page) must not keep a worker busy: its text and passages are capped, its parse
is bounded in CPU time, and a cancel kills the parsing process within a second."""

import os
import re
import time
from pathlib import Path

import pytest

from documents.models import Chunk, Ingestion
from documents.testing.pdf import operator_bomb
from documents.tests.conftest import upload
from ops.testing import drain_queue, wait_for

from .test_ingestion import LONG

pytestmark = pytest.mark.django_db(transaction=True)


def ingestion_of(document) -> Ingestion:
    return Ingestion.objects.get(document=document)


def seconds_run(document) -> float:
    """How long the ingestion ran (the queue's worker warms its models first)."""
    ingestion = ingestion_of(document)
    return (ingestion.finished_at - ingestion.started_at).total_seconds()


def failed_with(document) -> str:
    ingestion = ingestion_of(document)
    assert ingestion.status == "failed"
    assert not Chunk.objects.filter(document=document).exists()
    return ingestion.error


def test_the_bomb_is_small():
    assert len(operator_bomb()) < 20_000


def test_text_past_the_cap_fails_naming_the_limit_without_reading_every_page(settings, alice):
    settings.DOCUMENT_MAX_TEXT_CHARS = 12_000
    settings.DOCUMENT_PARSE_SECONDS = 60
    document = upload(alice, operator_bomb(pages=20, repeats=5_000), "bomb.pdf")
    drain_queue()
    error = failed_with(document)
    assert "more text than we index (over 12,000 characters)" in error
    # Three pages of 5,000 characters pass the cap; the other seventeen are never read.
    assert seconds_run(document) < 8, seconds_run(document)
    print(f"the text cap failed the bomb after {seconds_run(document):.1f} s")


def test_passages_past_the_cap_fail_naming_the_limit(settings, alice):
    settings.DOCUMENT_MAX_CHUNKS = 3
    document = upload(alice, LONG, "long.md")
    drain_queue()
    assert re.search(r"more passages than we index \(\d+; the limit is 3\)", failed_with(document))


def test_a_parse_past_its_cpu_seconds_fails_at_once(settings, alice):
    settings.DOCUMENT_PARSE_SECONDS = 2
    # About 1.5 s of pypdf work per page, 30 s for the twenty.
    document = upload(alice, operator_bomb(pages=20, repeats=30_000), "bomb.pdf")
    drain_queue()
    assert "too long to read (the limit is 2 seconds of work)" in failed_with(document)
    assert ingestion_of(document).attempts == 1  # a refusal, not retried
    # 2 CPU seconds, with the wall-clock slack of a machine busy with other work.
    assert seconds_run(document) < 8, seconds_run(document)
    print(f"the CPU bound failed the bomb after {seconds_run(document):.1f} s")


def running(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_cancel_kills_the_parse_within_a_second(settings, api, alice, worker, caplog):
    settings.DOCUMENT_PARSE_SECONDS = 120
    settings.JOB_HEARTBEAT_SECONDS = 60  # the cancel must be seen without the heartbeat
    caplog.set_level("INFO", logger="documents.isolated")
    document = upload(alice, operator_bomb(pages=20, repeats=200_000), "bomb.pdf")

    def child_pid() -> int | None:
        for record in caplog.records:
            if found := re.search(r"Parsing a pdf in process (\d+)", record.getMessage()):
                return int(found.group(1))
        return None

    pid = wait_for(child_pid, timeout=60, what="the parsing process")
    wait_for(lambda: cpu_seconds(pid) > 0.5, timeout=30, what="the parse to be busy")
    started = time.monotonic()
    assert api.post(f"/api/v1/documents/{document.pk}/cancel/").status_code == 200
    wait_for(lambda: not running(pid), timeout=5, what="the parsing process to end")
    stopped_after = time.monotonic() - started
    assert stopped_after < 1.5, stopped_after
    wait_for(lambda: not worker_busy(), timeout=10, what="the worker to finish the job")
    ingestion = ingestion_of(document)
    assert ingestion.status == "cancelled" and ingestion.stage != "parsed"
    assert not Chunk.objects.filter(document=document).exists()
    print(f"cancel stopped the parsing process after {stopped_after:.2f} s")


def worker_busy() -> bool:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(status="RUNNING").exists()
