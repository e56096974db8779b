"""Background tasks: ids in, one service call."""

from django_tasks import TaskContext, task


@task(takes_context=True)
def ingest_document(context: TaskContext, ingestion_id: int) -> None:
    from documents.ingestion import ingestion_run

    ingestion_run(ingestion_id=ingestion_id, task_id=str(context.task_result.id))
