"""Administrators manage members without ever choosing their passwords; tokens are personal."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts.models import ApiToken, Membership, User
from haven.accounts.services import AccountError, change_role, create_api_token
from haven.audit.models import AuditEvent
from tests.factories import PASSWORD, make_user, signed_in_client, totp_code


def _reauthenticated(user: User) -> Client:
    return signed_in_client(user, reauthenticated=True)


def test_adding_a_member_needs_reauthentication(admin: User) -> None:
    client = signed_in_client(admin)
    response = client.get(reverse("accounts:member_add"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:reauth"))
    # Password and a fresh code open it for five minutes.
    response = client.post(
        response.url, {"password": PASSWORD, "code": totp_code(admin)}, follow=False
    )
    assert response.url == reverse("accounts:member_add")
    assert client.get(reverse("accounts:member_add")).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert client.get(reverse("accounts:member_add")).status_code == 302


def test_reauthentication_refuses_a_wrong_password(admin: User) -> None:
    client = signed_in_client(admin)
    response = client.post(
        reverse("accounts:reauth"), {"password": "not my password at all", "code": totp_code(admin)}
    )
    assert response.status_code == 200
    assert client.get(reverse("accounts:member_add")).status_code == 302


def test_admin_adds_a_member_with_a_one_time_password(admin: User, mission: Any) -> None:
    client = _reauthenticated(admin)
    response = client.post(
        reverse("accounts:member_add"), {"username": "newofficer", "email": "", "role": "officer"}
    )
    assert response.status_code == 200
    shown = re.search(r'id="one-time-password">([^<]+)<', response.content.decode())
    assert shown is not None
    user = User.objects.get(username="newofficer")
    assert user.must_change_password
    assert user.check_password(shown.group(1))
    assert Membership.objects.get(user=user).mission == mission
    event = AuditEvent.objects.get(action="member.added")
    assert event.actor_id == admin.pk and event.mission_id == mission.pk
    assert "newofficer" not in (event.reason + "".join(event.fields))


def test_duplicate_username_is_refused_with_a_clear_message(admin: User, officer: User) -> None:
    client = _reauthenticated(admin)
    response = client.post(
        reverse("accounts:member_add"), {"username": "OTTO", "email": "", "role": "viewer"}
    )
    assert "is taken" in response.content.decode()


def test_admin_changes_a_role_and_it_is_audited(admin: User, officer: User) -> None:
    membership = officer.memberships.get()
    response = _reauthenticated(admin).post(
        reverse("accounts:member", kwargs={"membership_id": membership.pk}), {"role": "viewer"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == "viewer"
    event = AuditEvent.objects.get(action="member.role_changed")
    assert event.fields == ["role"]
    # The viewer now sees aggregate pages only.
    assert signed_in_client(officer).get(reverse("accounts:members")).status_code == 403


def test_last_admin_cannot_be_demoted_or_removed(admin: User) -> None:
    membership = admin.memberships.get()
    with pytest.raises(AccountError, match="at least one administrator"):
        change_role(actor=admin, membership=membership, role="officer")
    response = _reauthenticated(admin).post(
        reverse("accounts:member_remove", kwargs={"membership_id": membership.pk})
    )
    assert response.status_code == 302
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_admin_issues_a_one_time_password_never_chooses_one(admin: User, officer: User) -> None:
    membership = officer.memberships.get()
    victim_session = signed_in_client(officer)
    client = _reauthenticated(admin)
    url = reverse("accounts:member_password", kwargs={"membership_id": membership.pk})
    response = client.post(url, {"password": "chosen by the admin 12345"})
    officer.refresh_from_db()
    assert not officer.check_password("chosen by the admin 12345")
    assert not officer.check_password(PASSWORD)
    shown = re.search(r'id="one-time-password">([^<]+)<', response.content.decode())
    assert shown is not None and officer.check_password(shown.group(1))
    assert officer.must_change_password
    assert victim_session.get("/desk/").status_code == 302


def test_reset_mfa_makes_the_member_enrol_again(admin: User, officer: User) -> None:
    membership = officer.memberships.get()
    client = _reauthenticated(admin)
    client.post(reverse("accounts:member_reset_mfa", kwargs={"membership_id": membership.pk}))
    assert not TOTPDevice.objects.filter(user=officer).exists()
    fresh = Client()
    fresh.post(reverse("accounts:login"), {"username": officer.username, "password": PASSWORD})
    assert fresh.get("/desk/").url == reverse("accounts:mfa_enrol")
    assert AuditEvent.objects.filter(action="mfa.reset", object_id=str(officer.pk)).exists()


def test_user_switches_between_their_missions(officer: User, other_mission: Any) -> None:
    Membership.objects.create(user=officer, mission=other_mission, role="viewer")
    client = signed_in_client(officer)
    assert "Embassy of Testland" in client.get("/desk/").content.decode()
    client.post(reverse("accounts:switch_mission"), {"mission": other_mission.pk})
    desk = client.get("/desk/").content.decode()
    assert "You are working in Embassy elsewhere" in desk


def test_switching_to_a_mission_one_does_not_belong_to_is_refused(
    officer: User, other_mission: Any
) -> None:
    client = signed_in_client(officer)
    response = client.post(reverse("accounts:switch_mission"), {"mission": other_mission.pk})
    assert response.status_code == 404


# -- API tokens -----------------------------------------------------------------------------


def test_token_is_shown_once_and_stored_hashed(officer: User) -> None:
    client = _reauthenticated(officer)
    response = client.post(
        reverse("accounts:tokens"), {"name": "reporting script", "scope": "read", "days": 30}
    )
    secret = re.search(r'id="api-token">([^<]+)<', response.content.decode())
    assert secret is not None
    token = ApiToken.objects.get(user=officer)
    assert secret.group(1) not in str(ApiToken.objects.values().get())
    assert token.digest != secret.group(1)
    assert secret.group(1) not in client.get(reverse("accounts:tokens")).content.decode()
    api = Client(headers={"Authorization": f"Bearer {secret.group(1)}"})
    me = api.get("/api/v1/me").json()
    assert me == {
        "username": "otto",
        "mission": {"id": token.mission_id, "name": "Embassy of Testland", "slug": "testland"},
        "role": "officer",
        "token_scope": "read",
    }
    assert AuditEvent.objects.filter(action="token.created", object_id=str(token.pk)).exists()


def test_revoked_and_expired_tokens_stop_working(officer: User, mission: Any) -> None:
    created = create_api_token(user=officer, mission=mission, name="t", scope="read", days=1)
    api = Client(headers={"Authorization": f"Bearer {created.secret}"})
    assert api.get("/api/v1/me").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        assert api.get("/api/v1/me").status_code == 401
    signed_in_client(officer).post(
        reverse("accounts:token_revoke", kwargs={"token_id": created.token.pk})
    )
    assert api.get("/api/v1/me").status_code == 401
    assert AuditEvent.objects.filter(action="token.revoked").exists()


def test_a_tampered_token_is_refused(officer: User, mission: Any) -> None:
    created = create_api_token(user=officer, mission=mission, name="t", scope="read", days=1)
    tampered = created.secret[:-1] + ("A" if created.secret[-1] != "A" else "B")
    for secret in (tampered, "", "hvn_x_y", "Bearer", "x" * 5000):
        api = Client(headers={"Authorization": f"Bearer {secret}"})
        assert api.get("/api/v1/me").status_code == 401


def test_token_of_a_deactivated_user_is_refused(officer: User, mission: Any) -> None:
    created = create_api_token(user=officer, mission=mission, name="t", scope="read", days=1)
    officer.is_active = False
    officer.save()
    api = Client(headers={"Authorization": f"Bearer {created.secret}"})
    assert api.get("/api/v1/me").status_code == 401


def test_missions_lists_only_the_callers_missions(officer: User, other_mission: Any) -> None:
    stranger = make_user(other_mission, "admin")
    created = create_api_token(user=stranger, mission=other_mission, name="t", scope="read", days=1)
    api = Client(headers={"Authorization": f"Bearer {created.secret}"})
    names = [m["name"] for m in api.get("/api/v1/missions").json()]
    assert names == ["Embassy elsewhere"]
    own_id = officer.memberships.get().mission_id
    assert api.get(f"/api/v1/missions/{own_id}").status_code == 404


def test_openapi_schema_is_served(db: Any) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    assert {"/api/v1/me", "/api/v1/missions", "/api/v1/missions/{mission_id}"} <= set(
        schema["paths"]
    )
    assert Client().get("/api/v1/docs").status_code == 404


def test_admin_edits_the_mission_and_the_portal_follows(admin: User, mission: Any) -> None:
    client = _reauthenticated(admin)
    response = client.post(
        reverse("accounts:mission_settings"),
        {
            "name": "Embassy of Testland in Nairobi",
            "country": "ke",
            "timezone": "Africa/Nairobi",
            "portal_languages": ["en", "fr"],
            "public_contact": "Signal: +000 111",
            "quick_exit_url": "weather.example.org",
            "portal_receipt_limit": 10,
            "portal_hourly_limit": 600,
            "response_hours_critical": 24,
            "response_hours_high": 72,
            "response_hours_medium": 168,
            "response_hours_low": 720,
            "no_contact_days": 14,
            "capital_region": "",
            "suppress_below": 5,
        },
    )
    assert response.status_code == 302
    mission.refresh_from_db()
    assert (mission.country, mission.portal_languages) == ("KE", ["en", "fr"])
    portal = Client().get("/").content.decode()
    assert "Signal: +000 111" in portal and 'hreflang="ar"' not in portal
    assert 'href="https://weather.example.org"' in portal  # the quick exit
    event = AuditEvent.objects.get(action="mission.updated")
    assert set(event.fields) == {
        "name",
        "timezone",
        "portal_languages",
        "public_contact",
        "quick_exit_url",
        "portal_receipt_limit",
    }


def test_mission_settings_refuse_bad_input_and_keep_what_was_typed(admin: User) -> None:
    response = _reauthenticated(admin).post(
        reverse("accounts:mission_settings"),
        {"name": "Kept name", "country": "K3", "timezone": "Mars/Olympus", "public_contact": ""},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Kept name" in html
    assert "two-letter" in html
    assert "Choose at least one language" in html
    assert not AuditEvent.objects.filter(action="mission.updated").exists()


def test_operator_recovers_a_locked_out_admin_from_the_command_line(admin: User) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("issue_one_time_password", "ada", "--reset-mfa", stdout=out)
    password = re.search(r"ada: (\S+)", out.getvalue())
    admin.refresh_from_db()
    assert password is not None and admin.check_password(password.group(1))
    assert admin.must_change_password
    assert not TOTPDevice.objects.filter(user=admin).exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"mfa.reset", "password.reset"} <= actions


def test_read_only_token_cannot_write(officer: User, mission: Any) -> None:
    from django.test import RequestFactory
    from ninja.errors import HttpError

    from haven.api import TokenAuth

    read = create_api_token(user=officer, mission=mission, name="r", scope="read", days=1)
    write = create_api_token(user=officer, mission=mission, name="w", scope="write", days=1)
    post = RequestFactory().post("/api/v1/anything")
    with pytest.raises(HttpError) as refused:
        TokenAuth().authenticate(post, read.secret)
    assert refused.value.status_code == 403
    assert TokenAuth().authenticate(post, write.secret) == write.token
    assert TokenAuth().authenticate(RequestFactory().get("/"), read.secret) == read.token


def test_sensitive_reads_are_logged(officer: User, mission: Any) -> None:
    from haven.audit.services import record_read

    record_read(actor=officer, mission=mission, obj=mission, fields=["public_contact"])
    event = AuditEvent.objects.get(action="record.read")
    assert (event.actor_id, event.mission_id, event.object_type, event.object_id) == (
        officer.pk,
        mission.pk,
        "core.mission",
        str(mission.pk),
    )
    assert event.fields == ["public_contact"]


def test_admin_of_one_mission_cannot_take_over_a_headquarters_account(
    admin: User, mission: Any, other_mission: Any
) -> None:
    hq = make_user(other_mission, "admin", username="hq")
    hq_membership = Membership.objects.create(user=hq, mission=mission, role="viewer")
    client = _reauthenticated(admin)
    for name in ("accounts:member_reset_mfa", "accounts:member_password"):
        response = client.post(reverse(name, kwargs={"membership_id": hq_membership.pk}))
        assert response.status_code == 302
        assert "do not administer" in client.get(response.url).content.decode()
    hq.refresh_from_db()
    assert hq.check_password(PASSWORD) and TOTPDevice.objects.filter(user=hq).exists()


@pytest.mark.parametrize("action", ["kill_sessions", "reset_mfa", "password", "remove"])
def test_cutting_access_revokes_api_tokens(
    action: str, admin: User, officer: User, mission: Any
) -> None:
    created = create_api_token(user=officer, mission=mission, name="t", scope="read", days=30)
    api = Client(headers={"Authorization": f"Bearer {created.secret}"})
    assert api.get("/api/v1/me").status_code == 200
    membership = officer.memberships.get()
    url = {
        "kill_sessions": "accounts:member_kill_sessions",
        "reset_mfa": "accounts:member_reset_mfa",
        "password": "accounts:member_password",
        "remove": "accounts:member_remove",
    }[action]
    _reauthenticated(admin).post(reverse(url, kwargs={"membership_id": membership.pk}))
    assert api.get("/api/v1/me").status_code == 401
    assert api.get("/api/v1/missions").status_code == 401


def test_token_made_for_one_mission_does_not_reach_the_others(
    officer: User, mission: Any, other_mission: Any
) -> None:
    Membership.objects.create(user=officer, mission=other_mission, role="officer")
    created = create_api_token(user=officer, mission=mission, name="t", scope="read", days=1)
    api = Client(headers={"Authorization": f"Bearer {created.secret}"})
    assert [m["name"] for m in api.get("/api/v1/missions").json()] == ["Embassy of Testland"]
    assert api.get(f"/api/v1/missions/{other_mission.pk}").status_code == 404


def test_sensitive_pages_ask_for_a_fresh_confirmation(admin: User, officer: User) -> None:
    membership = officer.memberships.get()
    client = signed_in_client(admin)
    for url in (
        reverse("accounts:tokens"),
        reverse("accounts:security"),
        reverse("accounts:mission_settings"),
        reverse("accounts:member", kwargs={"membership_id": membership.pk}),
    ):
        assert client.get(url).url.startswith(reverse("accounts:reauth")), url
    response = client.post(
        reverse("accounts:member", kwargs={"membership_id": membership.pk}), {"role": "admin"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == "officer"
    begin = client.post("/desk/security/keys/registration/begin/")
    assert begin.status_code == 403


def test_first_start_is_all_or_nothing(db: Any) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from haven.core.models import Mission

    with pytest.raises(CommandError, match="nothing was created"):
        call_command("first_start", "--username", "bad name!", stdout=StringIO())
    assert not User.objects.exists()
    out = StringIO()
    call_command("first_start", stdout=out)
    assert "One-time password" in out.getvalue()
    assert Mission.objects.count() == 1
    again = StringIO()
    call_command("first_start", stdout=again)
    assert "already set up" in again.getvalue()
