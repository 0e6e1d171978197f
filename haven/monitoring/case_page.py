"""What monitoring adds to a case page: its hearings (with a warning when postponements form a
pattern) and detentions, and their events on the case's timeline."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from haven.cases.extensions import CasePanel, register_case_panel, register_timeline_source
from haven.cases.models import Case
from haven.monitoring.models import Detention, Hearing
from haven.monitoring.services import postponements


def _hearings(case: Case) -> list[Hearing]:
    """The case's hearings, each pointing at the case already loaded: the list links to it,
    and fetching it again per hearing would cost a query (and a key) per row."""
    hearings = list(Hearing.objects.filter(case=case).prefetch_related("data_key"))
    for hearing in hearings:
        hearing.case = case
    return hearings


def _panel(request: HttpRequest, case: Case) -> dict[str, Any]:
    return {
        "hearings": _hearings(case),
        "detentions": list(Detention.objects.filter(case=case)),
        "postponements": postponements(case),
        "zone": case.mission.timezone,
    }


def _day(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def _timeline(case: Case) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for hearing in Hearing.objects.filter(case=case):
        entries.append(
            {
                "kind": "hearing",
                "at": hearing.created_at,
                "row": hearing,
                "template": "monitoring/timeline_hearing.html",
            }
        )
    for detention in Detention.objects.filter(case=case).select_related("defender"):
        entries.append(
            {
                "kind": "detained",
                "at": _day(detention.detained_on),
                "row": detention,
                "template": "monitoring/timeline_detention.html",
            }
        )
        if detention.released_on:
            entries.append(
                {
                    "kind": "released",
                    "at": _day(detention.released_on),
                    "row": detention,
                    "template": "monitoring/timeline_detention.html",
                }
            )
    return entries


def register() -> None:
    register_case_panel(CasePanel("monitoring", "monitoring/case_panel.html", _panel, 20))
    register_timeline_source(_timeline)
