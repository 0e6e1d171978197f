"""The worker's follow-up: reminders raised when contacts fall due, and the daily digest that
carries counts and nothing else. The clock is moved with time-machine."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from haven.cases import reminders, services
from haven.cases.models import Case, Notice, NoticeKind
from haven.core.periodic import jobs
from tests.canary import new_token, variants
from tests.factories import make_defender, make_user, signed_in_client

MORNING = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def _case_due_in(mission: Any, officer: Any, days: int, **values: Any) -> Case:
    case = services.open_case(
        mission=mission,
        actor=officer,
        title=values.pop("title", "Follow-up case"),
        urgency="low",
        defender=values.pop("defender", None) or make_defender(mission),
    )
    services.record_follow_up(
        case=case,
        actor=officer,
        contacted_on=timezone.localdate(),
        method="call",
        summary=values.pop("summary", ""),
        next_contact_on=timezone.localdate() + datetime.timedelta(days=days),
    )
    return case


def test_a_follow_up_raises_a_reminder_only_once_it_is_due(mission: Any) -> None:
    with time_machine.travel(MORNING, tick=False):
        officer = make_user(mission)
        case = _case_due_in(mission, officer, 3)
        assert reminders.raise_reminders() == 0
    with time_machine.travel(MORNING + datetime.timedelta(days=3), tick=False):
        assert reminders.raise_reminders() == 1
        assert reminders.raise_reminders() == 0  # safe to run twice
        notice = Notice.objects.get()
        assert (notice.user, notice.case, notice.kind) == (officer, case, NoticeKind.FOLLOW_UP_DUE)
        desk = signed_in_client(officer).get(reverse("core:desk"))
        assert case.reference.encode() in desk.content
        assert b"A follow-up is due" in desk.content


def test_due_and_overdue_follow_ups_show_on_the_desk(mission: Any) -> None:
    with time_machine.travel(MORNING, tick=False):
        officer = make_user(mission)
        due = _case_due_in(mission, officer, 2, title="Due that day")
        late = _case_due_in(mission, officer, 1, title="Late one")
    with time_machine.travel(MORNING + datetime.timedelta(days=2), tick=False):
        page = signed_in_client(officer).get(reverse("core:desk")).content.decode()
    overdue = page.index("Overdue follow-ups")
    today = page.index("Due today")
    assert overdue < page.index("Late one") < today < page.index("Due that day")
    assert due.reference in page and late.reference in page


def test_high_risk_defender_without_contact_shows_after_the_missions_days(mission: Any) -> None:
    mission.no_contact_days = 10
    mission.save()
    with time_machine.travel(MORNING, tick=False):
        officer = make_user(mission)
        case = _case_due_in(mission, officer, 30)
        services.record_assessment(
            case=case,
            actor=officer,
            level="critical",
            rationale="Armed men at the house.",
            second_officer=make_user(mission),
        )
    with time_machine.travel(MORNING + datetime.timedelta(days=9), tick=False):
        client = signed_in_client(officer)
        assert case.reference.encode() not in _panel(client, "High risk, no recent contact")
    with time_machine.travel(MORNING + datetime.timedelta(days=11), tick=False):
        client = signed_in_client(officer)
        assert case.reference.encode() in _panel(client, "High risk, no recent contact")


def _panel(client: Any, heading: str) -> bytes:
    page = client.get(reverse("core:desk")).content
    start = page.index(heading.encode())
    return page[start : page.index(b"</section>", start)]


def test_response_deadline_and_review_reminders(mission: Any) -> None:
    with time_machine.travel(MORNING, tick=False):
        officer = make_user(mission)
        case = services.open_case(
            mission=mission,
            actor=officer,
            title="New",
            urgency="critical",
            defender=make_defender(mission),
        )
        assert reminders.raise_reminders() == 1  # 24 hours: already within the warning
        assert Notice.objects.get().kind == NoticeKind.RESPONSE_DUE
        services.record_assessment(case=case, actor=officer, level="low", rationale="Calm.")
    with time_machine.travel(MORNING + datetime.timedelta(days=91), tick=False):
        reminders.raise_reminders()
        assert Notice.objects.filter(kind=NoticeKind.REVIEW_DUE, case=case).exists()


def test_daily_digest_has_counts_and_no_case_content(mission: Any, immediate_tasks: Any) -> None:
    tokens = [new_token("digest") for _ in range(4)]
    with time_machine.travel(MORNING, tick=False):
        officer = make_user(mission, email="officer@mission.example")
        make_user(mission, email="idle@mission.example")  # nothing waiting: no e-mail
        defender = make_defender(mission, name=tokens[0], notes=tokens[1])
        case = _case_due_in(
            mission, officer, 1, title=tokens[2], defender=defender, summary=tokens[3]
        )
        services.add_note(case=case, actor=officer, text=tokens[3])
    with time_machine.travel(MORNING + datetime.timedelta(days=2), tick=False):
        reminders.raise_reminders()
        assert reminders.send_digests() == 1
        assert reminders.send_digests() == 0  # once a day
    [message] = mail.outbox
    assert message.to == ["officer@mission.example"]
    assert "1 follow-up or action is overdue." in message.body
    assert "1 new notice waits on your desk." in message.body
    blob = (message.subject + message.body).encode()
    for token in tokens:
        for encoded in variants(token).values():
            assert encoded not in blob
    assert case.reference not in message.body
    with time_machine.travel(MORNING + datetime.timedelta(days=3), tick=False):
        assert reminders.send_digests() == 1  # the next day, again


def test_digest_waits_for_the_morning_in_the_missions_time_zone(
    mission: Any, immediate_tasks: Any
) -> None:
    mission.timezone = "Pacific/Auckland"  # UTC+13 in March
    mission.save()
    with time_machine.travel(MORNING, tick=False):
        officer = make_user(mission, email="o@mission.example")
        _case_due_in(mission, officer, 1)
    # 17:00 UTC is 06:00 the next day in Auckland: too early.
    with time_machine.travel(MORNING + datetime.timedelta(days=1, hours=8), tick=False):
        assert reminders.send_digests() == 0
    with time_machine.travel(MORNING + datetime.timedelta(days=1, hours=9), tick=False):
        assert reminders.send_digests() == 1


def test_reminder_and_digest_jobs_are_registered_with_the_worker() -> None:
    names = {job.name for job in jobs()}
    assert {"cases.raise_reminders", "cases.send_digests"} <= names
