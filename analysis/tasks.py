"""Background tasks: a job's id in, one service call (ops.jobs claims and retries)."""

from django_tasks import TaskContext, task


@task(takes_context=True)
def analyse_batch(context: TaskContext, batch_id: int) -> None:
    from analysis.services import batch_analyse

    batch_analyse(batch_id=batch_id, task_id=str(context.task_result.id))


@task(takes_context=True)
def cluster_conversation(context: TaskContext, run_id: int) -> None:
    from analysis.services import clustering_run

    clustering_run(run_id=run_id, task_id=str(context.task_result.id))
