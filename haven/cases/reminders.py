"""The worker's part in follow-up: reminders on each officer's desk, and a daily digest.

``raise_reminders`` leaves a notice for each follow-up, action, risk review or response
deadline that falls due; ``send_digests`` queues one e-mail a day per member who has anything
waiting. Both are safe to run twice (one notice per case, kind and day; one digest per day).
The digest carries counts only: no name, no case number, no content (DOMAIN.md safety rule 5).
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_tasks import task

from haven.accounts.models import Membership, User
from haven.cases import selectors
from haven.cases.models import (
    AWAITING_RESPONSE,
    OPEN_STATUSES,
    PENDING_ACTIONS,
    Action,
    Case,
    DigestSent,
    Notice,
    NoticeKind,
)
from haven.core.models import CASEWORK_ROLES

DIGEST_HOUR = 7


def _notice(case_id: int, mission_id: int, user_id: int, kind: str, due_on: datetime.date) -> bool:
    _, created = Notice.objects.get_or_create(
        mission_id=mission_id, user_id=user_id, case_id=case_id, kind=kind, due_on=due_on
    )
    return created


def raise_reminders(*, now: datetime.datetime | None = None) -> int:
    """Leave a notice on the desk of whoever must act; returns how many were new."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    created = 0
    open_cases = Case.objects.filter(status__in=OPEN_STATUSES)
    fields = ("pk", "mission_id", "owner_id", "second_officer_id")
    for pk, mission_id, owner, second, due in open_cases.filter(
        next_contact_on__lte=today
    ).values_list(*fields, "next_contact_on"):
        for user in filter(None, (owner, second)):
            created += _notice(pk, mission_id, user, NoticeKind.FOLLOW_UP_DUE, due)
    for pk, mission_id, owner, second, due in open_cases.filter(
        review_due_on__lte=today
    ).values_list(*fields, "review_due_on"):
        for user in filter(None, (owner, second)):
            created += _notice(pk, mission_id, user, NoticeKind.REVIEW_DUE, due)
    for pk, mission_id, owner, second, due_at in open_cases.filter(
        responded_at__isnull=True,
        status__in=AWAITING_RESPONSE,
        response_due_at__lte=now + selectors.RESPONSE_WARNING,
    ).values_list(*fields, "response_due_at"):
        for user in filter(None, (owner, second)):
            created += _notice(
                pk, mission_id, user, NoticeKind.RESPONSE_DUE, timezone.localdate(due_at)
            )
    for case_id, mission_id, owner, due_on, contact_on in Action.objects.filter(
        status__in=PENDING_ACTIONS, case__status__in=OPEN_STATUSES
    ).values_list("case_id", "mission_id", "owner_id", "due_on", "next_contact_on"):
        days = [day for day in (due_on, contact_on) if day is not None and day <= today]
        if days:
            created += _notice(case_id, mission_id, owner, NoticeKind.FOLLOW_UP_DUE, min(days))
    return created


def digest_text(counts: dict[str, int]) -> str:
    """The digest's body in the active language: counts and where to look, nothing else."""
    lines = [
        ngettext(
            "%(count)d follow-up or action is overdue.",
            "%(count)d follow-ups or actions are overdue.",
            counts["overdue"],
        )
        % {"count": counts["overdue"]},
        ngettext(
            "%(count)d follow-up or action is due today.",
            "%(count)d follow-ups or actions are due today.",
            counts["due_today"],
        )
        % {"count": counts["due_today"]},
        ngettext(
            "%(count)d response deadline passes within a day.",
            "%(count)d response deadlines pass within a day.",
            counts["deadlines"],
        )
        % {"count": counts["deadlines"]},
        ngettext(
            "%(count)d risk review is due.", "%(count)d risk reviews are due.", counts["reviews"]
        )
        % {"count": counts["reviews"]},
        ngettext(
            "%(count)d high-risk defender has had no recent contact.",
            "%(count)d high-risk defenders have had no recent contact.",
            counts["quiet"],
        )
        % {"count": counts["quiet"]},
        ngettext(
            "%(count)d new notice waits on your desk.",
            "%(count)d new notices wait on your desk.",
            counts["notices"],
        )
        % {"count": counts["notices"]},
    ]
    if counts.get("account_notices"):
        # Only administrators get these: the others would read a line that never concerns them.
        lines.append(
            ngettext(
                "%(count)d change to someone's access waits on your desk.",
                "%(count)d changes to people's access wait on your desk.",
                counts["account_notices"],
            )
            % {"count": counts["account_notices"]}
        )
    return "\n".join(
        [
            _("In Haven today:"),
            "",
            *lines,
            "",
            _("Sign in to the workspace to see them: %(url)s") % {"url": settings.HAVEN_DESK_URL},
        ]
    )


@task()
def send_digest(*, user_id: int, counts: dict[str, int], language: str) -> None:
    """Send one digest e-mail (run by the task worker, ``manage.py db_worker``)."""
    user = User.objects.get(pk=user_id)
    with translation.override(language):
        total = sum(counts.values())
        subject = ngettext(
            "Haven: %(count)d item waiting", "Haven: %(count)d items waiting", total
        ) % {"count": total}
        send_mail(subject, digest_text(counts), None, [user.email])


def send_digests(*, now: datetime.datetime | None = None) -> int:
    """Queue today's digest for every case worker with an e-mail address and something
    waiting; returns how many were queued. One a day per person, whatever the job's timing."""
    now = now or timezone.now()
    queued = 0
    memberships = (
        Membership.objects.filter(role__in=CASEWORK_ROLES, user__is_active=True)
        .exclude(user__email="")
        .select_related("user", "mission")
        .order_by("user_id", "mission_id")
    )
    totals: dict[int, dict[str, int]] = {}
    days: dict[int, datetime.date] = {}
    for membership in memberships:
        # Sent from seven in the morning, the mission's time; a person in several missions
        # gets one digest, dated by the first of them.
        local = now.astimezone(zoneinfo.ZoneInfo(membership.mission.timezone))
        if local.hour < DIGEST_HOUR:
            continue
        days.setdefault(membership.user_id, local.date())
        counts = selectors.digest_counts(membership.user, membership.mission, now=now)
        mine = totals.setdefault(membership.user_id, dict.fromkeys(counts, 0))
        for name, value in counts.items():
            mine[name] += value
    for user_id, counts in totals.items():
        if not any(counts.values()):
            continue
        try:
            with transaction.atomic():
                DigestSent.objects.create(user_id=user_id, day=days[user_id])
                send_digest.enqueue(user_id=user_id, counts=counts, language=settings.LANGUAGE_CODE)
        except IntegrityError:
            continue  # already sent today
        queued += 1
    return queued
