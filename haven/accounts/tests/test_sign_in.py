"""Signing in: one-time password, forced change, TOTP enrolment, lockout, replay, sessions."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts.models import User
from haven.accounts.services import add_staff_user
from haven.audit.models import AuditEvent
from tests.factories import PASSWORD, make_user, signed_in_client, totp_code

LOGIN = "/desk/login/"


def _login(client: Client, username: str, password: str) -> Any:
    return client.post(LOGIN, {"username": username, "password": password})


def test_first_sign_in_forces_password_change_then_totp_then_desk(mission: Any) -> None:
    account = add_staff_user(actor=None, mission=mission, username="newcomer", role="officer")
    client = Client()
    response = _login(client, "newcomer", account.one_time_password)
    assert response.status_code == 302

    # Every workspace page leads to the password change first.
    assert client.get("/desk/").url == reverse("accounts:password_change")
    assert client.get("/desk/members/").url == reverse("accounts:password_change")
    new_password = "a much longer passphrase of my own"
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": account.one_time_password,
            "new_password1": new_password,
            "new_password2": new_password,
        },
    )
    assert response.status_code == 302

    # Then the authenticator app, before anything else.
    assert client.get("/desk/").url == reverse("accounts:mfa_enrol")
    page = client.get(reverse("accounts:mfa_enrol"))
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=account.user, confirmed=False)
    code = str(TOTP(device.bin_key).token()).zfill(6)
    response = client.post(reverse("accounts:mfa_enrol"), {"code": code})
    assert response.url == reverse("accounts:recovery_codes")
    codes_page = client.get(response.url)
    codes = re.search(rb'id="recovery-codes">(.*?)</ol>', codes_page.content, re.S)
    assert codes is not None and codes.group(1).count(b"<li>") == 10
    # Shown once only.
    assert client.get(reverse("accounts:recovery_codes")).status_code == 302

    desk = client.get("/desk/")
    assert desk.status_code == 200
    assert b"Embassy of Testland" in desk.content
    account.user.refresh_from_db()
    assert not account.user.must_change_password
    assert account.user.check_password(new_password)


def test_password_rules_are_enforced(mission: Any) -> None:
    user = make_user(mission, must_change_password=True)
    client = Client()
    _login(client, user.username, PASSWORD)
    for bad in ("short pass 1", "x" * 129, "1q2w3e4r5t6y7u8i9o0p"):
        response = client.post(
            reverse("accounts:password_change"),
            {"old_password": PASSWORD, "new_password1": bad, "new_password2": bad},
        )
        assert response.status_code == 200
        assert b'class="error"' in response.content
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_unknown_user_and_wrong_password_answer_identically(officer: User) -> None:
    unknown = _login(Client(), "nobody-here", "whatever password 123")
    wrong = _login(Client(), officer.username, "whatever password 123")
    assert unknown.status_code == wrong.status_code == 200

    def body(response: Any) -> bytes:
        # The CSRF token differs on every page; nothing else may.
        text = response.content.decode()
        text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
        return re.sub(r"value=\"[^\"]*\"", "", text).encode()

    assert body(unknown) == body(wrong)
    assert b"username or password is not right" in unknown.content


def test_lockout_after_five_failures_is_per_username(officer: User) -> None:
    for _ in range(5):
        _login(Client(), officer.username, "wrong password number x")
    locked_client = Client()
    locked = _login(locked_client, officer.username, PASSWORD)
    assert locked_client.get("/desk/").url.startswith(LOGIN)
    assert locked.status_code == 429
    assert b"Too many failed attempts" in locked.content
    # Another username from the same address is unaffected.
    other = make_user(officer.memberships.first().mission)
    assert _login(Client(), other.username, PASSWORD).status_code == 302
    assert AuditEvent.objects.filter(action="auth.locked_out").exists()
    assert AuditEvent.objects.filter(action="auth.failed").count() >= 5


def test_lockout_ends_after_cool_off(officer: User) -> None:
    for _ in range(5):
        _login(Client(), officer.username, "wrong password number x")
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert _login(Client(), officer.username, PASSWORD).status_code == 302


def test_totp_code_works_once(officer: User) -> None:
    client = Client()
    _login(client, officer.username, PASSWORD)
    code = totp_code(officer)
    assert client.post(reverse("accounts:mfa_verify"), {"code": code}).status_code == 302
    assert client.get("/desk/").status_code == 200

    replay = Client()
    _login(replay, officer.username, PASSWORD)
    response = replay.post(reverse("accounts:mfa_verify"), {"code": code})
    assert response.status_code == 200
    assert replay.get("/desk/").url == reverse("accounts:mfa_verify")


def test_recovery_code_works_once(officer: User) -> None:
    from haven.accounts.services import generate_recovery_codes

    codes = generate_recovery_codes(user=officer)
    first = Client()
    _login(first, officer.username, PASSWORD)
    assert first.post(reverse("accounts:mfa_verify"), {"code": codes[0]}).status_code == 302
    second = Client()
    _login(second, officer.username, PASSWORD)
    assert second.post(reverse("accounts:mfa_verify"), {"code": codes[0]}).status_code == 200


def test_login_rotates_the_session_id(officer: User) -> None:
    # A real, saved session planted before sign-in (session fixation) must not survive it.
    client = Client()
    session = client.session
    session["planted"] = True
    session.save()
    planted = session.session_key
    client.cookies["sessionid"] = planted
    _login(client, officer.username, PASSWORD)
    assert client.cookies["sessionid"].value != planted
    assert not Session.objects.filter(session_key=planted).exists()
    assert client.session.get("planted") is True  # the data moved, the key did not


def test_idle_session_expires_after_30_minutes(officer: User) -> None:
    client = signed_in_client(officer)
    assert client.get("/desk/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=29)):
        assert client.get("/desk/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=29 + 31)):
        assert client.get("/desk/").status_code == 302


def test_an_active_session_slides_its_expiry_at_most_once_a_minute(officer: User) -> None:
    client = signed_in_client(officer)
    key = client.session.session_key
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert client.get("/desk/").status_code == 200
    first = Session.objects.get(session_key=key).expire_date
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        assert client.get("/desk/").status_code == 200
    assert Session.objects.get(session_key=key).expire_date == first  # not written again
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        assert client.get("/desk/").status_code == 200
    assert Session.objects.get(session_key=key).expire_date == first + timedelta(minutes=2)


def test_session_ends_after_12_hours_even_when_active(officer: User) -> None:
    client = signed_in_client(officer)
    start = timezone.now()
    for minutes in range(20, 12 * 60, 20):
        with time_machine.travel(start + timedelta(minutes=minutes)):
            assert client.get("/desk/").status_code == 200, minutes
    with time_machine.travel(start + timedelta(hours=12, minutes=5)):
        assert client.get("/desk/").status_code == 302


def test_logout_destroys_the_session_on_the_server(officer: User) -> None:
    client = signed_in_client(officer)
    key = client.session.session_key
    assert client.get("/desk/").status_code == 200
    stolen = Client()
    stolen.cookies["sessionid"] = key
    assert stolen.get("/desk/").status_code == 200
    client.post(reverse("accounts:logout"))
    assert not Session.objects.filter(session_key=key).exists()
    assert stolen.get("/desk/").status_code == 302


def test_admin_can_end_all_sessions_of_a_member(admin: User, officer: User) -> None:
    victim = signed_in_client(officer)
    assert victim.get("/desk/").status_code == 200
    membership = officer.memberships.get()
    response = signed_in_client(admin, reauthenticated=True).post(
        reverse("accounts:member_kill_sessions", kwargs={"membership_id": membership.pk})
    )
    assert response.status_code == 302
    assert victim.get("/desk/").status_code == 302
    assert AuditEvent.objects.filter(action="sessions.killed", object_id=str(officer.pk)).exists()


def test_unverified_password_session_reaches_no_workspace_page(officer: User) -> None:
    client = Client()
    _login(client, officer.username, PASSWORD)
    for url in ("/desk/", "/desk/members/", "/desk/tokens/", "/desk/audit/", "/desk/security/"):
        assert client.get(url).url == reverse("accounts:mfa_verify"), url


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x"])
def test_next_never_leaves_the_site(officer: User, next_url: str) -> None:
    client = Client()
    client.post(f"{LOGIN}?next={next_url}", {"username": officer.username, "password": PASSWORD})
    response = client.post(reverse("accounts:mfa_verify"), {"code": totp_code(officer)})
    assert response.url == "/desk/"


def test_sign_in_events_are_audited(officer: User) -> None:
    client = Client()
    _login(client, officer.username, "wrong password number x")
    _login(client, officer.username, PASSWORD)
    client.post(reverse("accounts:mfa_verify"), {"code": totp_code(officer)})
    actions = list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))
    assert actions[-3:] == ["auth.failed", "auth.login", "auth.mfa_verified"]


def test_signing_in_again_does_not_extend_the_12_hours(officer: User) -> None:
    client = Client()
    start = timezone.now()
    _login(client, officer.username, PASSWORD)
    client.post(reverse("accounts:mfa_verify"), {"code": totp_code(officer)})
    with time_machine.travel(start + timedelta(hours=11)):
        _login(client, officer.username, PASSWORD)
    with time_machine.travel(start + timedelta(hours=12, minutes=5)):
        assert client.get("/desk/").status_code == 302


def test_new_password_must_differ_from_the_one_time_password(mission: Any) -> None:
    account = add_staff_user(actor=None, mission=mission, username="reuser", role="officer")
    client = Client()
    _login(client, "reuser", account.one_time_password)
    otp = account.one_time_password
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": otp, "new_password1": otp, "new_password2": otp},
    )
    assert response.status_code == 200
    assert "different from the current one" in response.content.decode()
    account.user.refresh_from_db()
    assert account.user.must_change_password


def test_lockout_tables_hold_no_typed_name_address_or_browser(officer: User) -> None:
    from axes.models import AccessAttempt, AccessLog

    typed = "my-secret-password-typed-as-username"
    client = Client(headers={"User-Agent": "Distinctive-Browser/1.0"}, REMOTE_ADDR="203.0.113.9")
    for _ in range(2):
        _login(client, typed, "whatever password 123")
    _login(client, officer.username, PASSWORD)
    stored = str(list(AccessAttempt.objects.values())) + str(list(AccessLog.objects.values()))
    assert typed not in stored
    assert "Distinctive-Browser" not in stored
    assert "203.0.113.9" not in stored
    assert not AccessLog.objects.exists()
