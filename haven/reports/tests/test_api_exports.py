"""The two-person export flow through the API: an administrator asks, a second one approves;
the asker cannot approve their own request, other roles and missions are refused, and no
route hands out the export itself."""

from __future__ import annotations

from typing import Any

from django.test import Client

from haven.api import api
from haven.reports.models import ExportRequest, ExportStatus
from tests.factories import api_client, make_user


def _post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, body or {}, content_type="application/json")


def test_one_admin_asks_and_another_approves(mission: Any, admin: Any) -> None:
    second = make_user(mission, "admin")
    asker, approver = api_client(admin, mission), api_client(second, mission)
    asked = _post(asker, "/api/v1/exports", {"kind": "exit", "reason": "system_move"})
    assert asked.status_code == 201, asked.content
    export_id = asked.json()["id"]
    assert asked.json()["status"] == "pending"
    own = _post(asker, f"/api/v1/exports/{export_id}/approve")
    assert own.status_code == 409 and "another administrator" in own.json()["detail"]
    assert [row["id"] for row in approver.get("/api/v1/exports").json()["awaiting"]] == [export_id]
    approved = _post(approver, f"/api/v1/exports/{export_id}/approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by_id"] == second.pk
    again = _post(approver, f"/api/v1/exports/{export_id}/refuse")
    assert again.status_code == 409
    assert ExportRequest.objects.get(pk=export_id).status == ExportStatus.APPROVED


def test_a_lone_admin_cannot_ask(mission: Any, admin: Any) -> None:
    asked = _post(
        api_client(admin, mission), "/api/v1/exports", {"kind": "exit", "reason": "system_move"}
    )
    assert asked.status_code == 409 and "second administrator" in asked.json()["detail"]
    assert not ExportRequest.objects.exists()


def test_other_roles_and_missions_are_refused(mission: Any, other_mission: Any, admin: Any) -> None:
    make_user(mission, "admin")
    asked = _post(
        api_client(admin, mission), "/api/v1/exports", {"kind": "exit", "reason": "system_move"}
    )
    export_id = asked.json()["id"]
    for role in ("officer", "viewer", "auditor"):
        client = api_client(make_user(mission, role), mission)
        assert client.get("/api/v1/exports").status_code == 403, role
        assert _post(client, f"/api/v1/exports/{export_id}/approve").status_code == 403, role
        made = _post(client, "/api/v1/exports", {"kind": "exit", "reason": "system_move"})
        assert made.status_code == 403, role
    stranger = api_client(make_user(other_mission, "admin"), other_mission)
    assert _post(stranger, f"/api/v1/exports/{export_id}/approve").status_code == 404
    assert stranger.get("/api/v1/exports").json() == {"awaiting": [], "mine": []}
    assert ExportRequest.objects.get(pk=export_id).status == ExportStatus.PENDING


def test_the_asker_cancels_and_no_route_downloads(mission: Any, admin: Any) -> None:
    second = make_user(mission, "admin")
    asker = api_client(admin, mission)
    export_id = _post(asker, "/api/v1/exports", {"kind": "exit", "reason": "offline_copy"}).json()[
        "id"
    ]
    not_theirs = _post(api_client(second, mission), f"/api/v1/exports/{export_id}/cancel")
    assert not_theirs.status_code == 409
    cancelled = _post(asker, f"/api/v1/exports/{export_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    paths = api.get_openapi_schema()["paths"]
    assert not [path for path in paths if "export" in path and "download" in path]
