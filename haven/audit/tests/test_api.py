"""The audit log through the API: auditors and administrators read their mission's events
(names of fields, never values) and verify the chain; officers and viewers are refused; no
event of another mission shows."""

from __future__ import annotations

from typing import Any

from haven.audit.models import AuditEvent
from haven.audit.services import record
from haven.audit.tests.test_chain import _as_attacker
from tests.factories import api_client, make_defender, make_user


def test_auditor_reads_the_log_filtered_by_action(mission: Any, other_mission: Any) -> None:
    auditor = make_user(mission, "auditor")
    make_defender(mission, name="Amina Njeri")
    make_defender(other_mission, name="Elsewhere")
    record(action="case.opened", actor=None, mission=other_mission, fields=["title"])
    api = api_client(auditor, mission, scope="read")
    page = api.get("/api/v1/audit-events?action=registry.")
    assert page.status_code == 200, page.content
    body = page.json()
    ours = AuditEvent.objects.filter(mission_id=mission.pk, action__startswith="registry.")
    assert body["count"] == ours.count() >= 1
    assert {row["sequence"] for row in body["results"]} == set(
        ours.values_list("sequence", flat=True)
    )
    assert "Amina" not in page.content.decode()
    everything = api.get("/api/v1/audit-events").json()
    theirs = set(
        AuditEvent.objects.filter(mission_id=other_mission.pk).values_list("sequence", flat=True)
    )
    assert theirs and not theirs & {row["sequence"] for row in everything["results"]}


def test_verification_walks_the_chain_and_is_logged(
    mission: Any, admin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        make_defender(mission)
        api = api_client(admin, mission, scope="read")
    checked = api.get("/api/v1/audit-events/verification")
    assert checked.status_code == 200, checked.content
    assert checked.json()["ok"] is True, checked.json()
    assert checked.json()["checked"] == AuditEvent.objects.count() - 1  # then it is logged
    assert AuditEvent.objects.filter(action="audit.verified", actor_id=admin.pk).count() == 1
    _as_attacker("UPDATE audit_auditevent SET action = %s WHERE sequence = 2", ["tampered"])
    broken = api.get("/api/v1/audit-events/verification").json()
    assert broken["ok"] is False and broken["broken_at"] == 2


def test_officers_and_viewers_are_refused(mission: Any, officer: Any) -> None:
    for user in (officer, make_user(mission, "viewer")):
        api = api_client(user, mission)
        assert api.get("/api/v1/audit-events").status_code == 403
        assert api.get("/api/v1/audit-events/verification").status_code == 403
    assert not AuditEvent.objects.filter(action="audit.verified").exists()


def test_out_of_range_filters_are_refused_not_crashed(mission: Any, admin: Any) -> None:
    api = api_client(admin, mission)
    assert api.get("/api/v1/audit-events?page=0").status_code == 422
    assert api.get(f"/api/v1/audit-events?page={2**70}").status_code == 422
    assert api.get("/api/v1/audit-events?action=" + "x" * 65).status_code == 422
    assert api.get("/api/v1/audit-events?page=999").json()["page"] >= 1
