"""Relocation as a case phase (DOMAIN.md, failure 11): the standard tasks before departure,
during the stay, at the return and after it, with due dates from the two dates the officer
gives; the follow-ups after the return keep the case from ending at the airport.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import User
from haven.audit.services import record
from haven.cases.models import Case, RelocationTask
from haven.core.vocab.relocation import AFTER, BEFORE, RELOCATION_TASKS, RETURN, STAY

PHASES = [BEFORE, STAY, RETURN, AFTER]


class RelocationError(Exception):
    """A relocation rule refused the change; the message says why."""


def plan_relocation(
    *, case: Case, actor: User, departs_on: datetime.date, returns_on: datetime.date
) -> list[RelocationTask]:
    """Create the relocation's tasks, each due so many days from departure or return."""
    if not case.is_open:
        raise RelocationError(_("This case is closed. Reopen it first."))
    if RelocationTask.objects.filter(case=case, done_on__isnull=True).exists():
        raise RelocationError(_("This case already has a relocation under way."))
    if returns_on <= departs_on:
        raise ValidationError({"returns_on": _("The return must come after the departure.")})
    if departs_on < timezone.localdate() - datetime.timedelta(days=365):
        raise ValidationError({"departs_on": _("This departure is more than a year ago.")})
    anchors = {"depart": departs_on, "return": returns_on}
    with transaction.atomic():
        RelocationTask.objects.filter(case=case).delete()  # an earlier, finished relocation
        tasks = [
            RelocationTask.objects.create(
                mission_id=case.mission_id,
                case=case,
                data_key_id=case.data_key_id,
                recorded_by=actor,
                task=term.code,
                phase=term["phase"],
                due_on=anchors[term["anchor"]] + datetime.timedelta(days=term["days"]),
            )
            for term in RELOCATION_TASKS
        ]
        record(
            action="case.relocation_planned",
            actor=actor,
            mission=case.mission_id,
            obj=case,
            fields=["relocation_tasks"],
        )
    return tasks


def complete_task(*, task: RelocationTask, actor: User, notes: str = "") -> RelocationTask:
    notes = notes.strip()
    if len(notes) > 5000:
        raise ValidationError(
            {"notes": _("This is too long: at most %(limit)d characters.") % {"limit": 5000}}
        )
    with transaction.atomic():
        task.done_on = task.done_on or timezone.localdate()
        if notes:
            task.notes = notes
        task.save(update_fields=["done_on", *(["notes"] if notes else [])])
        record(
            action="case.relocation_task_done",
            actor=actor,
            mission=task.mission_id,
            obj=task.case,
            fields=["relocation_tasks"],
            reason=task.task,
        )
    return task


def tasks_by_phase(case: Case) -> list[tuple[str, list[RelocationTask]]]:
    tasks = list(RelocationTask.objects.filter(case=case))
    if not tasks:
        return []
    labels: dict[str, Any] = {
        BEFORE: _("Before departure"),
        STAY: _("During the stay"),
        RETURN: _("The return"),
        AFTER: _("After the return"),
    }
    return [(str(labels[phase]), [t for t in tasks if t.phase == phase]) for phase in PHASES]
