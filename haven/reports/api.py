"""API: the two-person export flow, asking and deciding only. Administrators only, as in the
workspace; ``haven.reports.approvals`` keeps every rule (a second administrator decides, a
request lapses after its window). The download stays in the workspace, behind a fresh
re-authentication: no token can take the mission's records away."""

from __future__ import annotations

import datetime

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from haven.accounts.api import role_membership
from haven.accounts.models import Membership
from haven.core.schemas import Error, RowId
from haven.reports import approvals
from haven.reports.models import ExportRequest

router = Router(tags=["exports"])

RECENT = 20


class ExportIn(Schema):
    kind: str = Field(max_length=20)
    reason: str = Field(max_length=30)


class ExportOut(Schema):
    id: int
    kind: str
    reason: str
    status: str
    requested_by_id: int
    requested_at: datetime.datetime
    decided_by_id: int | None
    decided_at: datetime.datetime | None
    expires_at: datetime.datetime
    downloaded_at: datetime.datetime | None


class ExportsOut(Schema):
    awaiting: list[ExportOut]
    mine: list[ExportOut]


def _membership(request: HttpRequest) -> Membership:
    return role_membership(request, ["admin"], _("Only administrators may handle exports."))


def _export(request: HttpRequest, export_id: int) -> tuple[Membership, ExportRequest]:
    membership = _membership(request)
    rows = ExportRequest.objects.for_user(
        membership.user, mission=membership.mission, roles=["admin"]
    ).select_related("mission")
    found = rows.filter(pk=export_id).first()
    if found is None:
        raise Http404
    return membership, found


def _out(row: ExportRequest) -> ExportOut:
    return ExportOut(
        id=row.pk,
        kind=row.kind,
        reason=row.reason,
        status=row.status,
        requested_by_id=row.requested_by_id,
        requested_at=row.requested_at,
        decided_by_id=row.decided_by_id,
        decided_at=row.decided_at,
        expires_at=row.expires_at,
        downloaded_at=row.downloaded_at,
    )


@router.get(
    "/exports",
    response={200: ExportsOut, 403: Error},
    summary="Exports awaiting your decision, and your own recent requests",
)
def exports(request: HttpRequest) -> ExportsOut:
    membership = _membership(request)
    user, mission = membership.user, membership.mission
    approvals.expire_lapsed(mission)
    mine = ExportRequest.objects.filter(mission=mission, requested_by=user)[:RECENT]
    return ExportsOut(
        awaiting=[_out(row) for row in approvals.awaiting_approval(mission, user)],
        mine=[_out(row) for row in mine],
    )


@router.post(
    "/exports",
    response={201: ExportOut, 403: Error, 409: Error},
    summary="Ask for an export of identifiable data; a second administrator must approve it",
)
def request_export(request: HttpRequest, payload: ExportIn) -> Status[ExportOut]:
    membership = _membership(request)
    row = approvals.request_export(
        mission=membership.mission, actor=membership.user, kind=payload.kind, reason=payload.reason
    )
    return Status(201, _out(row))


@router.post(
    "/exports/{export_id}/approve",
    response={200: ExportOut, 403: Error, 404: Error, 409: Error},
    summary="Approve another administrator's export request",
)
def approve_export(request: HttpRequest, export_id: RowId) -> ExportOut:
    membership, found = _export(request, export_id)
    return _out(approvals.approve_export(request=found, actor=membership.user))


@router.post(
    "/exports/{export_id}/refuse",
    response={200: ExportOut, 403: Error, 404: Error, 409: Error},
    summary="Refuse another administrator's export request",
)
def refuse_export(request: HttpRequest, export_id: RowId) -> ExportOut:
    membership, found = _export(request, export_id)
    return _out(approvals.refuse_export(request=found, actor=membership.user))


@router.post(
    "/exports/{export_id}/cancel",
    response={200: ExportOut, 403: Error, 404: Error, 409: Error},
    summary="Withdraw your own export request",
)
def cancel_export(request: HttpRequest, export_id: RowId) -> ExportOut:
    membership, found = _export(request, export_id)
    return _out(approvals.cancel_export(request=found, actor=membership.user))
