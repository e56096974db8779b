"""`{% scripts "coach.js" "chat.js" %}`: a page's scripts from static/js/, in order.

Every page script is deferred, so it runs after the page is parsed and in the order given
(events.js before the page's own script that listens through it).
"""

from django import template
from django.templatetags.static import static
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def scripts(*names: str) -> SafeString:
    return format_html_join(
        "\n", '<script src="{}" defer></script>', ((static(f"js/{name}"),) for name in names)
    )
