"""What teaching reads from the analysis: a run's analysed sentences with their mistakes
and the clusters those mistakes fell into, as teaching.core.filtering's plain data."""

from django.db.models import Prefetch

from analysis.models import ClusterMember, DetectedError, UtteranceAnalysis
from analysis.sources import OwnConversation
from teaching.core.filtering import Mistake, Sentence
from teaching.models import Scope, TeachingRun


def sentences_for(run: TeachingRun) -> list[Sentence]:
    """The run's learner sentences that have mistakes, in conversation order."""
    utterances = UtteranceAnalysis.objects.filter(learner_id=run.learner_id, has_errors=True)
    members = ClusterMember.objects.filter(cluster__learner_id=run.learner_id)
    if run.conversation_id:
        # Checked messages too: a run may start before the model's last batch lands.
        utterances = utterances.filter(OwnConversation(run.conversation_id).utterances())
        members = members.filter(
            cluster__scope=Scope.CONVERSATION, cluster__conversation_id=run.conversation_id
        )
    else:
        members = members.filter(cluster__scope=Scope.LEARNER)
    clusters = {
        error_id: (cluster_id, name)
        for error_id, cluster_id, name in members.values_list(
            "error_id", "cluster_id", "cluster__name"
        )
    }
    # Only the mistakes the learner was shown: an edit held back below the precision bar
    # is not certain enough to teach.
    shown = Prefetch("errors", queryset=DetectedError.objects.filter(shown=True))
    rows = utterances.prefetch_related(shown).order_by("created_at", "id")
    return [_sentence(u, clusters) for u in rows]


def _sentence(utterance, clusters: dict[int, tuple[int, str]]) -> Sentence:
    mistakes = tuple(
        Mistake(
            error_id=error.pk,
            original=error.original,
            correction=error.correction,
            error_type=error.error_type,
            cluster_id=clusters.get(error.pk, (None, ""))[0],
            cluster_name=clusters.get(error.pk, (None, ""))[1],
        )
        for error in utterance.errors.all()
    )
    return Sentence(
        key=str(utterance.pk),
        text=utterance.text,
        corrected=utterance.corrected,
        language=utterance.language,
        priority=utterance.priority,
        mistakes=mistakes,
    )
