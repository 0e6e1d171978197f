"""Input for the annual human rights report: de-identified, suppressed, and honest about
what the mission verified.

Only cases whose defender or organisation consented to "include, without identifying them, in
reporting" are counted. Nothing here is decrypted: the figures come from plain codes and dates.
Incidents are split into those the mission confirmed and those reported to it but not
verified, under headings that say so, because an unverified allegation must never read as
fact in anything published (DOMAIN.md, safety rule 7). Perpetrators are given for confirmed
incidents only.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.cases.models import Action, Case, Incident, Verification
from haven.core.choices import Urgency
from haven.core.fields import has_code
from haven.core.models import Mission
from haven.core.vocab.mission_actions import MISSION_ACTIONS
from haven.core.vocab.threats import PERPETRATOR_TYPES, THREAT_TYPES
from haven.core.vocab.work_focus import WORK_FOCUS
from haven.monitoring.models import Hearing
from haven.referrals.models import Referral, ReferralStatus
from haven.registry.consent import in_force
from haven.registry.models import ConsentRecord
from haven.reports import suppression
from haven.reports.selectors import SUBJECT_REGION, countable_cases, with_subject

if TYPE_CHECKING:
    from haven.accounts.models import User

SCHEMA = "haven.reports.annual/1"
REPORTING_CONSENT = "deidentified_reporting"


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    columns: list[str]
    rows: list[tuple[str, list[suppression.Count]]]
    totals: list[suppression.Count]
    note: str = ""


@dataclass(frozen=True)
class AnnualReport:
    mission: Mission
    year: int
    threshold: int
    sections: list[Section]
    notes: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "mission": self.mission.name,
            "year": self.year,
            "small_counts_hidden_below": self.threshold,
            "notes": self.notes,
            "sections": [
                {
                    "key": section.key,
                    "title": section.title,
                    "note": section.note,
                    "columns": section.columns,
                    "rows": [
                        {"label": label, "values": [value.export() for value in values]}
                        for label, values in section.rows
                    ],
                    "totals": [value.export() for value in section.totals],
                }
                for section in self.sections
            ],
        }

    def as_rows(self) -> list[list[Any]]:
        """One line per figure, for the CSV file."""
        lines: list[list[Any]] = [["section", "category", "column", "value"]]
        for section in self.sections:
            for label, values in section.rows:
                for column, value in zip(section.columns, values, strict=True):
                    lines.append([section.title, label, column, value.export()])
            for column, value in zip(section.columns, section.totals, strict=False):
                lines.append([section.title, _("Total"), column, value.export()])
        return lines


def reportable_cases(user: User, mission: Mission) -> QuerySet[Case]:
    """The cases whose subject agreed to de-identified reporting, today. Restricted cases
    never: this goes to people outside every case team."""
    consents = ConsentRecord.objects.filter(in_force(), mission=mission, scope=REPORTING_CONSENT)
    return (
        countable_cases(user, [mission])
        .filter(restricted=False)
        .filter(
            Q(defender__in=consents.exclude(defender=None).values("defender"))
            | Q(
                defender__isnull=True,
                organisation__in=consents.exclude(organisation=None).values("organisation"),
            )
        )
    )


def _section(
    key: str,
    title: str,
    columns: list[str],
    raw: list[Counter[str]],
    labels: list[tuple[str, Any]],
    threshold: int,
    *,
    note: str = "",
    sums: bool = True,
) -> Section:
    """A table of ``labels`` rows by ``columns``, each column suppressed as one group."""
    grouped = [
        suppression.group({code: column[code] for code, _label in labels}, threshold)
        if sums
        else None
        for column in raw
    ]
    rows = []
    for code, label in labels:
        values = [
            group[code] if group else suppression.count(column[code], threshold)
            for group, column in zip(grouped, raw, strict=True)
        ]
        rows.append((str(label), values))
    totals = [
        group.total if group else suppression.count(sum(column.values()), threshold)
        for group, column in zip(grouped, raw, strict=True)
    ]
    return Section(key, title, columns, rows, totals if sums else [], note)


def annual_report(user: User, mission: Mission, year: int) -> AnnualReport:
    threshold = mission.suppress_below
    cases = reportable_cases(user, mission)
    zone = timezone.get_current_timezone()
    start = datetime.datetime(year, 1, 1, tzinfo=zone)
    end = datetime.datetime(year + 1, 1, 1, tzinfo=zone)
    opened = cases.filter(opened_at__gte=start, opened_at__lt=end)

    by_urgency = Counter(
        dict(opened.values("urgency").annotate(n=Count("pk")).values_list("urgency", "n"))
    )
    by_region = Counter(
        dict(
            with_subject(opened)
            .annotate(where=SUBJECT_REGION)
            .values("where")
            .annotate(n=Count("pk"))
            .values_list("where", "n")
        )
    )
    focus_counts = opened.aggregate(
        **{
            code: Count(
                "pk",
                filter=has_code("defender__work_focus", code)
                | (Q(defender__isnull=True) & has_code("organisation__work_focus", code)),
            )
            for code in WORK_FOCUS.codes
        }
    )
    incidents = Incident.objects.filter(case__in=cases, occurred_on__year=year).values_list(
        "incident_type", "perpetrator_type", "verification"
    )
    confirmed: Counter[str] = Counter()
    unverified: Counter[str] = Counter()
    perpetrators: Counter[str] = Counter()
    for threat, perpetrator, verification in incidents:
        if verification == Verification.CONFIRMED:
            confirmed[threat] += 1
            perpetrators[perpetrator] += 1
        else:
            unverified[threat] += 1
    actions = Counter(
        dict(
            Action.objects.filter(case__in=cases, created_at__gte=start, created_at__lt=end)
            .values("action_type")
            .annotate(n=Count("pk"))
            .values_list("action_type", "n")
        )
    )
    hearings = Hearing.objects.filter(case__in=cases, starts_at__gte=start, starts_at__lt=end)
    observed = Counter(
        {
            "held": hearings.filter(status="held").count(),
            "observed": hearings.filter(report__isnull=False).count(),
        }
    )
    referrals = Counter(
        dict(
            Referral.objects.filter(case__in=cases, referred_on__year=year)
            .values("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
    )
    regions = sorted(by_region, key=lambda where: (-by_region[where], where))
    one = [_("Cases")]
    sections = [
        _section(
            "urgency",
            _("Requests for support opened, by urgency"),
            one,
            [by_urgency],
            list(Urgency.choices),
            threshold,
        ),
        _section(
            "region",
            _("Requests for support opened, by region"),
            one,
            [by_region],
            [(where, where or _("Region not recorded")) for where in regions],
            threshold,
        ),
        _section(
            "focus",
            _("Requests for support opened, by the defender's work focus"),
            one,
            [Counter(focus_counts)],
            list(WORK_FOCUS.choices),
            threshold,
            note=_("A case counts once for each focus of the person or group concerned."),
            sums=False,
        ),
        _section(
            "incidents",
            _("Threats and violations recorded, by type"),
            [_("Confirmed by the mission"), _("Reported to the mission, not verified")],
            [confirmed, unverified],
            list(THREAT_TYPES.choices),
            threshold,
            note=_(
                "Only the first column may be cited as established. The second holds "
                "allegations the mission has not verified: they must not be presented as fact."
            ),
        ),
        _section(
            "perpetrators",
            _("Confirmed threats and violations, by who carried them out"),
            [_("Confirmed by the mission")],
            [perpetrators],
            list(PERPETRATOR_TYPES.choices),
            threshold,
        ),
        _section(
            "actions",
            _("Actions the mission took, by type"),
            [_("Actions")],
            [actions],
            list(MISSION_ACTIONS.choices),
            threshold,
        ),
        _section(
            "hearings",
            _("Trials observed"),
            [_("Hearings")],
            [observed],
            [("held", _("Hearings held")), ("observed", _("Hearings the mission observed"))],
            threshold,
            sums=False,
        ),
        _section(
            "referrals",
            _("Referrals to protection mechanisms, by outcome"),
            [_("Referrals")],
            [referrals],
            list(ReferralStatus.choices),
            threshold,
        ),
    ]
    notes = [
        _(
            "Counts only people and groups who agreed to be included, without being "
            "identified, in reporting."
        ),
        _("Any count from 1 to %(below)s is shown as “<%(threshold)s”.")
        % {"below": threshold - 1, "threshold": threshold},
        _("Restricted cases are not counted."),
    ]
    return AnnualReport(mission, year, threshold, sections, notes)
