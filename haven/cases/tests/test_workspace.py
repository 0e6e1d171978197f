"""Cases in the workspace and the API, as officers use them: who sees what, the desk, the
case page, triage from a request, handover; with query counts that must not grow."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from haven.accounts.models import Membership
from haven.accounts.services import create_api_token
from haven.audit.models import AuditEvent
from haven.cases import selectors, services
from haven.cases.models import Case, Notice, NoticeKind
from haven.intake import services as intake
from tests.factories import all_queries, make_defender, make_user, signed_in_client


def _open(mission: Any, officer: Any, **values: Any) -> Case:
    defaults: dict[str, Any] = {"title": "Land dispute", "urgency": "medium"}
    defaults.update(values)
    defaults.setdefault("defender", make_defender(mission))
    return services.open_case(mission=mission, actor=officer, **defaults)


@pytest.fixture
def secret_case(mission: Any, officer: Any) -> Case:
    """A restricted case of ``officer``'s, titled with a word nobody else may read."""
    return _open(mission, officer, title="Restricted zq8secret", restricted=True)


# -- restricted cases


def test_restricted_case_is_in_no_list_count_or_search_of_outsiders(
    mission: Any, officer: Any, secret_case: Case
) -> None:
    outsider = make_user(mission, "officer")
    admin = make_user(mission, "admin")
    _open(mission, officer, title="Ordinary case")
    for user in (outsider, admin):
        client = signed_in_client(user)
        listing = client.get(reverse("cases:list"))
        assert b"zq8secret" not in listing.content
        assert b"1 case" in listing.content  # the count leaves it out too
        search = client.get(reverse("cases:list"), {"q": secret_case.reference})
        assert b"0 cases" in search.content
        assert client.get(secret_case.get_absolute_url()).status_code == 404
        assert client.get(reverse("cases:edit", args=[secret_case.pk])).status_code == 404
        page = selectors.case_page(user, mission, selectors.CaseFilters())
        assert secret_case not in page.object_list
    # Its owner sees it, with its title.
    assert b"zq8secret" in signed_in_client(officer).get(reverse("cases:list")).content


def test_restricted_case_reaches_its_team_and_flagged_sections(
    mission: Any, officer: Any, secret_case: Case
) -> None:
    member, consular, labour = (make_user(mission, "officer") for _ in range(3))
    Membership.objects.filter(user=consular).update(sections=",consular,")
    Membership.objects.filter(user=labour).update(sections=",labour,")
    services.add_team_member(case=secret_case, actor=officer, user=member)
    services.update_case(case=secret_case, actor=officer, changes={"sections": ["consular"]})
    visible = {
        user: selectors.cases(user, mission).filter(pk=secret_case.pk).exists()
        for user in (member, consular, labour)
    }
    assert visible == {member: True, consular: True, labour: False}
    # The consular section is told on its desk; the labour section hears nothing.
    assert Notice.objects.filter(user=consular, kind=NoticeKind.SECTION_ASKED).exists()
    assert not Notice.objects.filter(user=labour).exists()
    assert (
        secret_case.reference.encode()
        in signed_in_client(consular).get(reverse("core:desk")).content
    )
    services.remove_team_member(case=secret_case, actor=officer, user=member)
    assert not selectors.cases(member, mission).filter(pk=secret_case.pk).exists()


def test_restricted_case_is_invisible_in_the_api(
    mission: Any, officer: Any, secret_case: Case
) -> None:
    outsider = make_user(mission, "officer")
    token = create_api_token(user=outsider, mission=mission, name="t", scope="write", days=5)
    client = signed_in_client(outsider)
    headers = {"Authorization": f"Bearer {token.secret}"}
    listing = client.get("/api/v1/cases", headers=headers)
    assert listing.status_code == 200 and listing.json()["count"] == 0
    for path in ("", "/incidents", "/actions", "/assessments", "/follow-ups"):
        assert (
            client.get(f"/api/v1/cases/{secret_case.pk}{path}", headers=headers).status_code == 404
        )
    moved = client.post(
        f"/api/v1/cases/{secret_case.pk}/status",
        {"to": "screening"},
        content_type="application/json",
        headers=headers,
    )
    assert moved.status_code == 404
    secret_case.refresh_from_db()
    assert secret_case.status == "received"


def test_restricted_case_stays_out_of_desk_and_handover_packet(
    mission: Any, officer: Any, secret_case: Case
) -> None:
    services.update_case(
        case=secret_case,
        actor=officer,
        changes={"next_contact_on": timezone.localdate() - datetime.timedelta(days=3)},
    )
    admin = make_user(mission, "admin")
    client = signed_in_client(admin)
    desk = client.get(reverse("core:desk"))
    assert b"zq8secret" not in desk.content and b"Nothing is overdue." in desk.content
    membership = Membership.objects.get(user=officer, mission=mission)
    packet = client.get(reverse("cases:handover_packet", args=[membership.pk]))
    assert packet.status_code == 200 and b"zq8secret" not in packet.content
    own = signed_in_client(officer).get(reverse("cases:handover_packet", args=[membership.pk]))
    assert b"zq8secret" in own.content


# -- the officer's pages


def test_officer_opens_a_case_from_a_defender_and_runs_it(mission: Any, officer: Any) -> None:
    defender = make_defender(mission, name="Amina Njeri")
    client = signed_in_client(officer)
    response = client.post(
        f"{reverse('cases:new')}?defender={defender.pk}",
        {"title": "Threats after the land hearing", "urgency": "high", "summary": "Calls."},
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response.url == case.get_absolute_url()
    assert case.owner == officer and case.defender == defender
    page = client.get(case.get_absolute_url())
    assert b"Threats after the land hearing" in page.content and b"Amina Njeri" in page.content
    # An illegal move is refused on the page with the reason, and nothing changes.
    refused = client.post(reverse("cases:move", args=[case.pk]), {"to": "active"})
    assert refused.status_code == 200 and "cannot go from" in refused.content.decode()
    case.refresh_from_db()
    assert case.status == "received"
    assert AuditEvent.objects.filter(action="record.read", object_id=str(case.pk)).exists()


def test_opening_a_case_by_name_finds_the_defender(mission: Any, officer: Any) -> None:
    make_defender(mission, name="Joseph Otieno", channels=[("phone", "+254 712 000 111")])
    client = signed_in_client(officer)
    missing = client.post(reverse("cases:new"), {"title": "x", "urgency": "low", "who": "Nobody"})
    assert b"Add them to the registry first" in missing.content
    found = client.post(
        reverse("cases:new"), {"title": "Raid", "urgency": "low", "who": "0712 000111"}
    )
    assert found.status_code == 302
    assert str(Case.objects.get().defender.name) == "Joseph Otieno"


def test_a_portal_request_becomes_a_case_once(mission: Any, officer: Any) -> None:
    submission, _receipt = intake.submit(
        mission=mission,
        answers={"kind": "help", "description": "They followed me home.", "name": "Wanjiru K"},
        language="en",
    )
    client = signed_in_client(officer)
    url = reverse("cases:from_submission", args=[submission.pk])
    assert client.get(url).status_code == 200
    response = client.post(url)
    case = Case.objects.get()
    assert response.url == case.get_absolute_url()
    assert str(case.defender.name) == "Wanjiru K"
    assert case.summary == "They followed me home."
    assert case.submission == submission
    again = client.post(url)
    assert again.url == case.get_absolute_url() and Case.objects.count() == 1
    # The update to the defender is sealed to their receipt and shows on the timeline.
    client.post(reverse("cases:send_update", args=[case.pk]), {"text": "We raised it today."})
    page = client.get(case.get_absolute_url())
    assert b"We raised it today." in page.content and b"They followed me home." in page.content


def test_handover_page_moves_an_officers_cases(mission: Any, admin: Any) -> None:
    leaving, successor = make_user(mission), make_user(mission)
    first = _open(mission, admin, owner=leaving)
    second = _open(mission, admin, owner=leaving)
    membership = Membership.objects.get(user=leaving, mission=mission)
    client = signed_in_client(admin)
    chosen = client.get(reverse("cases:handover"), {"officer": leaving.pk})
    assert chosen.url == reverse("cases:handover_officer", args=[membership.pk])
    response = client.post(
        chosen.url,
        {f"to_{first.pk}": successor.pk, f"note_{first.pk}": "Prefers Signal after 6 pm."},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.owner, second.owner) == (successor, leaving)
    packet = client.get(reverse("cases:handover_packet", args=[membership.pk]))
    assert second.reference.encode() in packet.content
    assert first.reference.encode() not in packet.content


# -- query counts


def _many_cases(mission: Any, officer: Any, count: int) -> None:
    past = timezone.localdate() - datetime.timedelta(days=20)
    second = make_user(mission)
    for number in range(count):
        case = _open(mission, officer, title=f"Case {number}", urgency="critical")
        services.record_follow_up(
            case=case,
            actor=officer,
            contacted_on=past,
            method="call",
            next_contact_on=past + datetime.timedelta(days=1),
        )
        services.record_assessment(
            case=case,
            actor=officer,
            level="high",
            rationale="r",
            second_officer=second,
            next_review_on=timezone.localdate() + datetime.timedelta(days=1),
        )
        services.plan_action(
            case=case,
            actor=officer,
            action_type="capacity_building",
            due_on=timezone.localdate(),
        )
        services.add_note(case=case, actor=officer, text=f"Note {number}")


def _count(client: Any, url: str) -> int:
    with all_queries() as queries:
        response = client.get(url)
    assert response.status_code == 200
    return queries.count


@pytest.mark.parametrize("page", ["desk", "list", "case"])
def test_page_queries_do_not_grow_with_the_rows(page: str, mission: Any, officer: Any) -> None:
    _many_cases(mission, officer, 3)
    client = signed_in_client(officer)

    def url() -> str:
        if page == "desk":
            return reverse("core:desk")
        if page == "list":
            return reverse("cases:list")
        return Case.objects.order_by("pk").first().get_absolute_url()  # type: ignore[union-attr]

    client.get(url())  # a session's first request also saves it
    few = _count(client, url())
    _many_cases(mission, officer, 12)
    if page == "case":
        case = Case.objects.order_by("pk").first()
        assert case is not None
        for number in range(10):
            services.add_note(case=case, actor=officer, text=f"More {number}")
    many = _count(client, url())
    assert many == few, (page, few, many)
    assert many <= {"desk": 14, "list": 15, "case": 40}[page]


def test_a_case_in_several_desk_lists_shows_in_each_with_its_totals(
    mission: Any, officer: Any
) -> None:
    # The desk reads its case lists in one query; each list keeps its own order and total.
    now = timezone.now()
    today = timezone.localdate(now)
    many = [_open(mission, officer, title=f"Case {n}") for n in range(selectors.DESK_ROWS + 2)]
    for n, case in enumerate(many):
        Case.objects.filter(pk=case.pk).update(
            next_contact_on=today - datetime.timedelta(days=1 + n),  # overdue, latest first
            last_contact_on=today - datetime.timedelta(days=100 + n % 3),  # quiet
            review_due_on=today - datetime.timedelta(days=n % 2),  # review due
            risk_level="high",  # and without a second officer
            response_due_at=now - datetime.timedelta(hours=n % 4),
        )
    due_today = _open(mission, officer, title="Due today")
    Case.objects.filter(pk=due_today.pk).update(next_contact_on=today)
    pks = [case.pk for case in many]

    def by(key: Any) -> list[int]:
        return sorted(pks, key=lambda pk: (key(pks.index(pk)), pk))[: selectors.DESK_ROWS]

    desk = selectors.desk(officer, mission, now=now)
    expected = {
        "overdue_cases": by(lambda n: -n),
        "quiet": by(lambda n: -(n % 3)),
        "reviews": by(lambda n: -(n % 2)),
        "deadlines": by(lambda n: -(n % 4)),
        "no_second": by(lambda n: 0),
    }
    for name, rows in expected.items():
        assert [row.pk for row in desk[name].rows] == rows, name
        assert desk[name].total == len(many), name
    assert [row.pk for row in desk["due_cases"].rows] == [due_today.pk]
    assert desk["due_cases"].total == 1
    # The same rows and totals as each list read alone.
    alone = {
        "overdue_cases": selectors.overdue_cases(officer, mission, today),
        "quiet": selectors.quiet_high_risk(officer, mission, today),
        "reviews": selectors.reviews_due(officer, mission, today),
        "deadlines": selectors.response_deadlines(officer, mission, now),
        "no_second": selectors.without_second_officer(officer, mission),
        "due_cases": selectors.cases_due_today(officer, mission, today),
    }
    for name, rows in alone.items():
        assert [row.pk for row in desk[name].rows] == [
            row.pk for row in rows[: selectors.DESK_ROWS]
        ]
        assert desk[name].total == rows.count()


def test_relocation_tasks_follow_the_dates_and_reach_the_desk(mission: Any, officer: Any) -> None:
    from haven.cases import relocation
    from haven.cases.models import RelocationTask

    case = _open(mission, officer)
    today = timezone.localdate()
    tasks = relocation.plan_relocation(
        case=case,
        actor=officer,
        departs_on=today + datetime.timedelta(days=7),
        returns_on=today + datetime.timedelta(days=97),
    )
    due = {task.task: task.due_on for task in tasks}
    assert due["documents"] == today - datetime.timedelta(days=7)  # already late
    assert due["after_three_months"] == today + datetime.timedelta(days=97 + 90)
    with pytest.raises(relocation.RelocationError):
        relocation.plan_relocation(
            case=case,
            actor=officer,
            departs_on=today,
            returns_on=today + datetime.timedelta(days=10),
        )
    client = signed_in_client(officer)
    desk = client.get(reverse("core:desk")).content.decode()
    assert "Travel documents and visa ready" in desk
    late = RelocationTask.objects.get(case=case, task="documents")
    client.post(reverse("cases:relocation_task", args=[late.pk]))
    late.refresh_from_db()
    assert late.done_on == today
    assert (
        "Travel documents and visa ready" not in client.get(reverse("core:desk")).content.decode()
    )
    page = client.get(case.get_absolute_url()).content.decode()
    assert "After the return" in page and "Follow-up three months after the return" in page


def test_case_page_labels_follow_each_requests_language(mission: Any, officer: Any) -> None:
    """Labels of statuses are kept per language: one language's never reach the next reader."""
    case = _open(mission, officer)
    client = signed_in_client(officer)
    status = "<dt>{}</dt><dd>{}</dd>"
    for language, label, word in [
        ("en", "Status", "Received"),
        ("fr", "État", "Reçue"),
        ("en", "Status", "Received"),
    ]:
        page = client.get(case.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language)
        assert status.format(label, word) in page.content.decode()
