"""Casework beyond the case itself through the API: notes, the team and restriction, handover,
cases from portal requests and updates to the defender. The same services as the workspace:
reads of what a case holds are logged; a restricted case outside one's team and another
mission's rows answer 404; viewers are refused."""

from __future__ import annotations

from typing import Any

from django.test import Client

from haven.accounts.models import Membership
from haven.audit.models import AuditEvent
from haven.cases import services as cases
from haven.cases.models import Case, CaseMember, Handover, Note
from haven.intake import services as intake
from tests.factories import api_client, make_defender, make_user


def _case(mission: Any, owner: Any, **fields: Any) -> Case:
    values = {"title": "Threats", "urgency": "high", "defender": make_defender(mission), **fields}
    return cases.open_case(mission=mission, actor=owner, **values)


def _post(api: Client, url: str, body: dict[str, Any]) -> Any:
    return api.post(url, body, content_type="application/json")


def _logged_reads(case: Case) -> list[list[str]]:
    rows = AuditEvent.objects.filter(
        action="record.read", object_type="cases.case", object_id=str(case.pk)
    ).order_by("sequence")
    return [list(row.fields) for row in rows]


def test_notes_are_added_and_read_with_the_read_logged(mission: Any, officer: Any) -> None:
    case = _case(mission, officer)
    api = api_client(officer, mission)
    made = _post(api, f"/api/v1/cases/{case.pk}/notes", {"text": "Met her lawyer."})
    assert made.status_code == 201, made.content
    assert Note.objects.get(case=case).text == "Met her lawyer."
    assert _logged_reads(case) == []
    listed = api.get(f"/api/v1/cases/{case.pk}/notes")
    assert listed.status_code == 200
    assert [(n["text"], n["recorded_by_id"]) for n in listed.json()] == [
        ("Met her lawyer.", officer.pk)
    ]
    assert _logged_reads(case) == [["notes"]]
    too_long = _post(api, f"/api/v1/cases/{case.pk}/notes", {"text": "x" * 20001})
    assert too_long.status_code == 422
    viewer = api_client(make_user(mission, "viewer"), mission)
    assert viewer.get(f"/api/v1/cases/{case.pk}/notes").status_code == 403
    assert _post(viewer, f"/api/v1/cases/{case.pk}/notes", {"text": "x"}).status_code == 403
    assert Note.objects.filter(case=case).count() == 1


def test_restriction_and_team_decide_who_sees_the_case(mission: Any, officer: Any) -> None:
    colleague = make_user(mission, "officer")
    case = _case(mission, officer)
    api, theirs = api_client(officer, mission), api_client(colleague, mission)
    restricted = api.put(
        f"/api/v1/cases/{case.pk}/restriction",
        {"restricted": True},
        content_type="application/json",
    )
    assert restricted.status_code == 200 and restricted.json()["restricted"] is True
    assert theirs.get(f"/api/v1/cases/{case.pk}").status_code == 404
    assert theirs.get(f"/api/v1/cases/{case.pk}/notes").status_code == 404
    added = _post(api, f"/api/v1/cases/{case.pk}/team", {"user_id": colleague.pk})
    assert added.status_code == 200
    assert [m["user_id"] for m in added.json()["members"]] == [colleague.pk]
    assert theirs.get(f"/api/v1/cases/{case.pk}").status_code == 200
    removed = api.delete(f"/api/v1/cases/{case.pk}/team/{colleague.pk}")
    assert removed.status_code == 200 and removed.json()["members"] == []
    assert theirs.get(f"/api/v1/cases/{case.pk}").status_code == 404
    assert api.delete(f"/api/v1/cases/{case.pk}/team/{colleague.pk}").status_code == 404


def test_only_caseworkers_of_the_mission_join_a_team(
    mission: Any, other_mission: Any, officer: Any
) -> None:
    case = _case(mission, officer)
    api = api_client(officer, mission)
    for user in (make_user(mission, "viewer"), make_user(other_mission, "officer")):
        refused = _post(api, f"/api/v1/cases/{case.pk}/team", {"user_id": user.pk})
        assert refused.status_code == 422, refused.content
    assert not CaseMember.objects.filter(case=case).exists()


def test_handover_passes_cases_all_or_nothing(mission: Any, officer: Any, admin: Any) -> None:
    leaving = make_user(mission, "officer")
    first, second = _case(mission, leaving), _case(mission, leaving)
    api = api_client(admin, mission)
    membership = Membership.objects.get(user=leaving, mission=mission)
    listed = api.get(f"/api/v1/handover/{membership.pk}")
    assert listed.status_code == 200
    assert sorted(c["id"] for c in listed.json()) == sorted([first.pk, second.pk])
    viewer = make_user(mission, "viewer")
    refused = _post(
        api,
        f"/api/v1/handover/{membership.pk}",
        {
            "moves": [
                {"case_id": first.pk, "to_owner_id": officer.pk, "note": "Call her weekly."},
                {"case_id": second.pk, "to_owner_id": viewer.pk},
            ]
        },
    )
    assert refused.status_code == 422
    assert set(Case.objects.values_list("owner_id", flat=True)) == {leaving.pk}
    done = _post(
        api,
        f"/api/v1/handover/{membership.pk}",
        {"moves": [{"case_id": first.pk, "to_owner_id": officer.pk, "note": "Call her weekly."}]},
    )
    assert done.status_code == 201, done.content
    assert Case.objects.get(pk=first.pk).owner_id == officer.pk
    assert Handover.objects.get(case=first).note == "Call her weekly."
    assert Case.objects.get(pk=second.pk).owner_id == leaving.pk


def test_handover_of_another_mission_is_not_found(
    mission: Any, other_mission: Any, officer: Any
) -> None:
    stranger = make_user(other_mission, "officer")
    their_case = _case(other_mission, stranger)
    theirs = Membership.objects.get(user=stranger)
    api = api_client(officer, mission)
    assert api.get(f"/api/v1/handover/{theirs.pk}").status_code == 404
    ours = Membership.objects.get(user=officer)
    moved = _post(
        api,
        f"/api/v1/handover/{ours.pk}",
        {"moves": [{"case_id": their_case.pk, "to_owner_id": officer.pk}]},
    )
    assert moved.status_code == 404
    assert Case.objects.get(pk=their_case.pk).owner_id == stranger.pk


def test_a_request_becomes_a_case_and_the_defender_gets_updates(mission: Any, officer: Any) -> None:
    submission, receipt = intake.submit(
        mission=mission,
        answers={"kind": "help", "description": "Raided last night.", "name": "Kofi Mensah"},
        language="en",
    )
    api = api_client(officer, mission)
    opened = _post(api, f"/api/v1/submissions/{submission.pk}/case", {})
    assert opened.status_code == 201, opened.content
    case = Case.objects.get(pk=opened.json()["id"])
    assert case.submission_id == submission.pk and case.defender is not None
    assert case.defender.name == "Kofi Mensah"
    again = _post(api, f"/api/v1/submissions/{submission.pk}/case", {})
    assert again.status_code == 200 and again.json()["id"] == case.pk
    sent = _post(api, f"/api/v1/cases/{case.pk}/messages", {"text": "We raised it today."})
    assert sent.status_code == 204
    person = intake.open_receipt(mission=mission, passphrase=receipt)
    assert person is not None
    assert [m.text for m in intake.conversation_for_person(person)] == ["We raised it today."]
    conversation = api.get(f"/api/v1/cases/{case.pk}/messages")
    assert [m["text"] for m in conversation.json()] == ["We raised it today."]
    assert ["messages"] in _logged_reads(case)
    direct = _case(mission, officer)
    refused = _post(api, f"/api/v1/cases/{direct.pk}/messages", {"text": "Hello"})
    assert refused.status_code == 409 and "portal" in refused.json()["detail"]


def test_a_request_of_another_mission_opens_no_case(
    mission: Any, other_mission: Any, officer: Any
) -> None:
    submission, _receipt = intake.submit(
        mission=other_mission, answers={"kind": "help", "description": "x"}, language="en"
    )
    api = api_client(officer, mission)
    assert _post(api, f"/api/v1/submissions/{submission.pk}/case", {}).status_code == 404
    viewer = api_client(make_user(mission, "viewer"), mission)
    ours, _receipt = intake.submit(
        mission=mission, answers={"kind": "help", "description": "x"}, language="en"
    )
    assert _post(viewer, f"/api/v1/submissions/{ours.pk}/case", {}).status_code == 403
    assert not Case.objects.exists()
