"""``{% bar_chart chart key %}``: a ``reports.charts.BarChart`` drawn as inline SVG.

Drawn in Python rather than by a template: a dashboard has a dozen charts of up to a few
dozen bars, and the template language resolved every coordinate of every bar one variable
at a time, a third of the page's time. Every text is escaped; presentation attributes only,
as the content security policy wants.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from haven.reports.charts import Bar, BarChart

register = template.Library()


def _bar(chart: BarChart, bar: Bar) -> SafeString:
    rect = (
        format_html(
            '<rect x="{}" y="{}" width="{}" height="{}" class="chart-bar"/>',
            chart.label_width,
            bar.y,
            bar.width,
            chart.bar_height,
        )
        if bar.width
        else ""
    )
    return format_html(
        '<text x="{}" y="{}" text-anchor="end" class="chart-label">{}</text>\n  {}\n'
        '  <text x="{}" y="{}" class="chart-value{}">{}</text>\n  ',
        chart.label_width - 8,
        bar.y + 15,
        bar.label,
        rect,
        bar.text_x,
        bar.y + 15,
        " chart-hidden" if bar.value.hidden else "",
        bar.value,
    )


@register.simple_tag
def bar_chart(chart: BarChart, key: str) -> SafeString:
    """The chart, its title as the accessible name of the picture."""
    return format_html(
        '<svg class="chart" role="img" aria-labelledby="chart-{}" viewBox="0 0 {} {}" '
        'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">\n'
        '  <title id="chart-{}">{}</title>\n  {}\n</svg>',
        key,
        chart.width,
        chart.height,
        key,
        chart.title,
        format_html_join("", "{}", ((_bar(chart, bar),) for bar in chart.bars)),
    )
