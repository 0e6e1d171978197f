"""The cases' panels on the desk: what is overdue, due today, about to pass its response
deadline, due for a risk review, high-risk without recent contact, and notices. Each row is
one click from its case. The lists are computed once per request and shared by the panels."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from haven.cases import selectors
from haven.core.desk import DeskPanel, register_panel
from haven.core.models import CASEWORK_ROLES


def _lists(request: HttpRequest) -> dict[str, Any]:
    cached: dict[str, Any] | None = getattr(request, "_haven_case_desk", None)
    if cached is None:
        mission = request.membership.mission  # type: ignore[attr-defined]
        cached = selectors.desk(request.user, mission)  # type: ignore[arg-type]
        request._haven_case_desk = cached  # type: ignore[attr-defined]
    return cached


PANELS = (
    ("case_notices", 1),
    ("case_overdue", 2),
    ("case_due_today", 3),
    ("case_deadlines", 6),
    ("case_reviews", 7),
    ("case_quiet", 8),
    ("case_no_second", 9),
)


def register() -> None:
    for key, order in PANELS:
        register_panel(
            DeskPanel(
                key, f"cases/panel_{key.removeprefix('case_')}.html", CASEWORK_ROLES, _lists, order
            )
        )
