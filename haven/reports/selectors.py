"""The figures behind the leadership dashboards, for one mission or many at once.

Each query groups by mission, so a headquarters viewer's page costs the same number of
queries for 200 missions as for one: ``collect`` reads raw counts once, and
``reports.dashboard`` sums them for any set of those missions and hands them out only
through ``suppression``.

What is counted: the cases a user may count. Everyone counts a mission's ordinary cases; a
restricted case counts only for its team (``Case.objects.for_user``), never for a viewer or
anyone outside it. Only plain operational columns are read: nothing is decrypted here.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Case as Choose
from django.db.models import Count, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from haven.cases.models import OPEN_STATUSES, Action, Case
from haven.core.choices import RiskLevel
from haven.core.fields import has_code
from haven.core.models import Mission
from haven.core.vocab.work_focus import WORK_FOCUS
from haven.monitoring.models import Hearing
from haven.referrals.models import Referral

if TYPE_CHECKING:
    from haven.accounts.models import User

DASHBOARD_ROLES = ("admin", "officer", "viewer")
REGION_CHOICES = 200
HIGH_RISK = [RiskLevel.HIGH, RiskLevel.CRITICAL]
# Where a case's subject is: the defender's region, or the organisation's.
SUBJECT_REGION = Coalesce(
    Choose(When(defender__isnull=False, then=F("defender__region")), default=None),
    F("organisation__region"),
    Value(""),
)


@dataclass(frozen=True)
class Period:
    """The dashboard's filters: cases opened from ``start`` to ``end`` (both mission-local
    days, inclusive), in ``region`` when one is chosen."""

    start: datetime.date
    end: datetime.date
    region: str = ""

    @classmethod
    def last_year(cls, today: datetime.date | None = None) -> Period:
        today = today or timezone.localdate()
        return cls(today - datetime.timedelta(days=364), today)

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        zone = timezone.get_current_timezone()
        start = datetime.datetime.combine(self.start, datetime.time.min, tzinfo=zone)
        end = datetime.datetime.combine(
            self.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
        )
        return start, end

    def months(self) -> list[datetime.date]:
        months, month = [], self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            month = (month + datetime.timedelta(days=32)).replace(day=1)
        return months


def dashboard_missions(user: User) -> list[Mission]:
    """The missions whose dashboards ``user`` may see, by name."""
    return list(
        Mission.objects.filter(
            memberships__user=user, memberships__role__in=DASHBOARD_ROLES
        ).order_by("name")
    )


def countable_cases(user: User, missions: Iterable[Mission], region: str = "") -> QuerySet[Case]:
    """The cases ``user`` may count in ``missions``: ordinary ones, and restricted ones only
    where they are on the team."""
    # The restricted cases the user is on the team of: worked out once per request.
    own_restricted = getattr(user, "_haven_own_restricted", None)
    if own_restricted is None:
        own_restricted = Case.objects.for_user(user).filter(restricted=True).values("pk")
        user._haven_own_restricted = own_restricted  # type: ignore[attr-defined]
    rows = Case.objects.filter(mission__in=list(missions)).filter(
        Q(restricted=False) | Q(pk__in=own_restricted)
    )
    if region:
        rows = rows.filter(
            Q(defender__region=region) | Q(defender__isnull=True, organisation__region=region)
        )
    return rows


def regions(user: User, missions: Iterable[Mission], threshold: int) -> list[str]:
    """The regions offered by the filter: those with at least ``threshold`` cases (a region
    of fewer would show nothing but "fewer than"), the busiest ``REGION_CHOICES``, by name."""
    found = (
        countable_cases(user, missions)
        .annotate(where=SUBJECT_REGION)
        .exclude(where="")
        .values("where")
        .annotate(n=Count("pk"))
        .filter(n__gte=threshold)
        .order_by("-n", "where")
        .values_list("where", flat=True)[:REGION_CHOICES]
    )
    return sorted(found)


# -- raw figures, grouped by mission ------------------------------------------------------


@dataclass
class Raw:
    """Uncounted-for-display figures: never handed to a template."""

    open_cases: Counter[tuple[int, str, str, str]] = field(default_factory=Counter)
    review: Counter[tuple[int, str]] = field(default_factory=Counter)
    # (mission, urgency) -> [(hours to the first response or None, within the deadline or None)]
    responses: defaultdict[tuple[int, str], list[tuple[float | None, bool | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    contacts: Counter[tuple[int, str]] = field(default_factory=Counter)
    actions: Counter[tuple[int, str, datetime.date]] = field(default_factory=Counter)
    reach: Counter[tuple[int, str]] = field(default_factory=Counter)
    focus: Counter[tuple[int, str]] = field(default_factory=Counter)
    opened: Counter[int] = field(default_factory=Counter)
    hearings: Counter[tuple[int, str]] = field(default_factory=Counter)
    observed: Counter[int] = field(default_factory=Counter)
    referrals: Counter[tuple[int, str]] = field(default_factory=Counter)


def collect(user: User, missions: list[Mission], period: Period) -> Raw:
    """Read every figure for ``missions`` in a fixed number of queries."""
    raw = Raw()
    cases = countable_cases(user, missions, period.region)
    start, end = period.bounds()
    now = timezone.now()
    today = timezone.localdate()

    open_rows = cases.filter(status__in=OPEN_STATUSES)
    # Contacted recently: within each mission's own no-contact period.
    recent = Q(pk__in=[])
    for mission in missions:
        since = today - datetime.timedelta(days=mission.no_contact_days)
        recent |= Q(mission_id=mission.pk, last_contact_on__gte=since)
    row: Any  # each query below yields its own shape of row
    for row in open_rows.values("mission_id", "status", "urgency", "risk_level").annotate(
        n=Count("pk"),
        never=Count("pk", filter=Q(review_due_on__isnull=True)),
        overdue=Count("pk", filter=Q(review_due_on__lt=today)),
        recent=Count("pk", filter=recent),
    ):
        mission_id = row["mission_id"]
        raw.open_cases[(mission_id, row["status"], row["urgency"], row["risk_level"])] += row["n"]
        raw.review[(mission_id, "never")] += row["never"]
        raw.review[(mission_id, "overdue")] += row["overdue"]
        raw.review[(mission_id, "current")] += row["n"] - row["never"] - row["overdue"]
        if row["risk_level"] in HIGH_RISK:
            raw.contacts[(mission_id, "contacted")] += row["recent"]
            raw.contacts[(mission_id, "not_contacted")] += row["n"] - row["recent"]

    opened = cases.filter(opened_at__gte=start, opened_at__lt=end)
    for mission_id, urgency, opened_at, responded_at, due_at in opened.values_list(
        "mission_id", "urgency", "opened_at", "responded_at", "response_due_at"
    ):
        if responded_at is not None:
            hours = (responded_at - opened_at).total_seconds() / 3600
            raw.responses[(mission_id, urgency)].append((hours, responded_at <= due_at))
        elif due_at < now:
            raw.responses[(mission_id, urgency)].append((None, False))
        else:
            # Not answered yet, and not late yet: neither within nor outside the deadline.
            raw.responses[(mission_id, urgency)].append((None, None))

    for row in (
        Action.objects.filter(case__in=cases, created_at__gte=start, created_at__lt=end)
        .annotate(month=TruncMonth("created_at"))
        .values("mission_id", "action_type", "month")
        .annotate(n=Count("pk"))
    ):
        month = row["month"]
        month = month.date() if isinstance(month, datetime.datetime) else month
        raw.actions[(row["mission_id"], row["action_type"], month)] += row["n"]

    for row in (
        opened.annotate(where=SUBJECT_REGION).values("mission_id", "where").annotate(n=Count("pk"))
    ):
        raw.reach[(row["mission_id"], row["where"])] += row["n"]
        raw.opened[row["mission_id"]] += row["n"]

    by_focus = {
        code: Count(
            "pk",
            filter=has_code("defender__work_focus", code)
            | (Q(defender__isnull=True) & has_code("organisation__work_focus", code)),
        )
        for code in WORK_FOCUS.codes
    }
    for row in opened.values("mission_id").annotate(**by_focus):
        for code in WORK_FOCUS.codes:
            raw.focus[(row["mission_id"], code)] += row[code]

    hearings = Hearing.objects.filter(case__in=cases, starts_at__gte=start, starts_at__lt=end)
    for row in hearings.values("mission_id", "status").annotate(
        n=Count("pk"), observed=Count("report")
    ):
        raw.hearings[(row["mission_id"], row["status"])] += row["n"]
        raw.observed[row["mission_id"]] += row["observed"]

    for row in (
        Referral.objects.filter(
            case__in=cases, referred_on__gte=period.start, referred_on__lte=period.end
        )
        .values("mission_id", "status")
        .annotate(n=Count("pk"))
    ):
        raw.referrals[(row["mission_id"], row["status"])] += row["n"]
    return raw
