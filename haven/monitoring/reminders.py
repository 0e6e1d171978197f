"""Reminders before each hearing: two days ahead, a notice on the desk of every observer from
the mission and of the case's owner and second officer (one per person, hearing day)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from haven.cases.models import Notice, NoticeKind
from haven.monitoring.selectors import hearings_soon

REMIND_BEFORE = datetime.timedelta(hours=48)


def remind_hearings(*, now: datetime.datetime | None = None) -> int:
    now = now or timezone.now()
    created = 0
    for hearing in hearings_soon(now=now, within=REMIND_BEFORE).select_related("case"):
        people = {hearing.case.owner_id, hearing.case.second_officer_id}
        people |= set(hearing.observers.values_list("pk", flat=True))
        for user_id in filter(None, people):
            _notice, made = Notice.objects.get_or_create(
                mission_id=hearing.mission_id,
                user_id=user_id,
                case_id=hearing.case_id,
                kind=NoticeKind.HEARING_SOON,
                due_on=timezone.localdate(hearing.starts_at),
            )
            created += made
    return created
