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
import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case as Choose
from django.db.models import (
    CharField,
    Count,
    F,
    FilteredRelation,
    FloatField,
    Func,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Round
from django.db.models.lookups import LessThan
from django.utils import timezone

from haven.cases.models import OPEN_STATUSES, Action, Case
from haven.core.choices import RiskLevel
from haven.core.models import Mission
from haven.core.vocab.work_focus import WORK_FOCUS
from haven.monitoring.models import Hearing
from haven.referrals.models import Referral

if TYPE_CHECKING:
    from haven.accounts.models import User

T = TypeVar("T")
DASHBOARD_ROLES = ("admin", "officer", "viewer")
REGION_CHOICES = 200
HIGH_RISK = [RiskLevel.HIGH, RiskLevel.CRITICAL]


def with_subject(rows: QuerySet[Case]) -> QuerySet[Case]:
    """Cases joined to their defender or organisation, in the case's own mission (services
    refuse any other). With the mission in the join the database reads one mission's subjects
    through its index: joined on the key alone, PostgreSQL hashed all 20,000 organisations
    of 200 missions to count one mission's cases, and read by key one row at a time, it took
    four times as long for all 200 missions."""
    return rows.annotate(
        subject_defender=FilteredRelation("defender", condition=Q(defender__mission=F("mission"))),
        subject_organisation=FilteredRelation(
            "organisation", condition=Q(organisation__mission=F("mission"))
        ),
    )


def _subject_column(column: str) -> Coalesce:
    """A case's subject's ``column`` as plain text, on rows from ``with_subject``: its
    defender's, else its organisation's (a case has one or the other)."""
    return Coalesce(
        Choose(When(defender__isnull=False, then=F(f"subject_defender__{column}")), default=None),
        F(f"subject_organisation__{column}"),
        Value(""),
        output_field=CharField(),
    )


# Where a case's subject is, and what it works on (the codes as stored: ",land,environment,").
SUBJECT_REGION = _subject_column("region")
SUBJECT_FOCUS = _subject_column("work_focus")


class HoursBetween(Func):
    """Hours from the second datetime column to the first, computed by the database (the
    dashboard would otherwise turn two datetimes per request into Python objects)."""

    output_field = FloatField()
    arity = 2
    arg_joiner = " - "
    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 3600.0)"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 24.0)",
            arg_joiner=") - julianday(",
            **extra,
        )


# Response times are read rounded as the dashboard shows them: to a tenth of an hour below
# two days, to a tenth of a day above.
RESPONSE_HOURS = HoursBetween("responded_at", "opened_at")
SHOWN_HOURS = Choose(
    When(LessThan(RESPONSE_HOURS, 48), then=Round(RESPONSE_HOURS * 10) / 10),
    default=Round(RESPONSE_HOURS / 2.4) * 2.4,
    output_field=FloatField(),
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

    def month_bounds(self) -> list[tuple[datetime.datetime, datetime.datetime]]:
        """Each of ``months`` as the instants it starts and ends, in the current time zone."""
        zone = timezone.get_current_timezone()
        starts = [
            datetime.datetime.combine(month, datetime.time.min, tzinfo=zone)
            for month in self.months()
        ]
        ends = [*starts[1:], self.bounds()[1]]
        return list(zip(starts, ends, strict=True))

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


def remembered(
    user: User, missions: Iterable[Mission], what: str, compute: Callable[[], T]
) -> tuple[T, datetime.datetime]:
    """``compute()`` and when it was computed, kept for ``HAVEN_DASHBOARD_CACHE_SECONDS``
    for this user, these missions and ``what`` (the filters). Only figures are kept (counts
    with their labels, regions and mission names), never a person's name or a note, and only
    in the cache of the process."""
    seconds = settings.HAVEN_DASHBOARD_CACHE_SECONDS
    if not seconds:
        return compute(), timezone.now()
    scope = repr((user.pk, sorted(mission.pk for mission in missions), what))
    key = "haven:dashboard:" + hashlib.sha256(scope.encode()).hexdigest()
    found: tuple[T, datetime.datetime] | None = cache.get(key)
    if found is None:
        found = (compute(), timezone.now())
        cache.set(key, found, seconds)
    return found


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
        with_subject(countable_cases(user, missions))
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
    """Uncounted-for-display figures: never handed to a template. Every key starts with the
    mission's id, so ``by_mission`` can split them."""

    open_cases: Counter[tuple[int, str, str, str]] = field(default_factory=Counter)
    review: Counter[tuple[int, str]] = field(default_factory=Counter)
    # Requests opened in the period by (mission, urgency); those whose response can be judged
    # (answered, or unanswered past the deadline); those answered within it.
    requests: Counter[tuple[int, str]] = field(default_factory=Counter)
    judged: Counter[tuple[int, str]] = field(default_factory=Counter)
    within: Counter[tuple[int, str]] = field(default_factory=Counter)
    # (mission, urgency, hours to the first response as shown) -> requests answered so.
    response_hours: Counter[tuple[int, str, float]] = field(default_factory=Counter)
    contacts: Counter[tuple[int, str]] = field(default_factory=Counter)
    actions: Counter[tuple[int, str, datetime.date]] = field(default_factory=Counter)
    reach: Counter[tuple[int, str]] = field(default_factory=Counter)
    focus: Counter[tuple[int, str]] = field(default_factory=Counter)
    opened: Counter[int] = field(default_factory=Counter)
    hearings: Counter[tuple[int, str]] = field(default_factory=Counter)
    observed: Counter[int] = field(default_factory=Counter)
    referrals: Counter[tuple[int, str]] = field(default_factory=Counter)

    def by_mission(self) -> defaultdict[int, Raw]:
        """The same figures, one ``Raw`` per mission: a headquarters page reads each
        mission's few rows instead of every mission's rows once per mission."""
        parts: defaultdict[int, Raw] = defaultdict(Raw)
        for each in fields(self):
            counter: Counter[Any] = getattr(self, each.name)
            for key, value in counter.items():
                mission_id = key[0] if isinstance(key, tuple) else key
                getattr(parts[mission_id], each.name)[key] = value
        return parts


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
    for row in (
        opened.annotate(hours=SHOWN_HOURS)
        .values("mission_id", "urgency", "hours")
        .annotate(
            n=Count("pk"),
            within=Count("pk", filter=Q(responded_at__lte=F("response_due_at"))),
            # Not answered and the deadline passed: late. Not answered yet and not late yet:
            # neither within nor outside the deadline.
            late=Count("pk", filter=Q(responded_at__isnull=True, response_due_at__lt=now)),
        )
    ):
        key = (row["mission_id"], row["urgency"])
        raw.requests[key] += row["n"]
        raw.within[key] += row["within"]
        if row["hours"] is None:
            raw.judged[key] += row["late"]
        else:
            raw.judged[key] += row["n"]
            raw.response_hours[(*key, row["hours"])] += row["n"]

    # By month: a count per month's bounds, so the database compares columns instead of
    # truncating every action's date.
    months = period.months()
    by_month = {
        f"m{index}": Count("pk", filter=Q(created_at__gte=since, created_at__lt=until))
        for index, (since, until) in enumerate(period.month_bounds())
    }
    for row in (
        Action.objects.filter(case__in=cases, created_at__gte=start, created_at__lt=end)
        .values("mission_id", "action_type")
        .annotate(**by_month)
    ):
        for index, month in enumerate(months):
            if row[f"m{index}"]:
                raw.actions[(row["mission_id"], row["action_type"], month)] += row[f"m{index}"]

    for row in (
        with_subject(opened)
        .annotate(where=SUBJECT_REGION)
        .values("mission_id", "where")
        .annotate(n=Count("pk"))
    ):
        raw.reach[(row["mission_id"], row["where"])] += row["n"]
        raw.opened[row["mission_id"]] += row["n"]

    # Grouped by the whole list of codes, which subjects share far more often than not; a
    # case counts once for each code in its list.
    known = set(WORK_FOCUS.codes)
    for row in (
        with_subject(opened)
        .annotate(focus=SUBJECT_FOCUS)
        .values("mission_id", "focus")
        .annotate(n=Count("pk"))
    ):
        for code in row["focus"].split(","):
            if code in known:
                raw.focus[(row["mission_id"], code)] += row["n"]

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
