"""Reads of the audit log, scoped to one mission: its events and its members' sign-ins,
newest first, optionally narrowed to actions starting with a prefix (``case.``)."""

from __future__ import annotations

from django.db.models import QuerySet

from haven.audit.models import AuditEvent
from haven.core.models import Mission

ACTION_MAX = 64


def clean_action_prefix(text: str) -> str:
    """The action prefix a person typed, made safe to filter on (no NUL, at most 64)."""
    return text.replace("\x00", "").strip()[:ACTION_MAX]


def mission_events(mission: Mission, action: str = "") -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.for_mission(mission)
    if action:
        events = events.filter(action__startswith=action)
    return events
