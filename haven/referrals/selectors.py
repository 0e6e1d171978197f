"""Reads of the referral directory (a mission's own) and of a case's referrals."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from haven.accounts.models import User
from haven.core.fields import has_code
from haven.core.models import Mission
from haven.referrals.models import Mechanism


def directory(user: User, mission: Mission, filters: dict[str, Any]) -> QuerySet[Mechanism]:
    rows = Mechanism.objects.for_user(user, mission=mission)
    if filters.get("kind"):
        rows = rows.filter(kind=filters["kind"])
    if filters.get("support"):
        rows = rows.filter(has_code("support_types", filters["support"]))
    if filters.get("active_only"):
        rows = rows.filter(paused=False)
    return rows
