"""Reads for the shell: which mission the portal speaks for, what the desk shows."""

from __future__ import annotations

from django.conf import settings

from haven.core.models import Mission


def portal_mission() -> Mission | None:
    """The mission this portal host serves: ``HAVEN_PORTAL_MISSION``, else the first one."""
    missions = Mission.objects.all()
    if settings.HAVEN_PORTAL_MISSION:
        return missions.filter(slug=settings.HAVEN_PORTAL_MISSION).first()
    return missions.order_by("pk").first()
