"""Background tasks: a run's id in, one service call (ops.jobs claims and retries)."""

from django_tasks import TaskContext, task


@task(takes_context=True)
def teaching_run(context: TaskContext, run_id: int) -> None:
    from teaching.services import teaching_run_process

    teaching_run_process(run_id=run_id, task_id=str(context.task_result.id))
