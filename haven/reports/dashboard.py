"""The dashboard a viewer reads, assembled from ``selectors.collect``'s raw figures.

``dashboard`` sums the raw figures of any set of missions (one, or a headquarters total) and
hands every number out only through ``suppression``: nothing raw reaches a template.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from haven.cases.models import OPEN_STATUSES, CaseStatus
from haven.core.choices import RiskLevel, Urgency
from haven.core.models import Mission
from haven.core.vocab.mission_actions import MISSION_ACTIONS
from haven.core.vocab.work_focus import WORK_FOCUS
from haven.monitoring.models import HearingStatus
from haven.referrals.models import ReferralStatus
from haven.reports import charts, suppression
from haven.reports.selectors import Period, Raw
from haven.reports.suppression import Group

TOP_REGIONS = 12
OTHER_REGIONS = "\x00other"  # a key no region typed by a person can equal


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
class Headline:
    """One mission's line on the headquarters page: the few figures of its dashboard that
    the page shows, worked out alone (assembling two hundred whole dashboards to show eight
    figures of each would be most of the page's time)."""

    mission: Mission
    open_cases: suppression.Count
    responses: ResponseRow
    contacted_share: suppression.Share
    review_overdue: suppression.Count
    review_never: suppression.Count
    hearings_observed: suppression.Share


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
    review = _review(raw, ids)
    actions = _sum(raw.actions, ids)
    months = _sum(raw.actions, ids, index=2)
    reach = _top_regions(_sum(raw.reach, ids))
    hearings = _ordered(_sum(raw.hearings, ids), HearingStatus.values)
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
        contacted_share=_contacted_share(contacts, threshold),
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
            {"": _("Region not recorded"), OTHER_REGIONS: _("All other regions")},
            threshold,
            note=_("The %(top)s regions with most requests; choose a region to see it alone.")
            % {"top": TOP_REGIONS},
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
        hearings_observed=_observed(raw, ids, hearings, threshold),
        referrals=_figure(
            "referrals",
            _("Referrals and their outcome"),
            _ordered(_sum(raw.referrals, ids), ReferralStatus.values),
            dict(ReferralStatus.choices),
            threshold,
        ),
    )


def headline(raw: Raw, mission: Mission) -> Headline:
    """``mission``'s line of the headquarters page, suppressed as its dashboard is."""
    ids, threshold = {mission.pk}, mission.suppress_below
    review = suppression.group(_review(raw, ids), threshold)
    return Headline(
        mission=mission,
        open_cases=suppression.count(
            sum(n for key, n in raw.open_cases.items() if key[0] == mission.pk), threshold
        ),
        responses=_response_row(raw, ids, "", str(_("All urgencies")), threshold, mission),
        contacted_share=_contacted_share(_contacts(raw, [mission]), threshold),
        review_overdue=review["overdue"],
        review_never=review["never"],
        hearings_observed=_observed(
            raw, ids, _ordered(_sum(raw.hearings, ids), HearingStatus.values), threshold
        ),
    )


def _review(raw: Raw, ids: set[int]) -> dict[str, int]:
    return _ordered(_sum(raw.review, ids), ["current", "overdue", "never"])


def _contacted_share(contacts: dict[str, int], threshold: int) -> suppression.Share:
    whole = contacts["contacted"] + contacts["not_contacted"]
    return suppression.share(contacts["contacted"], whole, threshold)


def _observed(
    raw: Raw, ids: set[int], hearings: dict[str, int], threshold: int
) -> suppression.Share:
    """Hearings observed out of those held."""
    observed = sum(raw.observed[mission_id] for mission_id in ids)
    return suppression.share(observed, hearings.get(HearingStatus.HELD, 0), threshold)


def _top_regions(reach: dict[str, int]) -> dict[str, int]:
    """The regions with most requests, the rest summed: a chart of a thousand bars helps no
    one, and a headquarters page would carry them all."""
    ranked = sorted(reach.items(), key=lambda item: (-item[1], item[0]))
    top = dict(ranked[:TOP_REGIONS])
    rest = sum(n for _where, n in ranked[TOP_REGIONS:])
    if rest:
        top[OTHER_REGIONS] = rest
    return top


def _responses(
    raw: Raw, ids: set[int], missions: list[Mission], threshold: int
) -> list[ResponseRow]:
    rows = []
    single = missions[0] if len(missions) == 1 else None
    for code, label in [*Urgency.choices, ("", _("All urgencies"))]:
        rows.append(_response_row(raw, ids, code, str(label), threshold, single))
    return rows


def _response_row(
    raw: Raw,
    ids: set[int],
    code: str,
    label: str,
    threshold: int,
    single: Mission | None = None,
) -> ResponseRow:
    """First responses to the requests of urgency ``code`` (every urgency when empty)."""

    def mine(key: tuple[Any, ...]) -> bool:
        return key[0] in ids and (not code or key[1] == code)

    requests = sum(n for key, n in raw.requests.items() if mine(key))
    judged = sum(n for key, n in raw.judged.items() if mine(key))
    within = sum(n for key, n in raw.within.items() if mine(key))
    hours: Counter[float] = Counter()
    for key, n in raw.response_hours.items():
        if mine(key):
            hours[key[2]] += n
    return ResponseRow(
        label=label,
        cases=suppression.count(requests, threshold),
        within=suppression.share(within, judged, threshold),
        median=suppression.percentile(hours, 0.5, threshold),
        p90=suppression.percentile(hours, 0.9, threshold),
        deadline_hours=single.response_hours(code) if single and code else None,
    )


def _contacts(raw: Raw, missions: list[Mission]) -> dict[str, int]:
    """High-risk open cases contacted within each mission's own no-contact period."""
    ids = {mission.pk for mission in missions}
    return _ordered(_sum(raw.contacts, ids), ["contacted", "not_contacted"])


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
