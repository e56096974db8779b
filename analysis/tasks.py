"""Background work of the analysis, declared on the job mechanism (core.jobs)."""

from analysis.models import AnalysisBatch, ClusteringRun, MessageCheck
from analysis.services import (
    batch_changed,
    batch_process,
    clustering_changed,
    clustering_process,
    conversations_end_idle,
    integration_of,
    message_check_process,
)
from core import jobs
from llm import allowance


@jobs.task(
    AnalysisBatch,
    on_change=batch_changed,
    max_attempts="ANALYSIS_MAX_ATTEMPTS",
    auto_retries="ANALYSIS_AUTO_RETRIES",
)
def analyse_batch(batch: AnalysisBatch) -> None:
    with allowance.background(integration_id=integration_of(batch)):
        batch_process(batch)


@jobs.task(ClusteringRun, on_change=clustering_changed, max_attempts="ANALYSIS_MAX_ATTEMPTS")
def cluster_conversation(run: ClusteringRun) -> None:
    with allowance.background(integration_id=integration_of(run)):
        clustering_process(run)


@jobs.periodic(every="ANALYSIS_IDLE_SWEEP_SECONDS")
def end_idle_conversations() -> None:
    conversations_end_idle()


@jobs.task(MessageCheck, max_attempts="ANALYSIS_MAX_ATTEMPTS")
def check_message(check: MessageCheck) -> None:
    message_check_process(check)
