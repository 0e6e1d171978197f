"""API: who the token acts for, and the membership check of every route that reaches records."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from haven.accounts.models import Membership
from haven.core.models import CASEWORK_ROLES

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
