"""Every write to a case: opening, moving it through its lifecycle, the threat log, risk
assessments, actions behind the consent gate, follow-ups, notes, team and handover.

Each service names its actor, validates (``ValidationError`` keyed by field, for forms and the
API), refuses what breaks a rule with ``CaseError`` (a sentence a person can act on), writes in
one transaction and records an audit event with the names of the fields it touched, never
their values. The rules of DOMAIN.md live here: a specific threat raises the risk; high risk
needs a second officer; an action that shows or names the defender needs their consent and a
reprisal check; withdrawn consent puts such actions on hold.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import Membership, User
from haven.audit.services import record
from haven.cases.models import (
    AWAITING_RESPONSE,
    PENDING_ACTIONS,
    Action,
    ActionStatus,
    Case,
    CaseMember,
    CaseStatus,
    ClosureReason,
    ContactMethod,
    FollowUp,
    Handover,
    HostResponse,
    Incident,
    Involvement,
    Note,
    Notice,
    NoticeKind,
    Reliability,
    RiskAssessment,
    SourceType,
    StatusChange,
    Verification,
)
from haven.core.choices import RiskLevel, Urgency
from haven.core.fields import has_code
from haven.core.models import CASEWORK_ROLES, Mission
from haven.core.vocab.consent_scopes import CONSENT_SCOPES
from haven.core.vocab.mission_actions import MISSION_ACTIONS
from haven.core.vocab.sections import SECTIONS
from haven.core.vocab.threats import PERPETRATOR_TYPES, THREAT_TYPES
from haven.crypto.commits import keys_first
from haven.crypto.datakeys import new_data_key
from haven.intake import services as intake
from haven.intake.models import Submission, SubmissionStatus
from haven.registry import consent
from haven.registry.models import Defender, Organisation


class CaseError(Exception):
    """A case rule refused the change; the message says why and what to do."""


S = CaseStatus
# Where a case may go next from each state (closing is allowed from every open state;
# reopening a closed case is ``reopen_case``). Recording an assessment, planning or starting
# an action also moves an early case forward by itself.
TRANSITIONS: dict[str, list[str]] = {
    S.RECEIVED: [S.SCREENING, S.CLOSED],
    S.SCREENING: [S.VERIFYING, S.CLOSED],
    S.VERIFYING: [S.SCREENING, S.RISK_ASSESSED, S.CLOSED],
    S.RISK_ASSESSED: [S.VERIFYING, S.ACTION_PLANNED, S.CLOSED],
    S.ACTION_PLANNED: [S.RISK_ASSESSED, S.ACTIVE, S.CLOSED],
    S.ACTIVE: [S.MONITORING, S.DORMANT, S.CLOSED],
    S.MONITORING: [S.ACTIVE, S.DORMANT, S.CLOSED],
    S.DORMANT: [S.ACTIVE, S.MONITORING, S.CLOSED],
    S.CLOSED: [],
}
HIGH_RISKS = frozenset({RiskLevel.HIGH, RiskLevel.CRITICAL})
RISK_ORDER = ["", *RiskLevel.values]
# How soon a risk review falls due by default, by level; a specific threat asks for one
# within a week at most.
REVIEW_AFTER_DAYS = {"critical": 7, "high": 14, "medium": 30, "low": 90}
SPECIFIC_THREAT_REVIEW_DAYS = 7
TEXT_LIMITS = {
    "title": 200,
    "summary": 20000,
    "place": 1000,
    "description": 20000,
    "rationale": 10000,
    "details": 10000,
    "reprisal_check": 5000,
    "outcome": 10000,
    "note": 20000,
    "text": 20000,
    "item": 500,
}
MAX_LIST_ITEMS = 40


# -- checks shared by the services


def _text(name: str, value: str, *, required: bool = False) -> str:
    value = (value or "").strip()
    limit = TEXT_LIMITS.get(name, TEXT_LIMITS["text"])
    if required and not value:
        raise ValidationError({name: _("This is needed.")})
    if len(value) > limit:
        raise ValidationError(
            {name: _("This is too long: at most %(limit)d characters.") % {"limit": limit}}
        )
    return value


def _choice(name: str, value: str, allowed: Iterable[str], *, blank: bool = False) -> str:
    if (blank and value == "") or value in set(allowed):
        return value
    raise ValidationError({name: _("Choose one of the options in the list.")})


def _code(name: str, value: str, vocabulary: Any) -> str:
    try:
        vocabulary.validate(value)
    except ValidationError as error:
        raise ValidationError({name: error.messages}) from None
    return value


def _not_future(name: str, day: datetime.date) -> datetime.date:
    if day > timezone.localdate():
        raise ValidationError({name: _("This date is in the future.")})
    return day


def _items(name: str, values: Sequence[str]) -> list[str]:
    """A structured list (threats, vulnerabilities, capacities): trimmed, empty lines dropped."""
    items = [str(value).strip() for value in values if str(value).strip()]
    if len(items) > MAX_LIST_ITEMS:
        raise ValidationError(
            {name: _("At most %(count)d entries, please.") % {"count": MAX_LIST_ITEMS}}
        )
    for item in items:
        if len(item) > TEXT_LIMITS["item"]:
            raise ValidationError(
                {
                    name: _("Each entry may have at most %(limit)d characters.")
                    % {"limit": TEXT_LIMITS["item"]}
                }
            )
    return items


def caseworker(mission: Mission | int, user: User | None, field: str) -> User:
    """``user``, checked to be an admin or officer of ``mission`` (owners, second officers,
    team members and action owners must be)."""
    mission_id = mission if isinstance(mission, int) else mission.pk
    if (
        user is None
        or not Membership.objects.filter(
            user=user, mission_id=mission_id, role__in=CASEWORK_ROLES, user__is_active=True
        ).exists()
    ):
        raise ValidationError({field: _("Choose an officer or administrator of this mission.")})
    return user


def _same_mission(case_mission: int, *rows: Any) -> None:
    if any(row is not None and row.mission_id != case_mission for row in rows):
        raise CaseError(_("Everything linked to a case must belong to the same mission."))


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


def _notify(case: Case, user: User | None, kind: str, due_on: datetime.date | None = None) -> None:
    if user is None:
        return
    Notice.objects.get_or_create(
        mission_id=case.mission_id,
        user=user,
        case=case,
        kind=kind,
        due_on=due_on or timezone.localdate(),
    )


def _notify_sections(case: Case, sections: Iterable[str], actor: User) -> None:
    """Tell the members of newly flagged sections that a case needs them."""
    for section in sorted(set(sections)):
        members = Membership.objects.filter(
            has_code("sections", section),
            mission_id=case.mission_id,
            role__in=CASEWORK_ROLES,
            user__is_active=True,
        ).exclude(user=actor)
        for membership in members.select_related("user"):
            _notify(case, membership.user, NoticeKind.SECTION_ASKED)


def _touch(case: Case, *fields: str) -> None:
    case.save(update_fields=[*fields, "updated_at"])


def _set_status(case: Case, to: str, actor: User | None, reason: str = "") -> None:
    StatusChange.objects.create(
        case=case, from_status=case.status, to_status=to, reason=reason, actor=actor
    )
    case.status = to
    case.status_changed_at = timezone.now()
    case.closure_reason = reason if to == S.CLOSED else ""
    fields = ["status", "status_changed_at", "closure_reason"]
    if to not in AWAITING_RESPONSE and case.responded_at is None and to != S.CLOSED:
        case.responded_at = timezone.now()
        fields.append("responded_at")
    _touch(case, *fields)


def _responded(case: Case) -> list[str]:
    if case.responded_at is None:
        case.responded_at = timezone.now()
        return ["responded_at"]
    return []


def _advance(case: Case, to: str, *, only_from: Iterable[str], actor: User | None) -> None:
    """Move an early case forward as a consequence of work done on it."""
    if case.status in set(only_from):
        _set_status(case, to, actor)


# -- opening and running a case


def _next_number(mission: Mission) -> int:
    # NO KEY UPDATE: a mutex among case openers that leaves alone the key-share locks every
    # row pointing at the mission takes (an audit event, inside the audit chain's lock); a
    # full FOR UPDATE deadlocked with them on PostgreSQL.
    Mission.objects.select_for_update(no_key=True).filter(pk=mission.pk).first()
    highest = Case.objects.filter(mission=mission).aggregate(top=Max("number"))["top"]
    return (highest or 0) + 1


def open_case(
    *,
    mission: Mission,
    actor: User,
    title: str,
    urgency: str,
    defender: Defender | None = None,
    organisation: Organisation | None = None,
    owner: User | None = None,
    summary: str = "",
    submission: Submission | None = None,
    restricted: bool = False,
    sections: Sequence[str] = (),
    linked_defenders: Sequence[Defender] = (),
    linked_organisations: Sequence[Organisation] = (),
) -> Case:
    """Open a case about one defender or one organisation (others may be linked).

    The response deadline follows the mission's setting for the urgency. The owner is the
    actor unless another officer is named.
    """
    title = _text("title", title, required=True)
    summary = _text("summary", summary)
    _choice("urgency", urgency, Urgency.values)
    if (defender is None) == (organisation is None):
        raise ValidationError(
            {"defender": _("A case is about one defender or one organisation: choose one.")}
        )
    for code in sections:
        _code("sections", code, SECTIONS)
    owner = caseworker(mission, owner or actor, "owner")
    _same_mission(
        mission.pk, defender, organisation, submission, *linked_defenders, *linked_organisations
    )
    now = timezone.now()
    with keys_first():
        case = Case(
            mission=mission,
            number=_next_number(mission),
            title=title,
            summary=summary,
            defender=defender,
            organisation=organisation,
            submission=submission,
            urgency=urgency,
            response_due_at=now + datetime.timedelta(hours=mission.response_hours(urgency)),
            owner=owner,
            restricted=restricted,
            sections=list(sections),  # type: ignore[misc]
        )
        case.data_key = new_data_key()
        case.save()
        case.linked_defenders.set([d for d in linked_defenders if d != defender])
        case.linked_organisations.set([o for o in linked_organisations if o != organisation])
        StatusChange.objects.create(case=case, to_status=S.RECEIVED, actor=actor)
        if submission is not None and submission.status == SubmissionStatus.RECEIVED:
            submission.status = SubmissionStatus.REVIEWING
            submission.save(update_fields=["status"])
        _audit(
            case,
            "case.opened",
            actor,
            ["title", "urgency", "owner", "status"]
            + (["summary"] if summary else [])
            + (["submission"] if submission else [])
            + (["restricted"] if restricted else []),
        )
        if owner != actor:
            _notify(case, owner, NoticeKind.CASE_HANDED_OVER)
        _notify_sections(case, sections, actor)
    return case


def open_case_from_submission(
    *, submission: Submission, actor: User, owner: User | None = None
) -> Case:
    """Turn a portal request into a case: the person is registered (or the linked record is
    used), the urgency confirmed at triage carries over, and what they wrote becomes the
    summary. A request that already has a case gives that case back."""
    existing = Case.objects.filter(submission=submission).first()
    if existing is not None:
        return existing
    answers = intake.open_submission(submission=submission, actor=actor)
    with transaction.atomic():
        defender = submission.defender or intake.create_defender_from(
            submission=submission, actor=actor
        )
        return open_case(
            mission=submission.mission,
            actor=actor,
            owner=owner,
            title=_("Request of %(date)s") % {"date": submission.received_on.isoformat()},
            summary=str(answers.get("description", ""))[: TEXT_LIMITS["summary"]],
            urgency=submission.effective_urgency,
            defender=defender,
            submission=submission,
        )


CASE_FIELDS = ("title", "summary", "urgency", "restricted", "sections", "next_contact_on")


def update_case(*, case: Case, actor: User, changes: dict[str, Any]) -> list[str]:
    """Change a case's own fields; a new urgency moves the response deadline while the
    mission has not yet responded. Returns the names of the fields changed."""
    unknown = set(changes) - set(CASE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    values = dict(changes)
    if "title" in values:
        values["title"] = _text("title", values["title"], required=True)
    if "summary" in values:
        values["summary"] = _text("summary", values["summary"])
    if "urgency" in values:
        _choice("urgency", values["urgency"], Urgency.values)
    if "sections" in values:
        values["sections"] = [_code("sections", code, SECTIONS) for code in values["sections"]]
    if "restricted" in values:
        values["restricted"] = bool(values["restricted"])
    changed = [name for name, value in values.items() if getattr(case, name) != value]
    if not changed:
        return []
    flagged = set(values.get("sections", [])) - set(case.sections)
    with transaction.atomic():
        for name in changed:
            setattr(case, name, values[name])
        extra = []
        if flagged:
            _notify_sections(case, flagged, actor)
        if "urgency" in changed and case.responded_at is None:
            case.response_due_at = case.opened_at + datetime.timedelta(
                hours=case.mission.response_hours(case.urgency)
            )
            extra.append("response_due_at")
        _touch(case, *changed, *extra)
        _audit(case, "case.changed", actor, changed)
    return changed


def move_case(*, case: Case, actor: User, to: str, reason: str = "") -> Case:
    """Move a case to another state of its lifecycle; illegal moves are refused, saying why."""
    _choice("to", to, CaseStatus.values)
    if case.status == S.CLOSED:
        raise CaseError(_("This case is closed. Reopen it first."))
    if to == case.status:
        raise CaseError(
            _("The case is already “%(status)s”.") % {"status": case.get_status_display()}
        )
    if to not in TRANSITIONS[case.status]:
        allowed = ", ".join(f"“{CaseStatus(s).label}”" for s in TRANSITIONS[case.status])
        raise CaseError(
            _("A case cannot go from “%(from)s” to “%(to)s”. From here it can go to: %(allowed)s.")
            % {"from": case.get_status_display(), "to": CaseStatus(to).label, "allowed": allowed}
        )
    if to == S.CLOSED:
        _choice("reason", reason, ClosureReason.values)
    elif case.needs_second_officer:
        raise CaseError(
            _("This case is at high risk and has no second officer. Name one before going on.")
        )
    if to == S.RISK_ASSESSED and not case.riskassessments.exists():
        raise CaseError(_("Record a risk assessment first: it moves the case on by itself."))
    if to == S.ACTION_PLANNED and not case.actions.exclude(status=ActionStatus.CANCELLED).exists():
        raise CaseError(_("Plan an action first: it moves the case on by itself."))
    if (
        to == S.ACTIVE
        and not case.actions.filter(
            status__in=[ActionStatus.IN_PROGRESS, ActionStatus.DONE]
        ).exists()
    ):
        raise CaseError(_("Start an action first: a case is active while something is being done."))
    with transaction.atomic():
        previous = case.status
        _set_status(case, to, actor, reason if to == S.CLOSED else "")
        _audit(case, "case.status_changed", actor, ["status"], reason=f"{previous}>{to}")
        if to == S.CLOSED:
            Notice.objects.filter(case=case, seen_at__isnull=True).update(seen_at=timezone.now())
    return case


def reopen_case(*, case: Case, actor: User) -> Case:
    """Open a closed case again: back to "active" when it had been worked on (an assessment
    exists), otherwise back to "screening"."""
    if case.status != S.CLOSED:
        raise CaseError(_("Only a closed case can be reopened."))
    to = S.ACTIVE if case.riskassessments.exists() else S.SCREENING
    with transaction.atomic():
        _set_status(case, to, actor)
        _audit(case, "case.reopened", actor, ["status", "closure_reason"], reason=f"closed>{to}")
    return case


def assign(
    *,
    case: Case,
    actor: User,
    owner: User | None = None,
    second_officer: User | None = None,
    clear_second: bool = False,
) -> list[str]:
    """Change who owns the case and who is its second officer (never the same person)."""
    new_owner = caseworker(case.mission_id, owner, "owner") if owner else case.owner
    if clear_second:
        new_second = None
    elif second_officer is not None:
        new_second = caseworker(case.mission_id, second_officer, "second_officer")
    else:
        new_second = case.second_officer
    if new_second is not None and new_second == new_owner:
        raise ValidationError(
            {"second_officer": _("The second officer must be someone other than the owner.")}
        )
    if new_second is None and case.risk_level in HIGH_RISKS:
        raise ValidationError(
            {"second_officer": _("This case is at high risk: it needs a second officer.")}
        )
    changed = [
        name
        for name, value in (("owner", new_owner), ("second_officer", new_second))
        if getattr(case, f"{name}_id") != (value.pk if value else None)
    ]
    if changed:
        with transaction.atomic():
            case.owner, case.second_officer = new_owner, new_second
            _touch(case, *changed)
            _audit(case, "case.assigned", actor, changed)
            for name in changed:
                if getattr(case, name) != actor:
                    _notify(case, getattr(case, name), NoticeKind.CASE_HANDED_OVER)
    return changed


def add_team_member(*, case: Case, actor: User, user: User) -> CaseMember:
    """Name someone to the case team (what lets them see it when it is restricted)."""
    caseworker(case.mission_id, user, "user")
    with transaction.atomic():
        member, created = CaseMember.objects.get_or_create(case=case, user=user)
        if created:
            _audit(case, "case.team_changed", actor, ["members"])
    return member


def remove_team_member(*, case: Case, actor: User, user: User) -> None:
    with transaction.atomic():
        removed, _count = CaseMember.objects.filter(case=case, user=user).delete()
        if removed:
            _audit(case, "case.team_changed", actor, ["members"])


# -- risk


def _raise_subject_risk(case: Case) -> None:
    """The registry shows each defender's current risk: the latest of their cases'."""
    subject = case.subject
    if subject is not None and subject.risk_level != case.risk_level:
        subject.risk_level = case.risk_level
        subject.save(update_fields=["risk_level", "updated_at"])


def record_incident(
    *,
    case: Case,
    actor: User,
    incident_type: str,
    occurred_on: datetime.date,
    description: str,
    perpetrator_type: str,
    source_type: str,
    place: str = "",
    involvement: str = Involvement.UNKNOWN,
    reliability: str = Reliability.UNKNOWN,
    verification: str = Verification.UNKNOWN,
    specific_threat: bool = False,
) -> Incident:
    """Log an incident. A specific, direct threat raises the case to at least high risk and
    sets a risk review within a week (FLD: most defenders killed had been threatened first)."""
    _code("incident_type", incident_type, THREAT_TYPES)
    _code("perpetrator_type", perpetrator_type, PERPETRATOR_TYPES)
    _choice("involvement", involvement, Involvement.values)
    _choice("source_type", source_type, SourceType.values)
    _choice("reliability", reliability, Reliability.values)
    _choice("verification", verification, Verification.values)
    _not_future("occurred_on", occurred_on)
    description = _text("description", description, required=True)
    place = _text("place", place)
    with transaction.atomic():
        incident = Incident.objects.create(
            mission_id=case.mission_id,
            case=case,
            data_key_id=case.data_key_id,
            recorded_by=actor,
            incident_type=incident_type,
            occurred_on=occurred_on,
            place=place,
            description=description,
            perpetrator_type=perpetrator_type,
            involvement=involvement,
            source_type=source_type,
            reliability=reliability,
            verification=verification,
            specific_threat=specific_threat,
        )
        _audit(case, "case.incident_recorded", actor, ["incidents"])
        if specific_threat:
            raise_risk(case, actor, reason="specific_threat")
    return incident


def raise_risk(case: Case, actor: User | None, *, reason: str) -> None:
    """Raise the case (and the registry's record) to at least high risk, with a review due
    within a week: after a specific threat, a detention or a disappearance."""
    changed = []
    if RISK_ORDER.index(case.risk_level) < RISK_ORDER.index(RiskLevel.HIGH):
        case.risk_level = RiskLevel.HIGH
        changed.append("risk_level")
    review = timezone.localdate() + datetime.timedelta(days=SPECIFIC_THREAT_REVIEW_DAYS)
    if case.review_due_on is None or case.review_due_on > review:
        case.review_due_on = review
        changed.append("review_due_on")
    if changed:
        _touch(case, *changed)
        _raise_subject_risk(case)
        _audit(case, "case.risk_raised", actor, changed, reason=reason)


def default_review_on(level: str, *, today: datetime.date | None = None) -> datetime.date:
    return (today or timezone.localdate()) + datetime.timedelta(days=REVIEW_AFTER_DAYS[level])


def record_assessment(
    *,
    case: Case,
    actor: User,
    level: str,
    rationale: str,
    threats: Sequence[str] = (),
    vulnerabilities: Sequence[str] = (),
    capacities: Sequence[str] = (),
    imminent: bool = False,
    next_review_on: datetime.date | None = None,
    second_officer: User | None = None,
) -> RiskAssessment:
    """Record the officer's judgement of the risk with its reasons; the case and the registry
    take the new level. High or critical needs a second officer on the case (named here if
    there is none yet). An early case moves to "risk assessed"."""
    _choice("level", level, RiskLevel.values)
    rationale = _text("rationale", rationale, required=True)
    lists = {
        "threats": _items("threats", threats),
        "vulnerabilities": _items("vulnerabilities", vulnerabilities),
        "capacities": _items("capacities", capacities),
    }
    review = next_review_on or default_review_on(level)
    if review <= timezone.localdate():
        raise ValidationError({"next_review_on": _("Choose a review date after today.")})
    if case.status == S.CLOSED:
        raise CaseError(_("This case is closed. Reopen it first."))
    if level in HIGH_RISKS and case.second_officer_id is None and second_officer is None:
        raise ValidationError(
            {
                "second_officer": _(
                    "A high or critical risk needs a second officer on the case: name one."
                )
            }
        )
    with transaction.atomic():
        if second_officer is not None and second_officer.pk != case.second_officer_id:
            assign(case=case, actor=actor, second_officer=second_officer)
        assessment = RiskAssessment.objects.create(
            mission_id=case.mission_id,
            case=case,
            data_key_id=case.data_key_id,
            recorded_by=actor,
            level=level,
            imminent=imminent,
            rationale=rationale,
            next_review_on=review,
            **lists,
        )
        case.risk_level, case.imminent, case.review_due_on = level, imminent, review
        _touch(case, "risk_level", "imminent", "review_due_on")
        _raise_subject_risk(case)
        _audit(case, "case.risk_assessed", actor, ["assessments", "risk_level"], reason=level)
        _advance(case, S.RISK_ASSESSED, only_from=AWAITING_RESPONSE, actor=actor)
    return assessment


# -- actions and the consent gate


def consent_gate(case: Case, action_type: str) -> list[str]:
    """What stops an action of ``action_type`` from starting on ``case``: sentences, empty
    when nothing does. Consent is asked of the case's defender or organisation."""
    term = MISSION_ACTIONS.get(action_type)
    scope = term["consent"]
    if not scope:
        return []
    subject = case.subject
    if subject is None or not consent.allows(subject, scope):
        return [
            _("%(action)s needs their consent to “%(scope)s”. Record it on their page first.")
            % {"action": term.label, "scope": CONSENT_SCOPES.label(scope)}
        ]
    return []


def _needs_reprisal_check(action_type: str) -> bool:
    term = MISSION_ACTIONS.get(action_type)
    scope = term["consent"]
    return bool(term["visible"]) or bool(scope and CONSENT_SCOPES.get(scope)["names"])


def _check_gate(case: Case, action_type: str, reprisal_check: str) -> None:
    refused = consent_gate(case, action_type)
    if refused:
        raise CaseError(" ".join(refused))
    if _needs_reprisal_check(action_type) and not reprisal_check:
        raise ValidationError(
            {
                "reprisal_check": _(
                    "This action shows or names them: record who could suffer reprisals "
                    "(them, family, community, local staff) and why it is still safe."
                )
            }
        )


def plan_action(
    *,
    case: Case,
    actor: User,
    action_type: str,
    owner: User | None = None,
    due_on: datetime.date | None = None,
    details: str = "",
    reprisal_check: str = "",
    next_contact_on: datetime.date | None = None,
) -> Action:
    """Plan an action from the mission's toolbox. One that shows or names the defender is
    refused without the matching consent in force and a recorded reprisal check."""
    _code("action_type", action_type, MISSION_ACTIONS)
    details = _text("details", details)
    reprisal_check = _text("reprisal_check", reprisal_check)
    owner = caseworker(case.mission_id, owner or actor, "owner")
    if case.status == S.CLOSED:
        raise CaseError(_("This case is closed. Reopen it first."))
    _check_gate(case, action_type, reprisal_check)
    with transaction.atomic():
        action = Action.objects.create(
            mission_id=case.mission_id,
            case=case,
            data_key_id=case.data_key_id,
            recorded_by=actor,
            action_type=action_type,
            owner=owner,
            due_on=due_on,
            details=details,
            reprisal_check=reprisal_check,
            reprisal_checked_at=timezone.now() if reprisal_check else None,
            next_contact_on=next_contact_on,
        )
        _audit(case, "case.action_planned", actor, ["actions"], reason=action_type)
        _advance(case, S.ACTION_PLANNED, only_from=[S.RISK_ASSESSED], actor=actor)
        if owner != actor:
            _notify(case, owner, NoticeKind.ACTION_ASSIGNED)
    return action


ACTION_MOVES: dict[str, list[str]] = {
    ActionStatus.PLANNED: [ActionStatus.IN_PROGRESS, ActionStatus.DONE, ActionStatus.CANCELLED],
    ActionStatus.IN_PROGRESS: [ActionStatus.DONE, ActionStatus.CANCELLED, ActionStatus.ON_HOLD],
    ActionStatus.ON_HOLD: [ActionStatus.PLANNED, ActionStatus.IN_PROGRESS, ActionStatus.CANCELLED],
    ActionStatus.DONE: [],
    ActionStatus.CANCELLED: [],
}
ACTION_FIELDS = (
    "status",
    "outcome",
    "host_response",
    "defender_told",
    "due_on",
    "next_contact_on",
    "details",
    "reprisal_check",
)


def update_action(*, action: Action, actor: User, changes: dict[str, Any]) -> list[str]:
    """Record progress on an action: its status, outcome, the host government's response,
    whether the defender was told. Starting (or resuming) it passes the consent gate again,
    since consent may have been withdrawn or expired since it was planned."""
    unknown = set(changes) - set(ACTION_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed here.") for name in unknown})
    values = dict(changes)
    for name in ("outcome", "details", "reprisal_check"):
        if name in values:
            values[name] = _text(name, values[name])
    if "host_response" in values:
        _choice("host_response", values["host_response"], HostResponse.values, blank=True)
    if "defender_told" in values:
        values["defender_told"] = bool(values["defender_told"])
    case = action.case
    status = values.get("status", action.status)
    _choice("status", status, ActionStatus.values)
    if status != action.status:
        if status not in ACTION_MOVES[action.status]:
            raise CaseError(
                _("An action cannot go from “%(from)s” to “%(to)s”.")
                % {"from": action.get_status_display(), "to": ActionStatus(status).label}
            )
        if status in {ActionStatus.IN_PROGRESS, ActionStatus.DONE} and (
            action.status != ActionStatus.IN_PROGRESS
        ):
            _check_gate(
                case, action.action_type, values.get("reprisal_check", action.reprisal_check)
            )
    changed = [name for name, value in values.items() if getattr(action, name) != value]
    if not changed:
        return []
    with transaction.atomic():
        for name in changed:
            setattr(action, name, values[name])
        extra = []
        if "reprisal_check" in changed and action.reprisal_check:
            action.reprisal_checked_at = timezone.now()
            extra.append("reprisal_checked_at")
        if "status" in changed:
            action.hold_reason = ""
            extra.append("hold_reason")
            if status == ActionStatus.DONE:
                action.completed_on = timezone.localdate()
                extra.append("completed_on")
        action.save(update_fields=[*changed, *extra])
        _audit(case, "case.action_changed", actor, [f"action.{name}" for name in changed])
        if status in {ActionStatus.IN_PROGRESS, ActionStatus.DONE}:
            fields = _responded(case)
            if fields:
                _touch(case, *fields)
            _advance(case, S.ACTIVE, only_from=[S.RISK_ASSESSED, S.ACTION_PLANNED], actor=actor)
    return changed


def hold_actions_after_withdrawal(
    *, subject: Defender | Organisation, scope: str, actor: User | None
) -> int:
    """Put on hold every pending action that needed ``scope`` of ``subject``'s consent, now
    that it is no longer in force, and tell each action's owner. Returns how many."""
    if consent.allows(subject, scope):
        return 0  # another record still gives it
    codes = [term.code for term in MISSION_ACTIONS if term["consent"] == scope]
    owner_field = "case__defender" if isinstance(subject, Defender) else "case__organisation"
    actions = list(
        Action.objects.filter(
            **{owner_field: subject}, action_type__in=codes, status__in=PENDING_ACTIONS
        ).select_related("case")
    )
    with transaction.atomic():
        for action in actions:
            action.status = ActionStatus.ON_HOLD
            action.hold_reason = "consent_withdrawn"
            action.save(update_fields=["status", "hold_reason"])
            _audit(
                action.case,
                "case.action_on_hold",
                actor,
                ["action.status"],
                reason="consent_withdrawn",
            )
            _notify(action.case, action.owner, NoticeKind.ACTION_ON_HOLD)
    return len(actions)


# -- contact with the defender, notes


def record_follow_up(
    *,
    case: Case,
    actor: User,
    contacted_on: datetime.date,
    method: str,
    summary: str = "",
    next_contact_on: datetime.date | None = None,
) -> FollowUp:
    """Record a contact with the defender and when the next one is due."""
    _choice("method", method, ContactMethod.values)
    _not_future("contacted_on", contacted_on)
    summary = _text("summary", summary)
    if next_contact_on is not None and next_contact_on <= contacted_on:
        raise ValidationError({"next_contact_on": _("The next contact must come after this one.")})
    with transaction.atomic():
        follow_up = FollowUp.objects.create(
            mission_id=case.mission_id,
            case=case,
            data_key_id=case.data_key_id,
            recorded_by=actor,
            contacted_on=contacted_on,
            method=method,
            summary=summary,
            next_contact_on=next_contact_on,
        )
        fields = ["next_contact_on", *_responded(case)]
        if case.last_contact_on is None or contacted_on > case.last_contact_on:
            case.last_contact_on = contacted_on
            fields.append("last_contact_on")
        case.next_contact_on = next_contact_on
        _touch(case, *fields)
        _audit(case, "case.follow_up_recorded", actor, ["follow_ups", *fields])
        Notice.objects.filter(
            case=case, kind=NoticeKind.FOLLOW_UP_DUE, seen_at__isnull=True
        ).update(seen_at=timezone.now())
    return follow_up


def add_note(*, case: Case, actor: User, text: str) -> Note:
    text = _text("text", text, required=True)
    with transaction.atomic():
        note = Note.objects.create(
            mission_id=case.mission_id,
            case=case,
            data_key_id=case.data_key_id,
            recorded_by=actor,
            text=text,
        )
        _audit(case, "case.note_added", actor, ["notes"])
    return note


def send_update(*, case: Case, actor: User, text: str) -> None:
    """Send the defender an update through the portal, sealed to their receipt; it counts as
    a contact."""
    if case.submission is None:
        raise CaseError(
            _("This case did not come through the portal: reach them by their safe channel.")
        )
    text = _text("text", text, required=True)
    with transaction.atomic():
        intake.reply(submission=case.submission, actor=actor, text=text)
        fields = _responded(case)
        today = timezone.localdate()
        if case.last_contact_on != today:
            case.last_contact_on = today
            fields.append("last_contact_on")
        if fields:
            _touch(case, *fields)
        _audit(case, "case.update_sent", actor, ["messages", *fields])


# -- handover


@dataclass(frozen=True)
class HandoverMove:
    case: Case
    to_owner: User
    note: str = ""


def hand_over(*, actor: User, moves: Sequence[HandoverMove]) -> list[Handover]:
    """Pass cases to new owners in one go, each with a note the new owner reads first.

    All or nothing: one refused move (someone outside the mission, a note too long) leaves
    every case as it was. When the new owner was the case's second officer, the second place
    becomes empty and a high-risk case shows as needing one.
    """
    prepared = []
    for move in moves:
        caseworker(move.case.mission_id, move.to_owner, "to_owner")
        prepared.append((move, _text("note", move.note)))
    handovers = []
    with transaction.atomic():
        for move, note in prepared:
            case = move.case
            if case.owner_id == move.to_owner.pk:
                continue
            previous = case.owner
            case.owner = move.to_owner
            fields = ["owner"]
            if case.second_officer_id == move.to_owner.pk:
                case.second_officer = None
                fields.append("second_officer")
            _touch(case, *fields)
            handovers.append(
                Handover.objects.create(
                    mission_id=case.mission_id,
                    case=case,
                    data_key_id=case.data_key_id,
                    recorded_by=actor,
                    from_owner=previous,
                    to_owner=move.to_owner,
                    note=note,
                )
            )
            _audit(case, "case.handed_over", actor, [*fields, "handovers"])
            _notify(case, move.to_owner, NoticeKind.CASE_HANDED_OVER)
    return handovers


# -- what other apps announce


def follow_merge(*, survivor: Defender, duplicate: Defender) -> None:
    """Cases about the duplicate of a merged defender now concern the survivor."""
    Case.objects.filter(defender=duplicate).update(defender=survivor)
    for case in Case.objects.filter(linked_defenders=duplicate):
        case.linked_defenders.remove(duplicate)
        if case.defender_id != survivor.pk:
            case.linked_defenders.add(survivor)
