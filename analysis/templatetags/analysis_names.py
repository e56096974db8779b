"""`{{ name|marked }}`: a family's name with the words it quotes in italics.

Names and grammar-note titles mark a word quoted from the learner's edits with asterisks
("Verb tense: *go* → *went*", "Past participle after *have*"); everything else in them is
escaped as usual.
"""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

MARKED = re.compile(r"\*([^*\n]+)\*")


@register.filter
def marked(name: str) -> SafeString:
    parts = MARKED.split(str(name))  # text, word, text, word, ..., text
    html = "".join(
        escape(p) if i % 2 == 0 else f"<em>{escape(p)}</em>" for i, p in enumerate(parts)
    )
    return mark_safe(html)  # noqa: S308  (every part escaped above)
