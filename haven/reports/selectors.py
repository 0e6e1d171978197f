"""The figures behind the leadership dashboards, for one mission or many at once.

Each query groups by mission, so a headquarters viewer's page costs the same number of
queries for 200 missions as for one: ``collect`` reads raw counts once, ``dashboard`` sums
them for any set of those missions and hands them out only through ``suppression``.

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
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from haven.cases.models import OPEN_STATUSES, Action, Case, CaseStatus
from haven.core.choices import RiskLevel, Urgency
from haven.core.fields import has_code
from haven.core.models import Mission
from haven.core.vocab.mission_actions import MISSION_ACTIONS
from haven.core.vocab.work_focus import WORK_FOCUS
from haven.monitoring.models import Hearing, HearingStatus
from haven.referrals.models import Referral, ReferralStatus
from haven.reports import charts, suppression
from haven.reports.suppression import Group

if TYPE_CHECKING:
    from haven.accounts.models import User

DASHBOARD_ROLES = ("admin", "officer", "viewer")
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
    own_restricted = Case.objects.for_user(user).filter(restricted=True).values("pk")
    rows = Case.objects.filter(mission__in=list(missions)).filter(
        Q(restricted=False) | Q(pk__in=own_restricted)
    )
    if region:
        rows = rows.filter(
            Q(defender__region=region) | Q(defender__isnull=True, organisation__region=region)
        )
    return rows


def regions(user: User, missions: Iterable[Mission]) -> list[str]:
    """The regions the countable cases come from, for the filter."""
    found = (
        countable_cases(user, missions)
        .annotate(where=SUBJECT_REGION)
        .exclude(where="")
        .values_list("where", flat=True)
        .distinct()
    )
    return sorted(found)


# -- raw figures, grouped by mission ------------------------------------------------------


@dataclass
class Raw:
    """Uncounted-for-display figures: never handed to a template."""

    open_cases: Counter[tuple[int, str, str, str]] = field(default_factory=Counter)
    review: Counter[tuple[int, str]] = field(default_factory=Counter)
    responses: list[tuple[int, str, float | None, bool | None]] = field(default_factory=list)
    contacts: list[tuple[int, datetime.date | None]] = field(default_factory=list)
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
    row: Any  # each query below yields its own shape of row
    for row in open_rows.values("mission_id", "status", "urgency", "risk_level").annotate(
        n=Count("pk"),
        never=Count("pk", filter=Q(review_due_on__isnull=True)),
        overdue=Count("pk", filter=Q(review_due_on__lt=today)),
    ):
        mission_id = row["mission_id"]
        raw.open_cases[(mission_id, row["status"], row["urgency"], row["risk_level"])] += row["n"]
        raw.review[(mission_id, "never")] += row["never"]
        raw.review[(mission_id, "overdue")] += row["overdue"]
        raw.review[(mission_id, "current")] += row["n"] - row["never"] - row["overdue"]

    opened = cases.filter(opened_at__gte=start, opened_at__lt=end)
    for mission_id, urgency, opened_at, responded_at, due_at in opened.values_list(
        "mission_id", "urgency", "opened_at", "responded_at", "response_due_at"
    ):
        if responded_at is not None:
            hours = (responded_at - opened_at).total_seconds() / 3600
            raw.responses.append((mission_id, urgency, hours, responded_at <= due_at))
        elif due_at < now:
            raw.responses.append((mission_id, urgency, None, False))
        else:
            # Not answered yet, and not late yet: neither within nor outside the deadline.
            raw.responses.append((mission_id, urgency, None, None))

    raw.contacts = list(
        open_rows.filter(risk_level__in=HIGH_RISK).values_list("mission_id", "last_contact_on")
    )

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


# -- what a viewer sees -------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One chart and the table beneath it."""

    key: str
    title: str
    rows: list[tuple[str, suppression.Count]]
    total: suppression.Count | None
    note: str = ""

    @property
    def chart(self) -> charts.BarChart:
        return charts.bars(self.title, self.rows)


@dataclass(frozen=True)
class ResponseRow:
    label: str
    cases: suppression.Count
    within: suppression.Share
    median: suppression.Duration
    p90: suppression.Duration
    deadline_hours: int | None


@dataclass(frozen=True)
class Dashboard:
    missions: list[Mission]
    period: Period
    threshold: int
    open_by_status: Figure
    open_by_urgency: Figure
    open_by_risk: Figure
    responses: list[ResponseRow]
    contacted: Group
    contacted_share: suppression.Share
    no_contact_days: int | None
    review: Figure
    actions_by_type: Figure
    actions_by_month: Figure
    unused_actions: list[str]
    reach_by_region: Figure
    outside_capital: suppression.Share | None
    reach_by_focus: Figure
    hearings: Figure
    hearings_observed: suppression.Share
    referrals: Figure

    @property
    def empty(self) -> bool:
        return not self.open_by_status.total and not self.reach_by_region.total


def _figure(
    key: str,
    title: str,
    raw: dict[Any, int],
    labels: dict[Any, Any],
    threshold: int,
    *,
    total: bool = True,
    note: str = "",
) -> Figure:
    if total:
        grouped = suppression.group(raw, threshold)
        cells, shown_total = grouped.cells, grouped.total
    else:
        cells = {code: suppression.count(value, threshold) for code, value in raw.items()}
        shown_total = None
    rows = [(str(labels.get(code, code)), cells[code]) for code in raw]
    return Figure(key, title, rows, shown_total, note)


def _sum(counter: Counter[Any], missions: set[int], index: int = 1) -> dict[Any, int]:
    summed: dict[Any, int] = defaultdict(int)
    for key, value in counter.items():
        if key[0] in missions:
            summed[key[index]] += value
    return summed


def _ordered(summed: dict[Any, int], codes: Iterable[str]) -> dict[str, int]:
    return {code: summed.get(code, 0) for code in codes}


def dashboard(raw: Raw, missions: list[Mission], period: Period) -> Dashboard:
    """The dashboard of ``missions`` (one, or a headquarters total) from ``raw``."""
    ids = {mission.pk for mission in missions}
    threshold = max(mission.suppress_below for mission in missions)
    open_by = defaultdict(lambda: defaultdict(int))  # type: ignore[var-annotated]
    for (mission_id, status, urgency, risk), n in raw.open_cases.items():
        if mission_id in ids:
            open_by["status"][status] += n
            open_by["urgency"][urgency] += n
            open_by["risk"][risk] += n
    open_statuses = [status for status in CaseStatus if status in OPEN_STATUSES]
    risk_labels = dict(RiskLevel.choices) | {"": _("Not assessed yet")}

    responses = _responses(raw, ids, missions, threshold)
    contacts = _contacts(raw, missions)
    review = _ordered(_sum(raw.review, ids), ["current", "overdue", "never"])
    actions = _sum(raw.actions, ids)
    months = _sum(raw.actions, ids, index=2)
    reach = dict(sorted(_sum(raw.reach, ids).items(), key=lambda item: (-item[1], item[0])))
    hearings = _ordered(_sum(raw.hearings, ids), HearingStatus.values)
    held = hearings.get(HearingStatus.HELD, 0)
    observed = sum(raw.observed[mission_id] for mission_id in ids)
    return Dashboard(
        missions=missions,
        period=period,
        threshold=threshold,
        open_by_status=_figure(
            "status",
            _("Open cases by status"),
            _ordered(open_by["status"], open_statuses),
            dict(CaseStatus.choices),
            threshold,
        ),
        open_by_urgency=_figure(
            "urgency",
            _("Open cases by urgency"),
            _ordered(open_by["urgency"], Urgency.values),
            dict(Urgency.choices),
            threshold,
        ),
        open_by_risk=_figure(
            "risk",
            _("Open cases by risk"),
            _ordered(open_by["risk"], [*reversed(RiskLevel.values), ""]),
            risk_labels,
            threshold,
        ),
        responses=responses,
        contacted=suppression.group(contacts, threshold),
        contacted_share=suppression.share(
            contacts["contacted"], contacts["contacted"] + contacts["not_contacted"], threshold
        ),
        no_contact_days=missions[0].no_contact_days if len(missions) == 1 else None,
        review=_figure(
            "review",
            _("Open cases and their risk review"),
            review,
            {
                "current": _("Review up to date"),
                "overdue": _("Review overdue"),
                "never": _("Never assessed"),
            },
            threshold,
        ),
        actions_by_type=_figure(
            "actions",
            _("Actions taken, by type"),
            _ordered(actions, MISSION_ACTIONS.codes),
            dict(MISSION_ACTIONS.choices),
            threshold,
        ),
        actions_by_month=_figure(
            "months",
            _("Actions taken, by month"),
            {month: months.get(month, 0) for month in period.months()},
            {month: date_format(month, "M Y") for month in period.months()},
            threshold,
        ),
        unused_actions=[
            str(MISSION_ACTIONS.label(code))
            for code in MISSION_ACTIONS.codes
            if not actions.get(code)
        ],
        reach_by_region=_figure(
            "regions",
            _("Cases opened, by region"),
            reach,
            {"": _("Region not recorded")},
            threshold,
        ),
        outside_capital=_outside_capital(raw, missions, threshold),
        reach_by_focus=_figure(
            "focus",
            _("Cases opened, by the defender's work focus"),
            _ordered(_sum(raw.focus, ids), WORK_FOCUS.codes),
            dict(WORK_FOCUS.choices),
            threshold,
            total=False,
            note=_("A case counts once for each focus of the person or group concerned."),
        ),
        hearings=_figure(
            "hearings",
            _("Hearings in the period"),
            hearings,
            dict(HearingStatus.choices),
            threshold,
        ),
        hearings_observed=suppression.share(observed, held, threshold),
        referrals=_figure(
            "referrals",
            _("Referrals and their outcome"),
            _ordered(_sum(raw.referrals, ids), ReferralStatus.values),
            dict(ReferralStatus.choices),
            threshold,
        ),
    )


def _responses(
    raw: Raw, ids: set[int], missions: list[Mission], threshold: int
) -> list[ResponseRow]:
    rows = []
    single = missions[0] if len(missions) == 1 else None
    for code, label in [*Urgency.choices, ("", _("All urgencies"))]:
        mine = [row for row in raw.responses if row[0] in ids and (not code or row[1] == code)]
        hours = [row[2] for row in mine if row[2] is not None]
        judged = [row[3] for row in mine if row[3] is not None]
        rows.append(
            ResponseRow(
                label=str(label),
                cases=suppression.count(len(mine), threshold),
                within=suppression.share(sum(judged), len(judged), threshold),
                median=suppression.percentile(hours, 0.5, threshold),
                p90=suppression.percentile(hours, 0.9, threshold),
                deadline_hours=single.response_hours(code) if single and code else None,
            )
        )
    return rows


def _contacts(raw: Raw, missions: list[Mission]) -> dict[str, int]:
    """High-risk open cases contacted within each mission's own no-contact period."""
    today = timezone.localdate()
    since = {
        mission.pk: today - datetime.timedelta(days=mission.no_contact_days) for mission in missions
    }
    counts = {"contacted": 0, "not_contacted": 0}
    for mission_id, last in raw.contacts:
        if mission_id in since:
            recent = last is not None and last >= since[mission_id]
            counts["contacted" if recent else "not_contacted"] += 1
    return counts


def _outside_capital(raw: Raw, missions: list[Mission], threshold: int) -> suppression.Share | None:
    capitals = {
        mission.pk: mission.capital_region.strip().casefold()
        for mission in missions
        if mission.capital_region.strip()
    }
    if not capitals:
        return None
    outside = whole = 0
    for (mission_id, where), n in raw.reach.items():
        if mission_id in capitals and where:
            whole += n
            if where.strip().casefold() != capitals[mission_id]:
                outside += n
    return suppression.share(outside, whole, threshold)
