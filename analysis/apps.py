from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "Analysis of learner messages"

    def ready(self) -> None:
        from analysis import services, tasks
        from analysis.models import AnalysisBatch, ClusteringRun
        from analysis.services.jobs import AnalysisKind
        from conversations import hooks
        from ops import jobs

        for model, task, on_change in (
            (AnalysisBatch, tasks.analyse_batch, services.batch_changed),
            (ClusteringRun, tasks.cluster_conversation, services.clustering_changed),
        ):
            jobs.register_kind(AnalysisKind(model=model, task=task, on_change=on_change))
        # Explicit calls after commit, registered once (ready() may run twice in tests).
        for hook_list, hook in (
            (hooks.after_message_posted, services.on_message_posted),
            (hooks.after_conversation_ended, services.on_conversation_ended),
        ):
            if hook not in hook_list:
                hook_list.append(hook)
