"""What higher apps add to a case page: panels (hearings, referrals…) and timeline entries.

Cases cannot import monitoring or referrals; they register here when they load, as apps add
panels to the desk. A timeline source returns entries ``{"kind", "at", "row", "template"}``;
the template renders one entry of the timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

if TYPE_CHECKING:
    from haven.cases.models import Case


@dataclass(frozen=True)
class CasePanel:
    key: str
    template: str
    context: Callable[[HttpRequest, Case], dict[str, Any]]
    order: int = 100


_PANELS: dict[str, CasePanel] = {}
_TIMELINE: list[Callable[[Case], list[dict[str, Any]]]] = []


def register_case_panel(panel: CasePanel) -> None:
    _PANELS[panel.key] = panel


def register_timeline_source(source: Callable[[Case], list[dict[str, Any]]]) -> None:
    if source not in _TIMELINE:
        _TIMELINE.append(source)


def panels_for(request: HttpRequest, case: Case) -> list[tuple[CasePanel, dict[str, Any]]]:
    return [
        (panel, panel.context(request, case))
        for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.key))
    ]


def extra_timeline(case: Case) -> list[dict[str, Any]]:
    return [entry for source in _TIMELINE for entry in source(case)]
