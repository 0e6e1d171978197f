"""API: hearings, observation reports, detentions and visits, civic-space events, through the
workspace's services; rows of a case the token owner may not see answer 404."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status

from haven.accounts.api import casework_membership
from haven.accounts.models import Membership, User
from haven.audit.services import record_read
from haven.cases import selectors as case_selectors
from haven.cases.models import Case
from haven.core.schemas import Code, Day, Moment, RowId, items, text
from haven.monitoring import selectors, services
from haven.monitoring.models import Assessment, CivicEvent, Detention, DetentionVisit, Hearing

router = Router(tags=["monitoring"])


class HearingIn(Schema):
    court: str = text(500)
    starts_at: Moment
    tribunal: Code = "civilian"
    observer_ids: list[RowId] = items(50, [])
    partner_observers: str = text(2000, "")


class HearingOut(Schema):
    id: int
    case_id: int
    court: str
    tribunal: str
    starts_at: datetime.datetime
    status: str
    observer_ids: list[int]
    partner_observers: str
    postponed_from_id: int | None
    report: dict[str, Any] | None


class PostponeIn(Schema):
    new_start: Moment | None = None


class StatusIn(Schema):
    status: Code


class ChecklistEntryIn(Schema):
    assessment: Code = Assessment.NOT_OBSERVABLE
    notes: str = text(5000, "")


class ReportIn(Schema):
    summary: str = text(20000)
    access: Code
    authorities_informed: bool = False
    checklist: dict[Code, ChecklistEntryIn] = items(100, {})


class DetentionIn(Schema):
    detained_on: Day
    acknowledged: bool
    location_disclosed: bool
    place: str = text(1000, "")
    family_contact: bool = False
    lawyer_contact: bool = False
    humanitarian_contact: bool = False
    rights_groups_contact: bool = False
    counsel: Code = "none"
    health_concerns: str = text(5000, "")


class DetentionPatch(Schema):
    place: str | None = text(1000, None)
    acknowledged: bool | None = None
    location_disclosed: bool | None = None
    family_contact: bool | None = None
    lawyer_contact: bool | None = None
    humanitarian_contact: bool | None = None
    rights_groups_contact: bool | None = None
    counsel: Code | None = None
    health_concerns: str | None = text(5000, None)
    released_on: Day | None = None


class VisitOut(Schema):
    id: int
    requested_on: datetime.date
    visit_on: datetime.date | None
    status: str
    outcome: str


class DetentionOut(Schema):
    id: int
    detained_on: datetime.date
    acknowledged: bool
    location_disclosed: bool
    place: str
    family_contact: bool
    lawyer_contact: bool
    humanitarian_contact: bool
    rights_groups_contact: bool
    counsel: str
    health_concerns: str
    case_id: int
    defender_id: int
    released_on: datetime.date | None
    visits: list[VisitOut]


class VisitIn(Schema):
    requested_on: Day
    visit_on: Day | None = None


class VisitPatch(Schema):
    status: Code
    visit_on: Day | None = None
    outcome: str = text(10000, "")


class CivicEventIn(Schema):
    kind: Code
    title: str = text(200)
    starts_on: Day
    source_type: Code
    ends_on: Day | None = None
    region: str = text(100, "")
    reliability: Code = "unknown"
    description: str = text(20000, "")
    case_ids: list[RowId] = items(100, [])


class CivicEventOut(Schema):
    id: int
    kind: str
    title: str
    starts_on: datetime.date
    ends_on: datetime.date | None
    region: str
    source_type: str
    reliability: str
    description: str
    case_ids: list[int]


def _membership(request: HttpRequest) -> Membership:
    return casework_membership(request, _("Only administrators and officers may do this."))


def _case(membership: Membership, case_id: int) -> Case:
    case = case_selectors.cases(membership.user, membership.mission).filter(pk=case_id).first()
    if case is None:
        raise Http404
    return case


def _row(membership: Membership, model: type[Any], pk: int) -> Any:
    row = model.objects.for_user(membership.user, mission=membership.mission).filter(pk=pk)
    found = row.select_related("case").first()
    if found is None:
        raise Http404
    return found


def _users(membership: Membership, ids: list[int]) -> list[User]:
    return [
        services.cases.caseworker(
            membership.mission, User.objects.filter(pk=pk).first(), "observer_ids"
        )
        for pk in ids
    ]


def _hearing_out(hearing: Hearing) -> HearingOut:
    report = getattr(hearing, "report", None)
    return HearingOut(
        id=hearing.pk,
        case_id=hearing.case_id,
        court=hearing.court,
        tribunal=hearing.tribunal,
        starts_at=hearing.starts_at,
        status=hearing.status,
        observer_ids=list(hearing.observers.values_list("pk", flat=True)),
        partner_observers=hearing.partner_observers,
        postponed_from_id=hearing.postponed_from_id,
        report=None
        if report is None
        else {
            "summary": report.summary,
            "access": report.access,
            "authorities_informed": report.authorities_informed,
            "checklist": report.checklist,
        },
    )


def _detention_out(detention: Detention) -> DetentionOut:
    return DetentionOut(
        id=detention.pk,
        case_id=detention.case_id,
        defender_id=detention.defender_id,
        released_on=detention.released_on,
        **{name: getattr(detention, name) for name in DetentionIn.model_fields},
        visits=[
            VisitOut(
                id=v.pk,
                requested_on=v.requested_on,
                visit_on=v.visit_on,
                status=v.status,
                outcome=v.outcome,
            )
            for v in detention.visits.all()
        ],
    )


def _event_out(event: CivicEvent, case_ids: list[int]) -> CivicEventOut:
    return CivicEventOut(
        id=event.pk,
        kind=event.kind,
        title=event.title,
        starts_on=event.starts_on,
        ends_on=event.ends_on,
        region=event.region,
        source_type=event.source_type,
        reliability=event.reliability,
        description=event.description,
        case_ids=case_ids,
    )


@router.get("/hearings", response=list[HearingOut], summary="Hearings of the cases you see")
def hearings(request: HttpRequest) -> list[HearingOut]:
    membership = _membership(request)
    upcoming, past = selectors.calendar(membership.user, membership.mission)
    return [_hearing_out(h) for h in [*past[::-1], *upcoming]]


@router.post("/cases/{case_id}/hearings", response={201: HearingOut}, summary="Schedule one")
def schedule_hearing(
    request: HttpRequest, case_id: RowId, payload: HearingIn
) -> Status[HearingOut]:
    membership = _membership(request)
    hearing = services.schedule_hearing(
        case=_case(membership, case_id),
        actor=membership.user,
        court=payload.court,
        starts_at=payload.starts_at,
        tribunal=payload.tribunal,
        observers=_users(membership, payload.observer_ids),
        partner_observers=payload.partner_observers,
    )
    return Status(201, _hearing_out(hearing))


@router.get("/hearings/{hearing_id}", response=HearingOut, summary="One hearing and its report")
def hearing(request: HttpRequest, hearing_id: RowId) -> HearingOut:
    membership = _membership(request)
    found = _row(membership, Hearing, hearing_id)
    record_read(actor=membership.user, mission=membership.mission, obj=found)
    return _hearing_out(found)


@router.post("/hearings/{hearing_id}/postpone", response=HearingOut, summary="Postponed")
def postpone(request: HttpRequest, hearing_id: RowId, payload: PostponeIn) -> HearingOut:
    membership = _membership(request)
    found = _row(membership, Hearing, hearing_id)
    new = services.postpone_hearing(
        hearing=found, actor=membership.user, new_start=payload.new_start
    )
    return _hearing_out(new or found)


@router.post("/hearings/{hearing_id}/status", response=HearingOut, summary="Held or cancelled")
def hearing_status(request: HttpRequest, hearing_id: RowId, payload: StatusIn) -> HearingOut:
    membership = _membership(request)
    found = _row(membership, Hearing, hearing_id)
    services.set_hearing_status(hearing=found, actor=membership.user, status=payload.status)
    return _hearing_out(found)


@router.put("/hearings/{hearing_id}/report", response=HearingOut, summary="Observation report")
def report(request: HttpRequest, hearing_id: RowId, payload: ReportIn) -> HearingOut:
    membership = _membership(request)
    found = _row(membership, Hearing, hearing_id)
    services.record_observation(hearing=found, actor=membership.user, **payload.dict())
    found.refresh_from_db()
    return _hearing_out(found)


@router.post("/cases/{case_id}/detentions", response={201: DetentionOut}, summary="Detained")
def record_detention(
    request: HttpRequest, case_id: RowId, payload: DetentionIn
) -> Status[DetentionOut]:
    membership = _membership(request)
    case = _case(membership, case_id)
    if case.defender is None:
        raise Http404
    detention = services.record_detention(
        case=case, actor=membership.user, defender=case.defender, **payload.dict()
    )
    return Status(201, _detention_out(detention))


@router.get("/detentions/{detention_id}", response=DetentionOut, summary="One detention")
def detention(request: HttpRequest, detention_id: RowId) -> DetentionOut:
    membership = _membership(request)
    found = _row(membership, Detention, detention_id)
    record_read(actor=membership.user, mission=membership.mission, obj=found)
    return _detention_out(found)


@router.patch("/detentions/{detention_id}", response=DetentionOut, summary="Conditions, release")
def change_detention(
    request: HttpRequest, detention_id: RowId, payload: DetentionPatch
) -> DetentionOut:
    membership = _membership(request)
    found = _row(membership, Detention, detention_id)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    services.update_detention(detention=found, actor=membership.user, changes=changes)
    return _detention_out(found)


@router.post("/detentions/{detention_id}/visits", response={201: VisitOut}, summary="Ask a visit")
def request_visit(request: HttpRequest, detention_id: RowId, payload: VisitIn) -> Status[VisitOut]:
    membership = _membership(request)
    found = _row(membership, Detention, detention_id)
    visit = services.request_visit(detention=found, actor=membership.user, **payload.dict())
    return Status(
        201,
        VisitOut(
            id=visit.pk,
            requested_on=visit.requested_on,
            visit_on=visit.visit_on,
            status=visit.status,
            outcome="",
        ),
    )


def _visit_out(visit: DetentionVisit) -> VisitOut:
    return VisitOut(
        id=visit.pk,
        requested_on=visit.requested_on,
        visit_on=visit.visit_on,
        status=visit.status,
        outcome=visit.outcome,
    )


@router.get("/visits/{visit_id}", response=VisitOut, summary="One visit request")
def visit(request: HttpRequest, visit_id: RowId) -> VisitOut:
    return _visit_out(_row(_membership(request), DetentionVisit, visit_id))


@router.get("/hearings/{hearing_id}/report", response=HearingOut, summary="The report, with it")
def read_report(request: HttpRequest, hearing_id: RowId) -> HearingOut:
    membership = _membership(request)
    found = _row(membership, Hearing, hearing_id)
    record_read(actor=membership.user, mission=membership.mission, obj=found)
    return _hearing_out(found)


@router.patch("/visits/{visit_id}", response=VisitOut, summary="How the visit request went")
def change_visit(request: HttpRequest, visit_id: RowId, payload: VisitPatch) -> VisitOut:
    membership = _membership(request)
    visit = _row(membership, DetentionVisit, visit_id)
    services.update_visit(visit=visit, actor=membership.user, **payload.dict())
    return VisitOut(
        id=visit.pk,
        requested_on=visit.requested_on,
        visit_on=visit.visit_on,
        status=visit.status,
        outcome=visit.outcome,
    )


@router.get("/civic-events", response=list[CivicEventOut], summary="Civic-space events")
def civic_events(
    request: HttpRequest, kind: Code = "", region: Annotated[str, text(100)] = ""
) -> list[CivicEventOut]:
    membership = _membership(request)
    rows = selectors.civic_events(
        membership.user, membership.mission, {"kind": kind, "region": region}
    ).prefetch_related("data_key")
    visible = set(
        case_selectors.cases(membership.user, membership.mission).values_list("pk", flat=True)
    )
    return [
        _event_out(event, [pk for pk in event.cases.values_list("pk", flat=True) if pk in visible])
        for event in rows[:500]
    ]


@router.post("/civic-events", response={201: CivicEventOut}, summary="Record an event")
def record_civic_event(request: HttpRequest, payload: CivicEventIn) -> Status[CivicEventOut]:
    membership = _membership(request)
    linked = list(
        case_selectors.cases(membership.user, membership.mission).filter(pk__in=payload.case_ids)
    )
    if len(linked) != len(set(payload.case_ids)):
        raise Http404
    event = services.record_civic_event(
        mission=membership.mission,
        actor=membership.user,
        cases_linked=linked,
        **payload.dict(exclude={"case_ids"}),
    )
    return Status(201, _event_out(event, [case.pk for case in linked]))
