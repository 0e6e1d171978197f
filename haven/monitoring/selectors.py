"""Reads of monitoring, always through the cases a user may see (a restricted case's hearings
are as invisible as the case), and the de-identified rows of the reprisal register."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from haven.accounts.models import User
from haven.cases.models import Case
from haven.core.models import Mission
from haven.core.vocab.fair_trial import FAIR_TRIAL
from haven.monitoring.models import (
    REPRISAL_KINDS,
    CalendarFeed,
    CivicEvent,
    Hearing,
    HearingStatus,
    ObservationReport,
)

PAGE_SIZE = 50
REGISTER_SCHEMA_VERSION = "haven-reprisal-register/1"
# The columns of the register, in order; docs/reprisal-register.md describes each.
REGISTER_FIELDS = [
    "id",
    "kind",
    "starts_on",
    "ends_on",
    "region",
    "country",
    "source_type",
    "reliability",
    "cases_linked",
]


def hearings(user: User, mission: Mission) -> QuerySet[Hearing]:
    return (
        Hearing.objects.for_user(user, mission=mission)
        .select_related("case")
        .prefetch_related("data_key", "case__data_key")
    )


def calendar(
    user: User, mission: Mission, *, now: datetime.datetime | None = None
) -> tuple[list[Hearing], list[Hearing]]:
    """Hearings from now on (every status, so a postponement shows) and the last month's."""
    now = now or timezone.now()
    rows = hearings(user, mission)
    upcoming = list(rows.filter(starts_at__gte=now).order_by("starts_at", "pk")[:200])
    past = list(
        rows.filter(starts_at__lt=now, starts_at__gte=now - datetime.timedelta(days=31)).order_by(
            "-starts_at", "-pk"
        )[:100]
    )
    return upcoming, past


def hearings_soon(*, now: datetime.datetime, within: datetime.timedelta) -> QuerySet[Hearing]:
    """Scheduled hearings starting within ``within`` (for reminders, every mission)."""
    return Hearing.objects.filter(
        status=HearingStatus.SCHEDULED, starts_at__gte=now, starts_at__lte=now + within
    )


def report_items(report: ObservationReport) -> list[tuple[str, str, str, str]]:
    """(phase, item label, assessment label, notes) for each checklist item, in order."""
    from haven.monitoring.models import Assessment

    labels = dict(Assessment.choices)
    items = []
    for term in FAIR_TRIAL:
        entry = report.checklist.get(term.code, {})
        items.append(
            (
                term["phase"],
                str(term.label),
                str(labels.get(entry.get("assessment", ""), "—")),
                entry.get("notes", ""),
            )
        )
    return items


def civic_events(user: User, mission: Mission, filters: dict[str, Any]) -> QuerySet[CivicEvent]:
    rows = CivicEvent.objects.for_user(user, mission=mission)
    if filters.get("kind"):
        rows = rows.filter(kind=filters["kind"])
    if filters.get("region"):
        rows = rows.filter(region__iexact=filters["region"].strip())
    if filters.get("since"):
        rows = rows.filter(starts_on__gte=filters["since"])
    if filters.get("until"):
        rows = rows.filter(starts_on__lte=filters["until"])
    return rows


def civic_page(user: User, mission: Mission, filters: dict[str, Any], number: Any = 1) -> Page:
    rows = civic_events(user, mission, filters).prefetch_related("data_key")
    return Paginator(rows, PAGE_SIZE).get_page(number)


def reprisal_rows(user: User, mission: Mission, filters: dict[str, Any]) -> list[dict[str, Any]]:
    """The register: reprisals and transnational repression, as codes, dates and regions.

    No title, description or name leaves: only what cannot identify a person. The number of
    linked cases is given, not which.
    """
    rows = civic_events(user, mission, filters).filter(kind__in=REPRISAL_KINDS)
    # Only cases the exporter may see are counted: a restricted case is not even a number.
    visible = Case.objects.for_user(user, mission=mission).values("pk")
    return [
        {
            "id": str(event.uid),
            "kind": event.kind,
            "starts_on": event.starts_on.isoformat(),
            "ends_on": event.ends_on.isoformat() if event.ends_on else "",
            "region": event.region,
            "country": mission.country,
            "source_type": event.source_type,
            "reliability": event.reliability,
            "cases_linked": event.linked,
        }
        for event in rows.annotate(
            linked=Count("cases", filter=Q(cases__in=visible), distinct=True)
        ).order_by("starts_on", "pk")
    ]


def has_feed(user: User, mission: Mission) -> bool:
    return CalendarFeed.objects.filter(user=user, mission=mission, revoked_at__isnull=True).exists()
