from django.apps import AppConfig
from django.conf import settings


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "Analysis of learner messages"

    def ready(self) -> None:
        from analysis import services, tasks
        from analysis.models import AnalysisBatch, ClusteringRun
        from conversations import hooks
        from ops import jobs

        attempts = settings.ANALYSIS_MAX_ATTEMPTS
        jobs.register(
            AnalysisBatch,
            task=tasks.analyse_batch,
            on_change=services.batch_changed,
            max_attempts=attempts,
        )
        jobs.register(
            ClusteringRun,
            task=tasks.cluster_conversation,
            on_change=services.clustering_changed,
            max_attempts=attempts,
        )
        # Explicit calls after commit, registered once (ready() may run twice in tests).
        for hook_list, hook in (
            (hooks.after_message_posted, services.on_message_posted),
            (hooks.after_conversation_ended, services.on_conversation_ended),
        ):
            if hook not in hook_list:
                hook_list.append(hook)
