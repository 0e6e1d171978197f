"""Portal requests through the API: an officer triages, reads and answers a request as in the
workspace (each decryption logged, each reply readable only with the receipt); viewers are
refused, and another mission's requests and defenders are not found."""

from __future__ import annotations

from typing import Any

from haven.audit.models import AuditEvent
from haven.intake import services as intake
from haven.intake.models import Submission
from tests.factories import api_client, make_defender, make_user


def _request(mission: Any, **answers: Any) -> tuple[Submission, str]:
    values = {"kind": "help", "description": "They followed me home.", "name": "Amina", **answers}
    return intake.submit(mission=mission, answers=values, language="en")


def _reads(submission: Submission) -> list[list[str]]:
    rows = AuditEvent.objects.filter(
        action="record.read", object_type="intake.submission", object_id=str(submission.pk)
    )
    return [list(row.fields) for row in rows.order_by("sequence")]


def test_officer_opens_a_request_and_the_read_is_logged(mission: Any, officer: Any) -> None:
    submission, _receipt = _request(mission, help_wanted=["legal_support"], contact="Signal only")
    api = api_client(officer, mission)
    listed = api.get("/api/v1/submissions")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()] == [submission.pk]
    assert "answers" not in listed.json()[0]
    assert _reads(submission) == []
    opened = api.get(f"/api/v1/submissions/{submission.pk}")
    assert opened.status_code == 200, opened.content
    body = opened.json()
    assert body["answers"]["description"] == "They followed me home."
    assert body["answers"]["help_wanted"] == ["legal_support"]
    assert body["answers"]["contact"] == "Signal only"
    assert body["status"] == "reviewing"
    assert _reads(submission) == [["sealed"]]


def test_reply_reaches_the_receipt_holder_and_the_conversation(mission: Any, officer: Any) -> None:
    submission, receipt = _request(mission)
    api = api_client(officer, mission)
    sent = api.post(
        f"/api/v1/submissions/{submission.pk}/messages",
        {"text": "  We can meet on Tuesday.  "},
        content_type="application/json",
    )
    assert sent.status_code == 201, sent.content
    assert sent.json()["text"] == "We can meet on Tuesday."
    opened = intake.open_receipt(mission=mission, passphrase=receipt)
    assert opened is not None
    assert [m.text for m in intake.conversation_for_person(opened)] == ["We can meet on Tuesday."]
    conversation = api.get(f"/api/v1/submissions/{submission.pk}/messages")
    assert conversation.status_code == 200
    assert [(m["direction"], m["text"], m["author_id"]) for m in conversation.json()] == [
        ("mission", "We can meet on Tuesday.", officer.pk)
    ]
    assert _reads(submission) == [["messages"]]
    blank = api.post(
        f"/api/v1/submissions/{submission.pk}/messages",
        {"text": "   "},
        content_type="application/json",
    )
    assert blank.status_code == 409 and blank.json()["detail"]
    too_long = api.post(
        f"/api/v1/submissions/{submission.pk}/messages",
        {"text": "x" * (intake.MAX_MESSAGE + 1)},
        content_type="application/json",
    )
    assert too_long.status_code == 422
    assert submission.messages.count() == 1


def test_triage_link_and_discard(mission: Any, officer: Any) -> None:
    submission, receipt = _request(mission)
    defender = make_defender(mission)
    api = api_client(officer, mission)
    triaged = api.post(
        f"/api/v1/submissions/{submission.pk}/triage",
        {"status": "in_progress", "urgency": "high"},
        content_type="application/json",
    )
    assert triaged.status_code == 200
    assert (triaged.json()["status"], triaged.json()["urgency"]) == ("in_progress", "high")
    wrong = api.post(
        f"/api/v1/submissions/{submission.pk}/triage",
        {"status": "in_progress", "urgency": "whenever"},
        content_type="application/json",
    )
    assert wrong.status_code == 409
    linked = api.post(
        f"/api/v1/submissions/{submission.pk}/defender",
        {"defender_id": defender.pk},
        content_type="application/json",
    )
    assert linked.status_code == 200 and linked.json()["defender_id"] == defender.pk
    submission.refresh_from_db()
    assert submission.defender_id == defender.pk
    gone = api.delete(f"/api/v1/submissions/{submission.pk}")
    assert gone.status_code == 204
    assert not Submission.objects.filter(pk=submission.pk).exists()
    assert intake.open_receipt(mission=mission, passphrase=receipt) is None
    assert AuditEvent.objects.filter(action="intake.discarded").count() == 1


def test_viewers_and_auditors_are_refused(mission: Any) -> None:
    submission, _receipt = _request(mission)
    for role in ("viewer", "auditor"):
        api = api_client(make_user(mission, role), mission)
        for response in (
            api.get("/api/v1/submissions"),
            api.get(f"/api/v1/submissions/{submission.pk}"),
            api.delete(f"/api/v1/submissions/{submission.pk}"),
        ):
            assert response.status_code == 403, (role, response.status_code)
            assert "Amina" not in response.content.decode()
    assert Submission.objects.filter(pk=submission.pk).exists()
    assert _reads(submission) == []


def test_another_missions_requests_and_defenders_are_not_found(
    mission: Any, other_mission: Any, officer: Any
) -> None:
    theirs, _receipt = _request(other_mission)
    ours, _receipt = _request(mission)
    their_defender = make_defender(other_mission)
    api = api_client(officer, mission)
    assert [row["id"] for row in api.get("/api/v1/submissions").json()] == [ours.pk]
    for response in (
        api.get(f"/api/v1/submissions/{theirs.pk}"),
        api.get(f"/api/v1/submissions/{theirs.pk}/messages"),
        api.post(
            f"/api/v1/submissions/{theirs.pk}/messages",
            {"text": "hello"},
            content_type="application/json",
        ),
        api.delete(f"/api/v1/submissions/{theirs.pk}"),
        api.post(
            f"/api/v1/submissions/{ours.pk}/defender",
            {"defender_id": their_defender.pk},
            content_type="application/json",
        ),
    ):
        assert response.status_code == 404, response.content
    assert theirs.messages.count() == 0
    assert Submission.objects.get(pk=ours.pk).defender_id is None
    assert _reads(theirs) == []


def test_ids_beyond_64_bits_are_refused_not_crashed(mission: Any, officer: Any) -> None:
    api = api_client(officer, mission)
    assert api.get(f"/api/v1/submissions/{2**64}").status_code == 422
