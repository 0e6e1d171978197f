"""API: the missions the token's owner belongs to."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import Router, Schema

from haven.core.models import Mission

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


def _memberships(request: HttpRequest) -> dict[int, str]:
    user = request.auth.user  # type: ignore[attr-defined]
    return dict(user.memberships.values_list("mission_id", "role"))


@router.get("/missions", response=list[MissionOut], summary="Missions you belong to")
def missions(request: HttpRequest) -> list[MissionOut]:
    roles = _memberships(request)
    scoped = Mission.objects.for_user(request.auth.user)  # type: ignore[attr-defined]
    return [_out(m, roles[m.pk]) for m in scoped.order_by("name")]


@router.get("/missions/{mission_id}", response=MissionOut, summary="One mission you belong to")
def mission(request: HttpRequest, mission_id: int) -> MissionOut:
    roles = _memberships(request)
    scoped = Mission.objects.for_user(request.auth.user)  # type: ignore[attr-defined]
    found = scoped.filter(pk=mission_id).first()
    if found is None:
        raise Http404
    return _out(found, roles[found.pk])
