"""API: the mission's audit log for its auditors and administrators, as the workspace's log
page shows it (events of the mission and its members' sign-ins, newest first, filtered by an
action prefix), and the chain's verification, itself logged.

``audit`` sits below ``accounts`` (docs/architecture.md), so the role is read through the
token owner's reverse relation to their memberships, as ``core`` does, not through
``accounts.api``."""

from __future__ import annotations

import datetime

from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from haven.audit import selectors
from haven.audit.services import verify_chain
from haven.audit.views import PAGE_SIZE
from haven.core.models import Mission
from haven.core.schemas import Error

router = Router(tags=["audit"])

# The roles the workspace's log page admits.
READERS = frozenset({"auditor", "admin"})

# The last page a client may ask for; beyond the log's end the last page answers.
MAX_PAGE = 10**9


class EventFilters(Schema):
    action: str = Field(default="", max_length=selectors.ACTION_MAX)
    page: int = Field(default=1, ge=1, le=MAX_PAGE)


class EventOut(Schema):
    sequence: int
    occurred_at: datetime.datetime
    actor_id: int | None
    actor_username: str
    action: str
    object_type: str
    object_id: str
    fields: list[str]
    reason: str
    hash: str


class EventPage(Schema):
    count: int
    page: int
    pages: int
    results: list[EventOut]


class VerificationOut(Schema):
    ok: bool
    checked: int
    broken_at: int | None
    problem: str


def _mission(request: HttpRequest) -> Mission:
    """The token's mission, when its owner is an auditor or administrator there; else 403."""
    token = request.auth  # type: ignore[attr-defined]
    role = token.user.memberships.filter(mission_id=token.mission_id).values_list("role", flat=True)
    if role.first() not in READERS:
        raise HttpError(403, _("Only auditors and administrators may read the audit log."))
    mission: Mission = token.mission
    return mission


@router.get(
    "/audit-events",
    response={200: EventPage, 403: Error},
    summary="The mission's audit log, newest first, 50 a page",
)
def audit_events(request: HttpRequest, query: Query[EventFilters]) -> EventPage:
    action = selectors.clean_action_prefix(query.action)
    events = selectors.mission_events(_mission(request), action)
    page = Paginator(events, PAGE_SIZE).get_page(query.page)
    return EventPage(
        count=page.paginator.count,
        page=page.number,
        pages=page.paginator.num_pages,
        results=[
            EventOut(
                sequence=row.sequence,
                occurred_at=row.occurred_at,
                actor_id=row.actor_id,
                actor_username=row.actor_username,
                action=row.action,
                object_type=row.object_type,
                object_id=row.object_id,
                fields=[str(name) for name in row.fields],
                reason=row.reason,
                hash=row.hash,
            )
            for row in page.object_list
        ],
    )


# A GET, though the check is logged (as every audited read is): auditors hold read-only tokens.
@router.get(
    "/audit-events/verification",
    response={200: VerificationOut, 403: Error},
    summary="Walk the whole chain and report the first broken link (the check is logged)",
)
def verify_audit_chain(request: HttpRequest) -> VerificationOut:
    mission = _mission(request)
    result = verify_chain(actor=request.auth.user, mission=mission)  # type: ignore[attr-defined]
    return VerificationOut(**result.as_dict())
