"""`{% due_today %}`: the learner's lessons due for review, for the home page.
`{{ due_at|next_review }}`: "now" or "in 3 days", never "in 0 minutes".
`{{ module|review_topic }}`: what a lesson due for review is about, without its answer."""

from datetime import timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timeuntil

from analysis.core.taxonomy import ErrorType
from teaching import selectors

register = template.Library()

SHOWN = 5


@register.inclusion_tag("teaching/_due_today.html", takes_context=True)
def due_today(context) -> dict:
    user = context["request"].user
    due = list(selectors.due_items(user)[: SHOWN + 1]) if user.is_authenticated else []
    return {"due": due[:SHOWN], "more": len(due) > SHOWN}


@register.filter
def next_review(due_at) -> str:
    if due_at is None or due_at <= timezone.now() + timedelta(minutes=1):
        return "now"
    return f"in {timeuntil(due_at, depth=1)}"


@register.filter
def review_topic(module) -> str:
    """A built lesson's title ends with its answer ("...: goes, not go"), and a cluster
    named by its pattern holds the correction ("Verb tense: *go* -> *went*"): a review asks
    for exactly that. A cluster named by its grammar note is shown, else the family."""
    name = module.cluster_name
    if name and "\u2192" not in name:
        return name
    try:
        return ErrorType(module.error_type).label
    except ValueError:
        return module.error_type.replace("_", " ").capitalize()
