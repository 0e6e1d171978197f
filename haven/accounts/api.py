"""API: who the token acts for."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

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
