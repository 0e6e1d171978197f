"""Every write of trial and detention monitoring and of the civic-space register.

As in cases: each service names its actor, validates (``ValidationError`` by field), refuses a
broken rule with ``MonitoringError``, writes in one transaction and audits field names only.
Rules kept here: a postponed hearing keeps its history (the new date is a new hearing linked
to the old); a detention raises the case to at least high risk; a feed never names a defender
who chose to be discreet or anonymous.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import User
from haven.audit.services import record
from haven.cases import services as cases
from haven.cases.models import Case, Reliability, SourceType
from haven.core.models import Mission
from haven.core.vocab.fair_trial import FAIR_TRIAL
from haven.crypto.commits import keys_first
from haven.crypto.datakeys import new_data_key
from haven.crypto.digests import random_token, token_digest
from haven.monitoring.models import (
    Access,
    Assessment,
    CalendarFeed,
    CivicEvent,
    CivicEventKind,
    CounselStatus,
    Detention,
    DetentionVisit,
    Hearing,
    HearingStatus,
    ObservationReport,
    Tribunal,
    VisitStatus,
)
from haven.registry.models import Defender

TEXT_LIMITS = {
    "court": 500,
    "partner_observers": 2000,
    "summary": 20000,
    "notes": 5000,
    "place": 1000,
    "health_concerns": 5000,
    "outcome": 10000,
    "title": 200,
    "description": 20000,
}
# A case whose hearings were postponed this many times shows the pattern.
POSTPONEMENT_PATTERN = 2


class MonitoringError(Exception):
    """A monitoring rule refused the change; the message says why and what to do."""


def _text(name: str, value: str, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({name: _("This is needed.")})
    if len(value) > TEXT_LIMITS[name]:
        raise ValidationError(
            {
                name: _("This is too long: at most %(limit)d characters.")
                % {"limit": TEXT_LIMITS[name]}
            }
        )
    return value


def _choice(name: str, value: str, allowed: Iterable[str]) -> str:
    if value not in set(allowed):
        raise ValidationError({name: _("Choose one of the options in the list.")})
    return value


def _open_case(case: Case) -> None:
    if not case.is_open:
        raise MonitoringError(_("This case is closed. Reopen it first."))


def _row(model: type[Any], case: Case, actor: User, **values: Any) -> Any:
    return model.objects.create(
        mission_id=case.mission_id,
        case=case,
        data_key_id=case.data_key_id,
        recorded_by=actor,
        **values,
    )


def _audit(
    case: Case, action: str, actor: User | None, fields: Iterable[str], **extra: Any
) -> None:
    record(
        action=action,
        actor=actor,
        mission=case.mission_id,
        obj=case,
        fields=sorted(fields),
        **extra,
    )


def _observers(case: Case, observers: Sequence[User]) -> list[User]:
    return [cases.caseworker(case.mission_id, user, "observers") for user in observers]


# -- hearings


def schedule_hearing(
    *,
    case: Case,
    actor: User,
    court: str,
    starts_at: datetime.datetime,
    tribunal: str = Tribunal.CIVILIAN,
    observers: Sequence[User] = (),
    partner_observers: str = "",
    postponed_from: Hearing | None = None,
) -> Hearing:
    """Put a hearing on the case's calendar, with the mission's observers and partners'."""
    _open_case(case)
    court = _text("court", court, required=True)
    partner_observers = _text("partner_observers", partner_observers)
    _choice("tribunal", tribunal, Tribunal.values)
    if timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": _("Give the time with its time zone.")})
    chosen = _observers(case, observers)
    with transaction.atomic():
        hearing = _row(
            Hearing,
            case,
            actor,
            court=court,
            tribunal=tribunal,
            starts_at=starts_at,
            partner_observers=partner_observers,
            postponed_from=postponed_from,
        )
        hearing.observers.set(chosen)
        _audit(case, "monitoring.hearing_scheduled", actor, ["hearings"])
    return hearing


def postpone_hearing(
    *, hearing: Hearing, actor: User, new_start: datetime.datetime | None
) -> Hearing | None:
    """The court postponed it: this hearing is marked postponed and, when the new date is
    known, a new hearing takes it with the same court and observers."""
    if hearing.status != HearingStatus.SCHEDULED:
        raise MonitoringError(_("Only a scheduled hearing can be postponed."))
    with transaction.atomic():
        hearing.status = HearingStatus.POSTPONED
        hearing.save(update_fields=["status"])
        _audit(hearing.case, "monitoring.hearing_postponed", actor, ["hearing.status"])
        if new_start is None:
            return None
        return schedule_hearing(
            case=hearing.case,
            actor=actor,
            court=hearing.court,
            starts_at=new_start,
            tribunal=hearing.tribunal,
            observers=list(hearing.observers.all()),
            partner_observers=hearing.partner_observers,
            postponed_from=hearing,
        )


def set_hearing_status(*, hearing: Hearing, actor: User, status: str) -> Hearing:
    """Mark a scheduled hearing held or cancelled (postponing has its own service)."""
    _choice("status", status, [HearingStatus.HELD, HearingStatus.CANCELLED])
    if hearing.status != HearingStatus.SCHEDULED:
        raise MonitoringError(_("This hearing is no longer scheduled."))
    if status == HearingStatus.HELD and hearing.starts_at > timezone.now():
        raise MonitoringError(_("This hearing has not happened yet."))
    with transaction.atomic():
        hearing.status = status
        hearing.save(update_fields=["status"])
        _audit(hearing.case, "monitoring.hearing_changed", actor, ["hearing.status"], reason=status)
    return hearing


def postponements(case: Case) -> int:
    return Hearing.objects.filter(case=case, status=HearingStatus.POSTPONED).count()


def clean_checklist(checklist: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """The checklist as stored: every item of ``FAIR_TRIAL`` with an assessment and notes."""
    unknown = set(checklist) - set(FAIR_TRIAL.codes)
    if unknown:
        raise ValidationError(
            {
                "checklist": _("Unknown checklist items: %(items)s.")
                % {"items": ", ".join(sorted(unknown))}
            }
        )
    cleaned = {}
    for code in FAIR_TRIAL.codes:
        entry = checklist.get(code, {})
        assessment = entry.get("assessment", Assessment.NOT_OBSERVABLE)
        _choice(f"checklist.{code}", assessment, Assessment.values)
        notes = str(entry.get("notes", "")).strip()
        if len(notes) > TEXT_LIMITS["notes"]:
            raise ValidationError({f"checklist.{code}": _("These notes are too long.")})
        cleaned[code] = {"assessment": assessment, "notes": notes}
    return cleaned


def record_observation(
    *,
    hearing: Hearing,
    actor: User,
    summary: str,
    access: str,
    authorities_informed: bool,
    checklist: Mapping[str, Mapping[str, str]],
) -> ObservationReport:
    """The observer's report; the hearing counts as held. Writing it again replaces it."""
    if hearing.status in {HearingStatus.POSTPONED, HearingStatus.CANCELLED}:
        raise MonitoringError(_("This hearing did not take place: there is nothing to report."))
    if hearing.starts_at > timezone.now():
        raise MonitoringError(_("This hearing has not happened yet."))
    summary = _text("summary", summary, required=True)
    _choice("access", access, Access.values)
    cleaned = clean_checklist(checklist)
    with transaction.atomic():
        report = ObservationReport.objects.filter(hearing=hearing).first()
        if report is None:
            report = _row(
                ObservationReport,
                hearing.case,
                actor,
                hearing=hearing,
                summary=summary,
                access=access,
                authorities_informed=authorities_informed,
                checklist=cleaned,
            )
        else:
            report.summary, report.access, report.checklist = summary, access, cleaned
            report.authorities_informed = authorities_informed
            report.save()
        if hearing.status != HearingStatus.HELD:
            hearing.status = HearingStatus.HELD
            hearing.save(update_fields=["status"])
        _audit(
            hearing.case,
            "monitoring.observation_recorded",
            actor,
            ["observation_report", "hearing.status"],
        )
    return report


# -- detention


def record_detention(
    *,
    case: Case,
    actor: User,
    defender: Defender,
    detained_on: datetime.date,
    acknowledged: bool,
    location_disclosed: bool,
    place: str = "",
    family_contact: bool = False,
    lawyer_contact: bool = False,
    humanitarian_contact: bool = False,
    rights_groups_contact: bool = False,
    counsel: str = CounselStatus.NONE,
    health_concerns: str = "",
) -> Detention:
    """Record that a defender is detained; the case goes to at least high risk (a change of
    liberty is one of the gravest signs) and shows on its timeline."""
    _open_case(case)
    if defender.mission_id != case.mission_id:
        raise MonitoringError(_("The defender must belong to the same mission."))
    if detained_on > timezone.localdate():
        raise ValidationError({"detained_on": _("This date is in the future.")})
    _choice("counsel", counsel, CounselStatus.values)
    with transaction.atomic():
        detention = _row(
            Detention,
            case,
            actor,
            defender=defender,
            detained_on=detained_on,
            acknowledged=acknowledged,
            location_disclosed=location_disclosed,
            place=_text("place", place),
            family_contact=family_contact,
            lawyer_contact=lawyer_contact,
            humanitarian_contact=humanitarian_contact,
            rights_groups_contact=rights_groups_contact,
            counsel=counsel,
            health_concerns=_text("health_concerns", health_concerns),
        )
        _audit(case, "monitoring.detention_recorded", actor, ["detentions"])
        cases.raise_risk(case, actor, reason="detention")
    return detention


DETENTION_FIELDS = (
    "place",
    "acknowledged",
    "location_disclosed",
    "family_contact",
    "lawyer_contact",
    "humanitarian_contact",
    "rights_groups_contact",
    "counsel",
    "health_concerns",
    "released_on",
)


def update_detention(*, detention: Detention, actor: User, changes: Mapping[str, Any]) -> list[str]:
    """What is known changes: conditions, counsel, release."""
    unknown = set(changes) - set(DETENTION_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    values = dict(changes)
    for name in ("place", "health_concerns"):
        if name in values:
            values[name] = _text(name, values[name])
    if "counsel" in values:
        _choice("counsel", values["counsel"], CounselStatus.values)
    released = values.get("released_on")
    if released is not None and (
        released < detention.detained_on or released > timezone.localdate()
    ):
        raise ValidationError(
            {"released_on": _("The release date must be between the detention and today.")}
        )
    changed = [name for name, value in values.items() if getattr(detention, name) != value]
    if changed:
        with transaction.atomic():
            for name in changed:
                setattr(detention, name, values[name])
            detention.save(update_fields=changed)
            _audit(
                detention.case,
                "monitoring.detention_changed",
                actor,
                [f"detention.{name}" for name in changed],
            )
    return changed


def request_visit(
    *,
    detention: Detention,
    actor: User,
    requested_on: datetime.date,
    visit_on: datetime.date | None = None,
) -> DetentionVisit:
    if requested_on > timezone.localdate():
        raise ValidationError({"requested_on": _("This date is in the future.")})
    with transaction.atomic():
        visit = _row(
            DetentionVisit,
            detention.case,
            actor,
            detention=detention,
            requested_on=requested_on,
            visit_on=visit_on,
        )
        _audit(detention.case, "monitoring.visit_requested", actor, ["visits"])
    return visit


def update_visit(
    *,
    visit: DetentionVisit,
    actor: User,
    status: str,
    visit_on: datetime.date | None = None,
    outcome: str = "",
) -> DetentionVisit:
    _choice("status", status, VisitStatus.values)
    outcome = _text("outcome", outcome)
    if status == VisitStatus.HELD and visit_on is None and visit.visit_on is None:
        raise ValidationError({"visit_on": _("Give the date of the visit.")})
    with transaction.atomic():
        visit.status, visit.outcome = status, outcome
        if visit_on is not None:
            visit.visit_on = visit_on
        visit.save(update_fields=["status", "outcome", "visit_on"])
        _audit(visit.case, "monitoring.visit_changed", actor, ["visit.status", "visit.outcome"])
    return visit


# -- civic space


def record_civic_event(
    *,
    mission: Mission,
    actor: User,
    kind: str,
    title: str,
    starts_on: datetime.date,
    source_type: str,
    ends_on: datetime.date | None = None,
    region: str = "",
    reliability: str = Reliability.UNKNOWN,
    description: str = "",
    cases_linked: Sequence[Case] = (),
    defenders: Sequence[Defender] = (),
) -> CivicEvent:
    """Register a restriction of civic space or a reprisal, with the cases it touches."""
    _choice("kind", kind, CivicEventKind.values)
    _choice("source_type", source_type, SourceType.values)
    _choice("reliability", reliability, Reliability.values)
    title = _text("title", title, required=True)
    description = _text("description", description)
    region = " ".join(region.split())[:100]
    if starts_on > timezone.localdate():
        raise ValidationError({"starts_on": _("This date is in the future.")})
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": _("The end is before the start.")})
    if any(row.mission_id != mission.pk for row in [*cases_linked, *defenders]):
        raise MonitoringError(_("Everything linked must belong to the same mission."))
    with keys_first():
        event = CivicEvent(
            mission=mission,
            kind=kind,
            title=title,
            description=description,
            starts_on=starts_on,
            ends_on=ends_on,
            region=region,
            source_type=source_type,
            reliability=reliability,
            recorded_by=actor,
        )
        event.data_key = new_data_key()
        event.save()
        event.cases.set(cases_linked)
        event.defenders.set(defenders)
        record(
            action="monitoring.civic_event_recorded",
            actor=actor,
            mission=mission,
            obj=event,
            fields=["kind", "title", "starts_on", "region"]
            + (["description"] if description else []),
        )
    return event


# -- the personal hearings feed


def create_feed(*, user: User, mission: Mission) -> str:
    """A new secret feed address for ``user``; any earlier one stops working. Returns the
    secret (shown once, in the address)."""
    secret = random_token()
    with transaction.atomic():
        CalendarFeed.objects.filter(user=user, mission=mission, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        feed = CalendarFeed.objects.create(user=user, mission=mission, digest=token_digest(secret))
        record(action="monitoring.feed_created", actor=user, mission=mission, obj=feed)
    return secret


def revoke_feed(*, user: User, mission: Mission) -> int:
    with transaction.atomic():
        count = CalendarFeed.objects.filter(
            user=user, mission=mission, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if count:
            record(
                action="monitoring.feed_revoked",
                actor=user,
                mission=mission,
                object_type="monitoring.calendarfeed",
            )
    return count


def feed_for(secret: str) -> CalendarFeed | None:
    return (
        CalendarFeed.objects.filter(digest=token_digest(secret), revoked_at__isnull=True)
        .select_related("user", "mission")
        .first()
    )


def record_export(*, actor: User, mission: Mission, rows: int, fmt: str) -> None:
    """The reprisal register left the workspace: who, when, how many rows (no content)."""
    record(
        action="monitoring.register_exported",
        actor=actor,
        mission=mission,
        object_type="monitoring.civicevent",
        reason=f"{rows} rows, {fmt}",
    )
