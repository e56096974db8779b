"""Background work of documents, declared on the job mechanism (core.jobs)."""

from core import jobs
from documents.events import send_ingestion
from documents.ingestion import ingestion_process
from documents.models import Ingestion
from llm import allowance


@jobs.task(Ingestion, on_change=send_ingestion, max_attempts="DOCUMENT_INGEST_MAX_ATTEMPTS")
def ingest_document(ingestion: Ingestion) -> None:
    with allowance.background():
        ingestion_process(ingestion)
