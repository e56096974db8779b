"""Charts of "My mistakes", rendered on the server as SVG with pygal.

No script and no CDN: pygal's default SVG links its tooltip script from a CDN (`js=[]`
drops it) and still writes an inline config script, which a Content-Security-Policy
without 'unsafe-inline' refuses; both are left out (`_without_scripts`). Every chart is shown
beside a table with the same figures, for screen readers and for exact numbers.

There is no 2-D "map of your mistakes": it could not show what its caption said. Identical
mistakes share one point, so a family made twelve times the same way was one dot, the
smallest thing on the map; and the families are equidistant by design (a mistake's kind is
never mixed with another), so where a family sat beside which other meant nothing. What is
left to read from it (which families there are, and how many mistakes each holds) the
family list and the chart over time say exactly.
"""

import re
from datetime import date

import pygal
from pygal.style import Style

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#6b7280",
    font_family="system-ui, sans-serif",
    colors=("#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#65a30d"),
)
SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
MAX_SERIES = 7  # the colours above; further families are folded into "Other families"


def _config(**extra) -> dict:
    return {
        "js": [],
        "style": STYLE,
        "disable_xml_declaration": True,
        "show_legend": True,
        "legend_at_bottom": True,
        "width": 720,
        "height": 360,
        **extra,
    }


def errors_over_time(days: list[date], series: list[tuple[str, list[int]]]) -> str:
    """Stacked bars: the errors of each mistake family per day."""
    chart = pygal.StackedBar(**_config(title="Errors by family over time", x_label_rotation=0))
    chart.x_labels = [d.isoformat() for d in days]
    shown, rest = series[:MAX_SERIES], series[MAX_SERIES:]
    for name, counts in shown:
        chart.add(name.replace("*", ""), counts)  # no markup in a legend: *go* -> go
    if rest:
        chart.add("Other families", [sum(col) for col in zip(*(c for _, c in rest), strict=True)])
    return _without_scripts(chart.render(is_unicode=True))


def _without_scripts(svg: str) -> str:
    return SCRIPT.sub("", svg)
