"""`{% due_today %}`: the learner's lessons due for review, for the home page."""

from django import template

from teaching import selectors

register = template.Library()

SHOWN = 5


@register.inclusion_tag("teaching/_due_today.html", takes_context=True)
def due_today(context) -> dict:
    user = context["request"].user
    due = list(selectors.due_items(user)[: SHOWN + 1]) if user.is_authenticated else []
    return {"due": due[:SHOWN], "more": len(due) > SHOWN}
