"""Members and roles through the API, for administrators: the same services as the members
pages (a mission keeps an administrator; removing a member revokes their tokens); other roles
are refused and another mission's members are not found."""

from __future__ import annotations

from typing import Any

from haven.accounts.models import ApiToken, Membership
from haven.audit.models import AuditEvent
from tests.factories import api_client, make_user


def test_admin_lists_members_and_changes_a_role(mission: Any, admin: Any, officer: Any) -> None:
    api = api_client(admin, mission)
    listed = api.get("/api/v1/members")
    assert listed.status_code == 200
    assert {(m["username"], m["role"]) for m in listed.json()} == {
        ("ada", "admin"),
        ("otto", "officer"),
    }
    membership = Membership.objects.get(user=officer, mission=mission)
    changed = api.put(
        f"/api/v1/members/{membership.pk}/role",
        {"role": "viewer", "sections": ["business"]},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["role"], changed.json()["sections"]) == ("viewer", ["business"])
    membership.refresh_from_db()
    assert membership.role == "viewer"
    event = AuditEvent.objects.get(action="member.role_changed")
    assert sorted(event.fields) == ["role", "sections"]
    unknown = api.put(
        f"/api/v1/members/{membership.pk}/role", {"role": "root"}, content_type="application/json"
    )
    assert unknown.status_code == 409
    assert api.get(f"/api/v1/members/{membership.pk}").json()["role"] == "viewer"


def test_the_last_admin_stays(mission: Any, admin: Any) -> None:
    api = api_client(admin, mission)
    own = Membership.objects.get(user=admin, mission=mission)
    demoted = api.put(
        f"/api/v1/members/{own.pk}/role", {"role": "officer"}, content_type="application/json"
    )
    assert demoted.status_code == 409 and "administrator" in demoted.json()["detail"]
    assert api.delete(f"/api/v1/members/{own.pk}").status_code == 409
    assert Membership.objects.get(pk=own.pk).role == "admin"


def test_removing_a_member_revokes_their_tokens(mission: Any, admin: Any, officer: Any) -> None:
    theirs = api_client(officer, mission)
    assert theirs.get("/api/v1/me").status_code == 200
    membership = Membership.objects.get(user=officer, mission=mission)
    assert api_client(admin, mission).delete(f"/api/v1/members/{membership.pk}").status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert theirs.get("/api/v1/me").status_code == 401
    assert not ApiToken.objects.filter(user=officer, revoked_at__isnull=True).exists()


def test_other_roles_and_missions_are_refused(
    mission: Any, other_mission: Any, admin: Any, officer: Any
) -> None:
    target = Membership.objects.get(user=admin, mission=mission)
    for role in ("officer", "viewer", "auditor"):
        api = api_client(make_user(mission, role), mission)
        assert api.get("/api/v1/members").status_code == 403
        promoted = api.put(
            f"/api/v1/members/{target.pk}/role", {"role": "viewer"}, content_type="application/json"
        )
        assert promoted.status_code == 403
    stranger = api_client(make_user(other_mission, "admin"), other_mission)
    assert stranger.get(f"/api/v1/members/{target.pk}").status_code == 404
    assert stranger.delete(f"/api/v1/members/{target.pk}").status_code == 404
    assert "ada" not in stranger.get("/api/v1/members").content.decode()
    assert Membership.objects.get(pk=target.pk).role == "admin"
