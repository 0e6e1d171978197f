"""Reads of the intake, scoped to the user's mission: the triage inbox, most urgent first."""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.db.models.functions import Coalesce, NullIf

from haven.accounts.models import User
from haven.core.models import Mission
from haven.intake.models import URGENCY_ORDER, Submission, SubmissionStatus


def submissions(user: User, mission: Mission) -> QuerySet[Submission]:
    return Submission.objects.for_user(user, mission=mission)


def inbox(user: User, mission: Mission) -> QuerySet[Submission]:
    """Open requests: confirmed urgency first, else the suggested one; then the oldest."""
    urgency = Coalesce(NullIf("urgency", Value("")), "suggested_urgency")
    rank = Case(
        *(When(**{"rank_of": level}, then=Value(n)) for n, level in enumerate(URGENCY_ORDER)),
        default=Value(len(URGENCY_ORDER)),
        output_field=IntegerField(),
    )
    return (
        submissions(user, mission)
        .exclude(status=SubmissionStatus.CLOSED)
        .annotate(rank_of=urgency)
        .annotate(rank=rank)
        .order_by("rank", "received_on", "pk")
        .defer("sealed")
    )


def new_count(user: User, mission: Mission) -> int:
    return submissions(user, mission).filter(status=SubmissionStatus.RECEIVED).count()
