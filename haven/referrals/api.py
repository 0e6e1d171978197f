"""API: the mission's referral directory and referrals from cases, with the workspace's rules
(a referral needs the defender's consent; a paused mechanism takes none)."""

from __future__ import annotations

import datetime

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status

from haven.accounts.api import casework_membership
from haven.accounts.models import Membership
from haven.cases import selectors as case_selectors
from haven.core.schemas import Code, Day, RowId, items, text
from haven.referrals import selectors, services
from haven.referrals.models import Mechanism, Referral

router = Router(tags=["referrals"])


class MechanismIn(Schema):
    name: str = text(200)
    kind: Code
    support_types: list[Code] = items(50, [])
    eligibility: str = text(5000, "")
    how_to_apply: str = text(5000, "")
    languages: str = text(300, "")
    contact: str = text(500, "")
    website: str = text(200, "")
    source: str = text(200, "")
    paused: bool = False


class MechanismOut(Schema):
    id: int
    name: str
    kind: str
    support_types: list[str]
    eligibility: str
    how_to_apply: str
    languages: str
    contact: str
    website: str
    source: str
    paused: bool
    last_verified_on: datetime.date | None
    stale: bool


class ReferralIn(Schema):
    mechanism_id: RowId
    referred_on: Day | None = None
    outcome: str = text(10000, "")


class ReferralPatch(Schema):
    status: Code
    outcome: str = text(10000, "")


class ReferralOut(Schema):
    id: int
    case_id: int
    mechanism_id: int
    referred_on: datetime.date
    status: str
    outcome: str


def _membership(request: HttpRequest) -> Membership:
    return casework_membership(request, _("Only administrators and officers may do this."))


def _mechanism_out(row: Mechanism) -> MechanismOut:
    return MechanismOut(
        id=row.pk,
        name=row.name,
        kind=row.kind,
        support_types=list(row.support_types),
        eligibility=row.eligibility,
        how_to_apply=row.how_to_apply,
        languages=row.languages,
        contact=row.contact,
        website=row.website,
        source=row.source,
        paused=row.paused,
        last_verified_on=row.last_verified_on,
        stale=row.stale,
    )


def _referral_out(row: Referral) -> ReferralOut:
    return ReferralOut(
        id=row.pk,
        case_id=row.case_id,
        mechanism_id=row.mechanism_id,
        referred_on=row.referred_on,
        status=row.status,
        outcome=row.outcome,
    )


@router.get("/mechanisms", response=list[MechanismOut], summary="The referral directory")
def mechanisms(request: HttpRequest, kind: Code = "", support: Code = "") -> list[MechanismOut]:
    membership = _membership(request)
    rows = selectors.directory(
        membership.user, membership.mission, {"kind": kind, "support": support}
    )
    return [_mechanism_out(row) for row in rows]


@router.post("/mechanisms", response={201: MechanismOut}, summary="Add a mechanism")
def add_mechanism(request: HttpRequest, payload: MechanismIn) -> Status[MechanismOut]:
    membership = _membership(request)
    row = services.add_mechanism(
        mission=membership.mission, actor=membership.user, **payload.dict()
    )
    return Status(201, _mechanism_out(row))


@router.post("/mechanisms/{mechanism_id}/verify", response=MechanismOut, summary="Checked today")
def verify(request: HttpRequest, mechanism_id: RowId) -> MechanismOut:
    membership = _membership(request)
    row = (
        Mechanism.objects.for_user(membership.user, mission=membership.mission)
        .filter(pk=mechanism_id)
        .first()
    )
    if row is None:
        raise Http404
    services.verify_mechanism(mechanism=row, actor=membership.user)
    return _mechanism_out(row)


@router.get("/cases/{case_id}/referrals", response=list[ReferralOut], summary="A case's")
def referrals(request: HttpRequest, case_id: RowId) -> list[ReferralOut]:
    membership = _membership(request)
    case = case_selectors.cases(membership.user, membership.mission).filter(pk=case_id).first()
    if case is None:
        raise Http404
    return [_referral_out(row) for row in Referral.objects.filter(case=case)]


@router.post("/cases/{case_id}/referrals", response={201: ReferralOut}, summary="Refer")
def refer(request: HttpRequest, case_id: RowId, payload: ReferralIn) -> Status[ReferralOut]:
    membership = _membership(request)
    case = case_selectors.cases(membership.user, membership.mission).filter(pk=case_id).first()
    mechanism = Mechanism.objects.filter(
        mission=membership.mission, pk=payload.mechanism_id
    ).first()
    if case is None or mechanism is None:
        raise Http404
    row = services.refer(
        case=case,
        actor=membership.user,
        mechanism=mechanism,
        referred_on=payload.referred_on,
        outcome=payload.outcome,
    )
    return Status(201, _referral_out(row))


def _referral(membership: Membership, referral_id: int) -> Referral:
    rows = Referral.objects.for_user(membership.user, mission=membership.mission)
    row = rows.filter(pk=referral_id).first()
    if row is None:
        raise Http404
    return row


@router.get("/referrals/{referral_id}", response=ReferralOut, summary="One referral")
def referral(request: HttpRequest, referral_id: RowId) -> ReferralOut:
    return _referral_out(_referral(_membership(request), referral_id))


@router.patch("/referrals/{referral_id}", response=ReferralOut, summary="Status and outcome")
def change_referral(
    request: HttpRequest, referral_id: RowId, payload: ReferralPatch
) -> ReferralOut:
    membership = _membership(request)
    row = _referral(membership, referral_id)
    services.update_referral(referral=row, actor=membership.user, **payload.dict())
    return _referral_out(row)
