"""Charts of "My mistakes", rendered on the server as SVG with pygal.

No script and no CDN: pygal's default SVG links its tooltip script from a CDN (`js=[]`
drops it) and still writes an inline config script, which a Content-Security-Policy
without 'unsafe-inline' refuses; both are left out (`_without_scripts`). Every chart is shown
beside a table with the same figures, for screen readers and for exact numbers.
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
        chart.add(name, counts)
    if rest:
        chart.add("Other families", [sum(col) for col in zip(*(c for _, c in rest), strict=True)])
    return _without_scripts(chart.render(is_unicode=True))


def error_map(groups: list[tuple[str, list[tuple[float, float]]]]) -> str:
    """A 2-D map of the clustered errors: one colour per family."""
    chart = pygal.XY(**_config(title="Map of your mistakes", stroke=False, dots_size=4))
    for name, points in groups[:MAX_SERIES]:
        chart.add(name, [(round(x, 3), round(y, 3)) for x, y in points])
    others = [p for _, points in groups[MAX_SERIES:] for p in points]
    if others:
        chart.add("Other families", [(round(x, 3), round(y, 3)) for x, y in others])
    return _without_scripts(chart.render(is_unicode=True))


def _without_scripts(svg: str) -> str:
    return SCRIPT.sub("", svg)
