"""API: the missions the token's owner belongs to."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import Router, Schema

from haven.core.models import Mission
from haven.core.schemas import RowId

router = Router(tags=["missions"])


class MissionOut(Schema):
    id: int
    name: str
    slug: str
    country: str
    timezone: str
    portal_languages: list[str]
    role: str


def _out(mission: Mission, role: str) -> MissionOut:
    return MissionOut(
        id=mission.pk,
        name=mission.name,
        slug=mission.slug,
        country=mission.country,
        timezone=mission.timezone,
        portal_languages=list(mission.portal_languages),
        role=role,
    )


def _scoped(request: HttpRequest) -> list[tuple[Mission, str]]:
    """A token acts in the one mission it was made for, and only while its owner belongs."""
    token = request.auth  # type: ignore[attr-defined]
    rows = Mission.objects.for_user(token.user).filter(pk=token.mission_id)
    roles = dict(token.user.memberships.values_list("mission_id", "role"))
    return [(mission, roles[mission.pk]) for mission in rows]


@router.get("/missions", response=list[MissionOut], summary="The mission this token acts in")
def missions(request: HttpRequest) -> list[MissionOut]:
    return [_out(mission, role) for mission, role in _scoped(request)]


@router.get("/missions/{mission_id}", response=MissionOut, summary="One mission by id")
def mission(request: HttpRequest, mission_id: RowId) -> MissionOut:
    for found, role in _scoped(request):
        if found.pk == mission_id:
            return _out(found, role)
    raise Http404
