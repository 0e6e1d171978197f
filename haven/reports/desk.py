"""The desk panel of leadership: where the dashboards are, and the headline figures."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from haven.core.desk import DeskPanel, register_panel
from haven.reports import dashboard, selectors


def _glance(request: HttpRequest) -> dict[str, Any]:
    mission = request.membership.mission  # type: ignore[attr-defined]
    period = selectors.Period.last_year()
    raw = selectors.collect(request.user, [mission], period)  # type: ignore[arg-type]
    return {"board": dashboard.dashboard(raw, [mission], period)}


def register() -> None:
    # Viewers see figures only; their desk is the dashboard's summary.
    register_panel(
        DeskPanel("reports", "reports/panel_glance.html", frozenset({"viewer"}), _glance)
    )
