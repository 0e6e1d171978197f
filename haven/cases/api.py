"""API: cases, incidents, risk assessments, actions, follow-ups, notes, the case team and
restriction, handover, cases opened from portal requests and updates to the defender, through
the workspace's services and scopes. A restricted case outside the token owner's team answers
404, like another mission's; refusals of case rules answer 409 with the reason; reading what a
case holds (its log, notes, conversation) is an audited read, as on the case's page."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from haven.accounts.api import casework_membership
from haven.accounts.models import Membership, User
from haven.audit.services import record_read
from haven.cases import relocation, selectors, services
from haven.cases.models import (
    Action,
    Case,
    CaseMember,
    FollowUp,
    Incident,
    Note,
    RelocationTask,
    RiskAssessment,
)
from haven.core.schemas import Code, Day, Error, PageNumber, RowId, items, text
from haven.intake import selectors as intake_selectors
from haven.intake import services as intake
from haven.intake.api import MessageOut, message_out
from haven.registry.models import Defender, Organisation

router = Router(tags=["cases"])


# -- schemas


class CaseIn(Schema):
    title: str = text(200)
    urgency: Code
    defender_id: RowId | None = None
    organisation_id: RowId | None = None
    summary: str = text(20000, "")
    owner_id: RowId | None = None
    restricted: bool = False
    sections: list[Code] = items(50, [])


class CasePatch(Schema):
    title: str | None = text(200, None)
    summary: str | None = text(20000, None)
    urgency: Code | None = None
    restricted: bool | None = None
    sections: list[Code] | None = items(50, None)
    next_contact_on: Day | None = None


class CaseSummary(Schema):
    id: int
    reference: str
    title: str
    status: str
    urgency: str
    risk_level: str
    imminent: bool
    owner_id: int
    second_officer_id: int | None
    restricted: bool
    next_contact_on: datetime.date | None
    response_due_at: datetime.datetime
    responded_at: datetime.datetime | None


class CaseOut(CaseSummary):
    summary: str
    defender_id: int | None
    organisation_id: int | None
    submission_id: int | None
    closure_reason: str
    review_due_on: datetime.date | None
    last_contact_on: datetime.date | None
    sections: list[str]


class CasePage(Schema):
    count: int
    page: int
    pages: int
    results: list[CaseSummary]


class CaseFilters(Schema):
    status: Code = ""
    urgency: Code = ""
    risk_level: Code = ""
    mine: bool = False
    include_closed: bool = False
    page: PageNumber = 1


class MoveIn(Schema):
    to: Code
    reason: Code = ""


class AssignIn(Schema):
    owner_id: RowId | None = None
    second_officer_id: RowId | None = None


class IncidentIn(Schema):
    incident_type: Code
    occurred_on: Day
    description: str = text(20000)
    perpetrator_type: Code
    source_type: Code
    place: str = text(1000, "")
    involvement: Code = "unknown"
    reliability: Code = "unknown"
    verification: Code = "unknown"
    specific_threat: bool = False


class IncidentOut(Schema):
    id: int
    created_at: datetime.datetime
    incident_type: str
    occurred_on: datetime.date
    description: str
    perpetrator_type: str
    source_type: str
    place: str
    involvement: str
    reliability: str
    verification: str
    specific_threat: bool


class AssessmentIn(Schema):
    level: Code
    rationale: str = text(10000)
    threats: list[Annotated[str, text(1000)]] = items(100, [])
    vulnerabilities: list[Annotated[str, text(1000)]] = items(100, [])
    capacities: list[Annotated[str, text(1000)]] = items(100, [])
    imminent: bool = False
    next_review_on: Day | None = None
    second_officer_id: RowId | None = None


class AssessmentOut(Schema):
    id: int
    level: str
    rationale: str
    threats: list[str]
    vulnerabilities: list[str]
    capacities: list[str]
    imminent: bool
    next_review_on: datetime.date
    created_at: datetime.datetime


class ActionIn(Schema):
    action_type: Code
    owner_id: RowId | None = None
    due_on: Day | None = None
    details: str = text(10000, "")
    reprisal_check: str = text(5000, "")
    next_contact_on: Day | None = None


class ActionPatch(Schema):
    status: Code | None = None
    outcome: str | None = text(10000, None)
    host_response: Code | None = None
    defender_told: bool | None = None
    due_on: Day | None = None
    next_contact_on: Day | None = None
    details: str | None = text(10000, None)
    reprisal_check: str | None = text(5000, None)


class ActionOut(Schema):
    id: int
    case_id: int
    action_type: str
    owner_id: int
    status: str
    due_on: datetime.date | None
    details: str
    reprisal_check: str
    outcome: str
    host_response: str
    defender_told: bool
    next_contact_on: datetime.date | None
    hold_reason: str


class FollowUpIn(Schema):
    contacted_on: Day
    method: Code
    summary: str = text(20000, "")
    next_contact_on: Day | None = None


class FollowUpOut(Schema):
    id: int
    contacted_on: datetime.date
    method: str
    summary: str
    next_contact_on: datetime.date | None


# -- scope


def _membership(request: HttpRequest) -> Membership:
    return casework_membership(request, _("Only administrators and officers may work on cases."))


def _cases(request: HttpRequest) -> tuple[Membership, QuerySet[Case]]:
    membership = _membership(request)
    return membership, selectors.cases(membership.user, membership.mission)


def _case(request: HttpRequest, case_id: int) -> tuple[Membership, Case]:
    membership, rows = _cases(request)
    case = rows.filter(pk=case_id).first()
    if case is None:
        raise Http404
    return membership, case


def _member(membership: Membership, user_id: int | None, field: str) -> User | None:
    """A user of the token's mission by id; anyone else is refused as not a case worker."""
    if user_id is None:
        return None
    user = User.objects.filter(pk=user_id, memberships__mission=membership.mission).first()
    return services.caseworker(membership.mission, user, field)


def _subject(membership: Membership, model: type[Any], pk: int | None) -> Any:
    if pk is None:
        return None
    found = model.objects.for_user(membership.user, mission=membership.mission).filter(pk=pk)
    if not found.exists():
        raise Http404
    return found.get()


# -- output


def _summary_fields(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk,
        "reference": case.reference,
        "title": case.title,
        "status": case.status,
        "urgency": case.urgency,
        "risk_level": case.risk_level,
        "imminent": case.imminent,
        "owner_id": case.owner_id,
        "second_officer_id": case.second_officer_id,
        "restricted": case.restricted,
        "next_contact_on": case.next_contact_on,
        "response_due_at": case.response_due_at,
        "responded_at": case.responded_at,
    }


def _case_out(case: Case, membership: Membership) -> CaseOut:
    record_read(actor=membership.user, mission=membership.mission, obj=case)
    return CaseOut(
        **_summary_fields(case),
        summary=case.summary,
        defender_id=case.defender_id,
        organisation_id=case.organisation_id,
        submission_id=case.submission_id,
        closure_reason=case.closure_reason,
        review_due_on=case.review_due_on,
        last_contact_on=case.last_contact_on,
        sections=list(case.sections),
    )


def _action_out(action: Action) -> ActionOut:
    return ActionOut(
        id=action.pk,
        case_id=action.case_id,
        action_type=action.action_type,
        owner_id=action.owner_id,
        status=action.status,
        due_on=action.due_on,
        details=action.details,
        reprisal_check=action.reprisal_check,
        outcome=action.outcome,
        host_response=action.host_response,
        defender_told=action.defender_told,
        next_contact_on=action.next_contact_on,
        hold_reason=action.hold_reason,
    )


def _incident_out(row: Incident) -> IncidentOut:
    return IncidentOut(
        id=row.pk,
        created_at=row.created_at,
        incident_type=row.incident_type,
        occurred_on=row.occurred_on,
        description=row.description,
        perpetrator_type=row.perpetrator_type,
        source_type=row.source_type,
        place=row.place,
        involvement=row.involvement,
        reliability=row.reliability,
        verification=row.verification,
        specific_threat=row.specific_threat,
    )


def _assessment_out(row: RiskAssessment) -> AssessmentOut:
    return AssessmentOut(
        id=row.pk,
        level=row.level,
        rationale=row.rationale,
        threats=list(row.threats),
        vulnerabilities=list(row.vulnerabilities),
        capacities=list(row.capacities),
        imminent=row.imminent,
        next_review_on=row.next_review_on,
        created_at=row.created_at,
    )


def _follow_up_out(row: FollowUp) -> FollowUpOut:
    return FollowUpOut(
        id=row.pk,
        contacted_on=row.contacted_on,
        method=row.method,
        summary=row.summary,
        next_contact_on=row.next_contact_on,
    )


# -- cases


@router.get("/cases", response=CasePage, summary="Cases you may see, 50 a page")
def cases(request: HttpRequest, query: Query[CaseFilters]) -> CasePage:
    membership = _membership(request)
    filters = selectors.CaseFilters(
        status=query.status,
        urgency=query.urgency,
        risk_level=query.risk_level,
        mine=query.mine,
        include_closed=query.include_closed,
    )
    page = selectors.case_page(membership.user, membership.mission, filters, query.page)
    return CasePage(
        count=page.paginator.count,
        page=page.number,
        pages=page.paginator.num_pages,
        results=[CaseSummary(**_summary_fields(case)) for case in page.object_list],
    )


@router.post("/cases", response={201: CaseOut}, summary="Open a case")
def open_case(request: HttpRequest, payload: CaseIn) -> Status[CaseOut]:
    membership = _membership(request)
    case = services.open_case(
        mission=membership.mission,
        actor=membership.user,
        title=payload.title,
        urgency=payload.urgency,
        summary=payload.summary,
        defender=_subject(membership, Defender, payload.defender_id),
        organisation=_subject(membership, Organisation, payload.organisation_id),
        owner=_member(membership, payload.owner_id, "owner_id"),
        restricted=payload.restricted,
        sections=payload.sections,
    )
    return Status(201, _case_out(case, membership))


@router.get("/cases/{case_id}", response=CaseOut, summary="One case")
def case(request: HttpRequest, case_id: RowId) -> CaseOut:
    membership, found = _case(request, case_id)
    return _case_out(found, membership)


@router.patch("/cases/{case_id}", response=CaseOut, summary="Change a case")
def change_case(request: HttpRequest, case_id: RowId, payload: CasePatch) -> CaseOut:
    membership, found = _case(request, case_id)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    services.update_case(case=found, actor=membership.user, changes=changes)
    return _case_out(found, membership)


@router.post("/cases/{case_id}/status", response=CaseOut, summary="Move a case on (or close it)")
def move_case(request: HttpRequest, case_id: RowId, payload: MoveIn) -> CaseOut:
    membership, found = _case(request, case_id)
    services.move_case(case=found, actor=membership.user, to=payload.to, reason=payload.reason)
    return _case_out(found, membership)


@router.post("/cases/{case_id}/reopen", response=CaseOut, summary="Reopen a closed case")
def reopen_case(request: HttpRequest, case_id: RowId) -> CaseOut:
    membership, found = _case(request, case_id)
    services.reopen_case(case=found, actor=membership.user)
    return _case_out(found, membership)


@router.post("/cases/{case_id}/assign", response=CaseOut, summary="Owner and second officer")
def assign(request: HttpRequest, case_id: RowId, payload: AssignIn) -> CaseOut:
    membership, found = _case(request, case_id)
    services.assign(
        case=found,
        actor=membership.user,
        owner=_member(membership, payload.owner_id, "owner_id"),
        second_officer=_member(membership, payload.second_officer_id, "second_officer_id"),
    )
    return _case_out(found, membership)


# -- incidents, assessments, follow-ups


@router.get("/cases/{case_id}/incidents", response=list[IncidentOut], summary="Threat log")
def incidents(request: HttpRequest, case_id: RowId) -> list[IncidentOut]:
    membership, found = _case(request, case_id)
    record_read(actor=membership.user, mission=membership.mission, obj=found, fields=["incidents"])
    return [_incident_out(row) for row in Incident.objects.filter(case=found)]


@router.post("/cases/{case_id}/incidents", response={201: IncidentOut}, summary="Log one")
def record_incident(
    request: HttpRequest, case_id: RowId, payload: IncidentIn
) -> Status[IncidentOut]:
    membership, found = _case(request, case_id)
    row = services.record_incident(case=found, actor=membership.user, **payload.dict())
    return Status(201, _incident_out(row))


@router.get(
    "/cases/{case_id}/assessments", response=list[AssessmentOut], summary="Risk assessments"
)
def assessments(request: HttpRequest, case_id: RowId) -> list[AssessmentOut]:
    membership, found = _case(request, case_id)
    record_read(
        actor=membership.user, mission=membership.mission, obj=found, fields=["assessments"]
    )
    return [_assessment_out(row) for row in RiskAssessment.objects.filter(case=found)]


@router.post(
    "/cases/{case_id}/assessments", response={201: AssessmentOut}, summary="Assess the risk"
)
def record_assessment(
    request: HttpRequest, case_id: RowId, payload: AssessmentIn
) -> Status[AssessmentOut]:
    membership, found = _case(request, case_id)
    values = payload.dict(exclude={"second_officer_id"})
    row = services.record_assessment(
        case=found,
        actor=membership.user,
        second_officer=_member(membership, payload.second_officer_id, "second_officer_id"),
        **values,
    )
    return Status(201, _assessment_out(row))


@router.get("/cases/{case_id}/follow-ups", response=list[FollowUpOut], summary="Contacts")
def follow_ups(request: HttpRequest, case_id: RowId) -> list[FollowUpOut]:
    membership, found = _case(request, case_id)
    record_read(actor=membership.user, mission=membership.mission, obj=found, fields=["follow_ups"])
    return [_follow_up_out(row) for row in FollowUp.objects.filter(case=found)]


@router.post("/cases/{case_id}/follow-ups", response={201: FollowUpOut}, summary="Record a contact")
def record_follow_up(
    request: HttpRequest, case_id: RowId, payload: FollowUpIn
) -> Status[FollowUpOut]:
    membership, found = _case(request, case_id)
    row = services.record_follow_up(case=found, actor=membership.user, **payload.dict())
    return Status(201, _follow_up_out(row))


# -- actions


@router.get("/cases/{case_id}/actions", response=list[ActionOut], summary="A case's actions")
def actions(request: HttpRequest, case_id: RowId) -> list[ActionOut]:
    membership, found = _case(request, case_id)
    record_read(actor=membership.user, mission=membership.mission, obj=found, fields=["actions"])
    return [_action_out(row) for row in Action.objects.filter(case=found)]


@router.post("/cases/{case_id}/actions", response={201: ActionOut}, summary="Plan an action")
def plan_action(request: HttpRequest, case_id: RowId, payload: ActionIn) -> Status[ActionOut]:
    membership, found = _case(request, case_id)
    values = payload.dict(exclude={"owner_id"})
    row = services.plan_action(
        case=found,
        actor=membership.user,
        owner=_member(membership, payload.owner_id, "owner_id"),
        **values,
    )
    return Status(201, _action_out(row))


def _action(request: HttpRequest, action_id: int) -> tuple[Membership, Action]:
    membership = _membership(request)
    found = (
        Action.objects.for_user(membership.user, mission=membership.mission)
        .filter(pk=action_id)
        .select_related("case")
        .first()
    )
    if found is None:
        raise Http404
    return membership, found


@router.get("/actions/{action_id}", response=ActionOut, summary="One action")
def action(request: HttpRequest, action_id: RowId) -> ActionOut:
    membership, found = _action(request, action_id)
    record_read(actor=membership.user, mission=membership.mission, obj=found)
    return _action_out(found)


@router.patch("/actions/{action_id}", response=ActionOut, summary="Record progress on an action")
def change_action(request: HttpRequest, action_id: RowId, payload: ActionPatch) -> ActionOut:
    membership, found = _action(request, action_id)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    services.update_action(action=found, actor=membership.user, changes=changes)
    return _action_out(found)


# -- relocation


class RelocationIn(Schema):
    departs_on: Day
    returns_on: Day


class RelocationTaskOut(Schema):
    id: int
    task: str
    phase: str
    due_on: datetime.date
    done_on: datetime.date | None
    notes: str


class TaskDoneIn(Schema):
    notes: str = text(5000, "")


def _task_out(row: RelocationTask) -> RelocationTaskOut:
    return RelocationTaskOut(
        id=row.pk,
        task=row.task,
        phase=row.phase,
        due_on=row.due_on,
        done_on=row.done_on,
        notes=row.notes,
    )


@router.get(
    "/cases/{case_id}/relocation", response=list[RelocationTaskOut], summary="Relocation tasks"
)
def relocation_tasks(request: HttpRequest, case_id: RowId) -> list[RelocationTaskOut]:
    membership, found = _case(request, case_id)
    record_read(actor=membership.user, mission=membership.mission, obj=found, fields=["relocation"])
    return [_task_out(row) for row in RelocationTask.objects.filter(case=found)]


@router.post(
    "/cases/{case_id}/relocation",
    response={201: list[RelocationTaskOut]},
    summary="Plan a temporary relocation",
)
def plan_relocation(
    request: HttpRequest, case_id: RowId, payload: RelocationIn
) -> Status[list[RelocationTaskOut]]:
    membership, found = _case(request, case_id)
    try:
        tasks = relocation.plan_relocation(case=found, actor=membership.user, **payload.dict())
    except relocation.RelocationError as error:
        raise services.CaseError(str(error)) from error
    return Status(201, [_task_out(row) for row in tasks])


@router.get("/relocation-tasks/{task_id}", response=RelocationTaskOut, summary="One task")
def relocation_task(request: HttpRequest, task_id: RowId) -> RelocationTaskOut:
    return _task_out(_relocation_task(request, task_id))


@router.post("/relocation-tasks/{task_id}/done", response=RelocationTaskOut, summary="Done")
def relocation_task_done(
    request: HttpRequest, task_id: RowId, payload: TaskDoneIn
) -> RelocationTaskOut:
    task = _relocation_task(request, task_id)
    relocation.complete_task(task=task, actor=_membership(request).user, notes=payload.notes)
    return _task_out(task)


def _relocation_task(request: HttpRequest, task_id: int) -> RelocationTask:
    membership = _membership(request)
    rows = RelocationTask.objects.for_user(membership.user, mission=membership.mission)
    found = rows.filter(pk=task_id).first()
    if found is None:
        raise Http404
    return found


# -- notes


class NoteIn(Schema):
    text: str = Field(min_length=1, max_length=services.TEXT_LIMITS["text"])


class NoteOut(Schema):
    id: int
    text: str
    recorded_by_id: int | None
    created_at: datetime.datetime


def _note_out(row: Note) -> NoteOut:
    return NoteOut(
        id=row.pk, text=row.text, recorded_by_id=row.recorded_by_id, created_at=row.created_at
    )


@router.get(
    "/cases/{case_id}/notes",
    response={200: list[NoteOut], 403: Error, 404: Error},
    summary="A case's working notes (the read is logged)",
)
def notes(request: HttpRequest, case_id: RowId) -> list[NoteOut]:
    membership, found = _case(request, case_id)
    record_read(actor=membership.user, mission=membership.mission, obj=found, fields=["notes"])
    return [_note_out(row) for row in Note.objects.filter(case=found)]


@router.post(
    "/cases/{case_id}/notes",
    response={201: NoteOut, 403: Error, 404: Error},
    summary="Add a working note",
)
def add_note(request: HttpRequest, case_id: RowId, payload: NoteIn) -> Status[NoteOut]:
    membership, found = _case(request, case_id)
    row = services.add_note(case=found, actor=membership.user, text=payload.text)
    return Status(201, _note_out(row))


# -- the team and restriction


class TeamMemberOut(Schema):
    user_id: int
    username: str
    added_at: datetime.datetime


class TeamOut(Schema):
    restricted: bool
    members: list[TeamMemberOut]


class TeamMemberIn(Schema):
    user_id: RowId


class RestrictionIn(Schema):
    restricted: bool


def _team_out(case: Case) -> TeamOut:
    rows = CaseMember.objects.filter(case=case).select_related("user").order_by("added_at", "pk")
    return TeamOut(
        restricted=case.restricted,
        members=[
            TeamMemberOut(user_id=row.user_id, username=row.user.username, added_at=row.added_at)
            for row in rows
        ],
    )


@router.get(
    "/cases/{case_id}/team",
    response={200: TeamOut, 403: Error, 404: Error},
    summary="Who is named to the case (who sees it when it is restricted)",
)
def team(request: HttpRequest, case_id: RowId) -> TeamOut:
    _membership, found = _case(request, case_id)
    return _team_out(found)


@router.post(
    "/cases/{case_id}/team",
    response={200: TeamOut, 403: Error, 404: Error},
    summary="Name an officer or administrator to the case team",
)
def add_team_member(request: HttpRequest, case_id: RowId, payload: TeamMemberIn) -> TeamOut:
    membership, found = _case(request, case_id)
    user = _member(membership, payload.user_id, "user_id")
    assert user is not None
    services.add_team_member(case=found, actor=membership.user, user=user)
    return _team_out(found)


@router.delete(
    "/cases/{case_id}/team/{user_id}",
    response={200: TeamOut, 403: Error, 404: Error},
    summary="Take someone off the case team",
)
def remove_team_member(request: HttpRequest, case_id: RowId, user_id: RowId) -> TeamOut:
    membership, found = _case(request, case_id)
    member = CaseMember.objects.filter(case=found, user_id=user_id).select_related("user").first()
    if member is None:
        raise Http404
    services.remove_team_member(case=found, actor=membership.user, user=member.user)
    return _team_out(found)


@router.put(
    "/cases/{case_id}/restriction",
    response={200: CaseOut, 403: Error, 404: Error},
    summary="Restrict the case to its owner, second officer and team, or lift that",
)
def restrict_case(request: HttpRequest, case_id: RowId, payload: RestrictionIn) -> CaseOut:
    membership, found = _case(request, case_id)
    services.update_case(
        case=found, actor=membership.user, changes={"restricted": payload.restricted}
    )
    return _case_out(found, membership)


# -- handover


class HandoverMoveIn(Schema):
    case_id: RowId
    to_owner_id: RowId
    note: str = Field(default="", max_length=services.TEXT_LIMITS["note"])


class HandoverIn(Schema):
    moves: list[HandoverMoveIn] = Field(max_length=500)


class HandoverOut(Schema):
    id: int
    case_id: int
    from_owner_id: int | None
    to_owner_id: int | None
    created_at: datetime.datetime


def _officer(membership: Membership, membership_id: int) -> User:
    """The member of the token's mission whose cases are handed over; elsewhere a 404."""
    found = Membership.objects.filter(pk=membership_id, mission=membership.mission).first()
    if found is None:
        raise Http404
    return found.user


@router.get(
    "/handover/{membership_id}",
    response={200: list[CaseSummary], 403: Error, 404: Error},
    summary="The open cases a member owns or seconds, among those you see",
)
def handover_cases(request: HttpRequest, membership_id: RowId) -> list[CaseSummary]:
    membership = _membership(request)
    officer = _officer(membership, membership_id)
    rows = selectors.handover_cases(membership.user, membership.mission, officer)
    return [CaseSummary(**_summary_fields(case)) for case in rows]


@router.post(
    "/handover/{membership_id}",
    response={201: list[HandoverOut], 403: Error, 404: Error},
    summary="Pass a member's cases to new owners, all or nothing, each with a note",
)
def hand_over(
    request: HttpRequest, membership_id: RowId, payload: HandoverIn
) -> Status[list[HandoverOut]]:
    membership = _membership(request)
    officer = _officer(membership, membership_id)
    cases = {
        case.pk: case
        for case in selectors.handover_cases(membership.user, membership.mission, officer)
    }
    moves = []
    for move in payload.moves:
        if move.case_id not in cases:
            raise Http404
        to_owner = _member(membership, move.to_owner_id, "to_owner_id")
        assert to_owner is not None
        moves.append(services.HandoverMove(cases[move.case_id], to_owner, move.note))
    done = services.hand_over(actor=membership.user, moves=moves)
    return Status(
        201,
        [
            HandoverOut(
                id=row.pk,
                case_id=row.case_id,
                from_owner_id=row.from_owner_id,
                to_owner_id=row.to_owner_id,
                created_at=row.created_at,
            )
            for row in done
        ],
    )


# -- portal requests and the defender


class UpdateIn(Schema):
    text: str = Field(min_length=1, max_length=intake.MAX_MESSAGE)


@router.post(
    "/submissions/{submission_id}/case",
    response={200: CaseOut, 201: CaseOut, 403: Error, 404: Error, 409: Error},
    summary="Open a case from a portal request (registering the person if needed)",
)
def case_from_submission(request: HttpRequest, submission_id: RowId) -> Status[CaseOut]:
    membership, rows = _cases(request)
    submissions = intake_selectors.submissions(membership.user, membership.mission)
    submission = submissions.filter(pk=submission_id).first()
    if submission is None:
        raise Http404
    existing = rows.filter(submission=submission).first()
    if existing is not None:
        return Status(200, _case_out(existing, membership))
    if Case.objects.filter(submission=submission).exists():
        raise services.CaseError(
            _("This request already has a restricted case; ask its owner to add you to its team.")
        )
    case = services.open_case_from_submission(submission=submission, actor=membership.user)
    return Status(201, _case_out(case, membership))


@router.get(
    "/cases/{case_id}/messages",
    response={200: list[MessageOut], 403: Error, 404: Error},
    summary="The portal conversation of the request the case came from (the read is logged)",
)
def case_messages(request: HttpRequest, case_id: RowId) -> list[MessageOut]:
    membership, found = _case(request, case_id)
    if found.submission is None:
        return []
    record_read(actor=membership.user, mission=membership.mission, obj=found, fields=["messages"])
    return [
        message_out(row, text) for row, text in intake.conversation_for_mission(found.submission)
    ]


@router.post(
    "/cases/{case_id}/messages",
    response={204: None, 403: Error, 404: Error, 409: Error},
    summary="Send the defender an update through the portal; it counts as a contact",
)
def send_update(request: HttpRequest, case_id: RowId, payload: UpdateIn) -> Status[None]:
    membership, found = _case(request, case_id)
    services.send_update(case=found, actor=membership.user, text=payload.text)
    return Status(204, None)
