"""API: partner missions and the bundles exchanged with them, as metadata only (who, when,
what kind, which fields went): never a bundle's contents, never a key. The workspace's scopes
and roles: administrators and officers see partners and bundles, of sent summaries only those
of cases they may see; administrators add partners and pause or resume them. Verifying a
partner's fingerprint, and making or importing bundles, stay in the workspace behind a fresh
re-authentication."""

from __future__ import annotations

import datetime
import uuid

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from haven.accounts.api import casework_membership, role_membership
from haven.accounts.models import Membership
from haven.coordination import selectors, services
from haven.coordination.models import Disclosure, Partner, ReceivedBundle
from haven.core.schemas import Error, RowId

router = Router(tags=["coordination"])


class PartnerOut(Schema):
    id: int
    name: str
    code: str
    country: str
    fingerprint: str
    added_at: datetime.datetime
    verified_at: datetime.datetime | None
    active: bool


class PartnerIn(Schema):
    card: str = Field(max_length=4000)
    code: str = Field(max_length=20)
    country: str = Field(default="", max_length=2)


class ActiveIn(Schema):
    active: bool


class DisclosureOut(Schema):
    id: int
    partner_id: int
    kind: str
    case_id: int | None
    bundle_uuid: uuid.UUID
    reason: str
    consent_basis: str
    fields: list[str]
    hearing_count: int
    created_by_id: int | None
    created_at: datetime.datetime


class ReceivedOut(Schema):
    id: int
    partner_id: int
    kind: str
    bundle_uuid: uuid.UUID
    sender_fingerprint: str
    sent_at: datetime.datetime
    received_at: datetime.datetime
    received_by_id: int | None


def _casework(request: HttpRequest) -> Membership:
    return casework_membership(
        request, _("Only administrators and officers may work with partner missions.")
    )


def _admin(request: HttpRequest) -> Membership:
    return role_membership(request, ["admin"], _("Only administrators may manage partners."))


def _partner(membership: Membership, partner_id: int) -> Partner:
    found = selectors.partners(membership.user, membership.mission).filter(pk=partner_id).first()
    if found is None:
        raise Http404
    return found


def _partner_out(row: Partner) -> PartnerOut:
    return PartnerOut(
        id=row.pk,
        name=row.name,
        code=row.code,
        country=row.country,
        fingerprint=row.fingerprint,
        added_at=row.added_at,
        verified_at=row.verified_at,
        active=row.active,
    )


def _disclosure_out(row: Disclosure) -> DisclosureOut:
    return DisclosureOut(
        id=row.pk,
        partner_id=row.partner_id,
        kind=row.kind,
        case_id=row.case_id,
        bundle_uuid=row.bundle_uuid,
        reason=row.reason,
        consent_basis=row.consent_basis,
        fields=[str(name) for name in row.fields],
        hearing_count=row.hearing_count,
        created_by_id=row.created_by_id,
        created_at=row.created_at,
    )


def _received_out(row: ReceivedBundle) -> ReceivedOut:
    return ReceivedOut(
        id=row.pk,
        partner_id=row.partner_id,
        kind=row.kind,
        bundle_uuid=row.bundle_uuid,
        sender_fingerprint=row.sender_fingerprint,
        sent_at=row.sent_at,
        received_at=row.received_at,
        received_by_id=row.received_by_id,
    )


# -- partners


@router.get(
    "/partners",
    response={200: list[PartnerOut], 403: Error},
    summary="Partner missions",
)
def partners(request: HttpRequest) -> list[PartnerOut]:
    membership = _casework(request)
    return [_partner_out(row) for row in selectors.partners(membership.user, membership.mission)]


@router.post(
    "/partners",
    response={201: PartnerOut, 403: Error, 409: Error},
    summary="Add a partner from the key card it sent; it starts unverified",
)
def add_partner(request: HttpRequest, payload: PartnerIn) -> Status[PartnerOut]:
    membership = _admin(request)
    row = services.add_partner(mission=membership.mission, actor=membership.user, **payload.dict())
    return Status(201, _partner_out(row))


@router.get(
    "/partners/{partner_id}",
    response={200: PartnerOut, 403: Error, 404: Error},
    summary="One partner",
)
def partner(request: HttpRequest, partner_id: RowId) -> PartnerOut:
    return _partner_out(_partner(_admin(request), partner_id))


@router.put(
    "/partners/{partner_id}/active",
    response={200: PartnerOut, 403: Error, 404: Error},
    summary="Pause or resume exchanges with a partner, keeping its history",
)
def set_partner_active(request: HttpRequest, partner_id: RowId, payload: ActiveIn) -> PartnerOut:
    membership = _admin(request)
    row = services.set_partner_active(
        partner=_partner(membership, partner_id), actor=membership.user, active=payload.active
    )
    return _partner_out(row)


# -- bundles, metadata only


@router.get(
    "/disclosures",
    response={200: list[DisclosureOut], 403: Error},
    summary="Bundles sent to partners, newest first (what went, never the contents)",
)
def disclosures(request: HttpRequest) -> list[DisclosureOut]:
    membership = _casework(request)
    rows = selectors.disclosures(membership.user, membership.mission)[: selectors.RECENT]
    return [_disclosure_out(row) for row in rows]


@router.get(
    "/received-bundles",
    response={200: list[ReceivedOut], 403: Error},
    summary="Bundles received from partners, newest first (never the contents)",
)
def received_bundles(request: HttpRequest) -> list[ReceivedOut]:
    membership = _casework(request)
    rows = selectors.received(membership.user, membership.mission)[: selectors.RECENT]
    return [_received_out(row) for row in rows]


@router.get(
    "/received-bundles/{received_id}",
    response={200: ReceivedOut, 403: Error, 404: Error},
    summary="One received bundle (never the contents)",
)
def received_bundle(request: HttpRequest, received_id: RowId) -> ReceivedOut:
    membership = _casework(request)
    rows = selectors.received(membership.user, membership.mission)
    found = rows.filter(pk=received_id).first()
    if found is None:
        raise Http404
    return _received_out(found)
