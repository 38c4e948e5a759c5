"""The dashboard table's rows.

Built in Python, as Django's admin builds its change list's cells: fifty rows of eight cells
through the template engine cost more than the rest of the page. Every text is escaped here
(``html.escape``, which Django's ``escape`` wraps); ``may`` is already safe HTML
(``agreements.dashboard``). ``agreements/dashboard.html`` holds the rest of the table."""

from __future__ import annotations

from html import escape

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

ROW = (
    '<tr><th scope="row"><a href="{}">{}</a></th><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
    '<td>{}</td><td><ul class="may">{}</ul></td></tr>\n'
)


@register.simple_tag
def agreement_rows(rows: list[dict]) -> SafeString:
    """``<tr>`` for each row of ``agreements.dashboard.DashboardPage.page``."""
    html = "".join(
        ROW.format(
            escape(r["url"]),
            escape(r["number"]),
            escape(r["program"]),
            escape(r["customer"]),
            escape(r["status"]),
            escape(r["roles"]),
            escape(r["kinds"]),
            conditional_escape(r["may"]),  # already safe: kept as it is
        )
        for r in rows
    )
    return mark_safe(html)  # noqa: S308 (every value above is escaped or safe)
