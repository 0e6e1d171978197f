"""What monitoring adds to a case page: its hearings (with a warning when postponements form a
pattern) and detentions, and their events on the case's timeline."""

from __future__ import annotations

import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from haven.cases.extensions import CasePanel, register_case_panel, register_timeline_source
from haven.cases.models import Case
from haven.monitoring.models import Detention, Hearing, HearingStatus


def _hearings(case: Case) -> list[Hearing]:
    """The case's hearings, each pointing at the case already loaded: the list links to it,
    and fetching it again per hearing would cost a query (and a key) per row. Read once per
    case object: the panel and the timeline share them."""
    cached: list[Hearing] | None = case.__dict__.get("_haven_hearings")
    if cached is None:
        cached = list(Hearing.objects.filter(case=case).prefetch_related("data_key"))
        for hearing in cached:
            hearing.case = case
        case.__dict__["_haven_hearings"] = cached
    return cached


def _detentions(case: Case) -> list[Detention]:
    cached: list[Detention] | None = case.__dict__.get("_haven_detentions")
    if cached is None:
        cached = list(Detention.objects.filter(case=case).select_related("defender"))
        case.__dict__["_haven_detentions"] = cached
    return cached


def _panel(request: HttpRequest, case: Case) -> dict[str, Any]:
    hearings = _hearings(case)
    return {
        "hearings": hearings,
        "detentions": _detentions(case),
        "postponements": sum(1 for h in hearings if h.status == HearingStatus.POSTPONED),
        "zone": case.mission.timezone,
    }


def _day(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def _timeline(case: Case) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for hearing in _hearings(case):
        entries.append(
            {
                "kind": "hearing",
                "at": hearing.created_at,
                "row": hearing,
                "template": "monitoring/timeline_hearing.html",
            }
        )
    for detention in _detentions(case):
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
