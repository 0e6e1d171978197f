"""API: who the token acts for; the membership check of every route that reaches records; and,
for administrators, the mission's members and their roles (through the same services as the
members pages). Adding people, one-time passwords, second factors and sessions stay in the
workspace, behind a fresh re-authentication: a token cannot hand out or reset credentials."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Annotated

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from haven.accounts import selectors, services
from haven.accounts.models import Membership, User
from haven.core.models import CASEWORK_ROLES
from haven.core.schemas import Error, RowId

router = Router(tags=["accounts"])


class MissionRef(Schema):
    id: int
    name: str
    slug: str


class MeOut(Schema):
    username: str
    mission: MissionRef
    role: str
    token_scope: str


@router.get("/me", response=MeOut, summary="The account and mission this token acts for")
def me(request: HttpRequest) -> MeOut:
    token = request.auth  # type: ignore[attr-defined]
    membership = token.user.memberships.get(mission=token.mission)
    return MeOut(
        username=token.user.username,
        mission=MissionRef(id=token.mission.pk, name=token.mission.name, slug=token.mission.slug),
        role=membership.role,
        token_scope=token.scope,
    )


def casework_membership(request: HttpRequest, refusal: str) -> Membership:
    """The token owner's membership of the token's mission, when it is an administrator's or
    an officer's; otherwise 403 with ``refusal``. For routes that reach domain records."""
    return role_membership(request, CASEWORK_ROLES, refusal)


def role_membership(request: HttpRequest, roles: Iterable[str], refusal: str) -> Membership:
    """The token owner's membership of the token's mission, when its role is one of ``roles``
    (as the workspace page's ``requires_role``); otherwise 403 with ``refusal``."""
    token = request.auth  # type: ignore[attr-defined]
    membership = (
        Membership.objects.filter(user=token.user, mission=token.mission)
        .select_related("mission", "user")
        .first()
    )
    if membership is None or membership.role not in roles:
        raise HttpError(403, refusal)
    return membership


# -- members and roles (administrators)


class MemberOut(Schema):
    id: int
    user_id: int
    username: str
    active: bool
    role: str
    sees_identity_tags: bool
    sections: list[str]
    created_at: datetime.datetime


class RoleIn(Schema):
    role: str = Field(max_length=16)
    sees_identity_tags: bool | None = None
    sections: list[Annotated[str, Field(max_length=40)]] | None = Field(default=None, max_length=20)


def _admin(request: HttpRequest) -> Membership:
    return role_membership(request, ["admin"], _("Only administrators may manage members."))


def _member(request: HttpRequest, membership_id: int) -> tuple[User, Membership]:
    admin = _admin(request)
    found = selectors.members_of(admin.user, admin.mission).filter(pk=membership_id).first()
    if found is None:
        raise Http404
    return admin.user, found


def _member_out(row: Membership) -> MemberOut:
    return MemberOut(
        id=row.pk,
        user_id=row.user_id,
        username=row.user.username,
        active=row.user.is_active,
        role=row.role,
        sees_identity_tags=row.sees_identity_tags,
        sections=list(row.sections),
        created_at=row.created_at,
    )


@router.get(
    "/members",
    response={200: list[MemberOut], 403: Error},
    summary="The mission's members and their roles",
)
def members(request: HttpRequest) -> list[MemberOut]:
    admin = _admin(request)
    return [_member_out(row) for row in selectors.members_of(admin.user, admin.mission)]


@router.get(
    "/members/{membership_id}",
    response={200: MemberOut, 403: Error, 404: Error},
    summary="One member",
)
def member(request: HttpRequest, membership_id: RowId) -> MemberOut:
    _actor, found = _member(request, membership_id)
    return _member_out(found)


@router.put(
    "/members/{membership_id}/role",
    response={200: MemberOut, 403: Error, 404: Error, 409: Error},
    summary="Change a member's role, identity-tag permission and sections",
)
def change_role(request: HttpRequest, membership_id: RowId, payload: RoleIn) -> MemberOut:
    actor, found = _member(request, membership_id)
    changed = services.change_role(
        actor=actor,
        membership=found,
        role=payload.role,
        sees_identity_tags=payload.sees_identity_tags,
        sections=payload.sections,
    )
    return _member_out(changed)


@router.delete(
    "/members/{membership_id}",
    response={204: None, 403: Error, 404: Error, 409: Error},
    summary="End a membership (their tokens for the mission are revoked)",
)
def remove_member(request: HttpRequest, membership_id: RowId) -> Status[None]:
    actor, found = _member(request, membership_id)
    services.remove_membership(actor=actor, membership=found)
    return Status(204, None)
