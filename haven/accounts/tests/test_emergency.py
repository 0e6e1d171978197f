"""Emergency destruction from the workspace: two administrators, or a pre-armed token, once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from haven.accounts.models import DestructionToken, EmergencyRequest, Membership
from haven.audit.models import AuditEvent
from haven.crypto.errors import DecryptionError
from haven.crypto.models import DataKey
from haven.crypto.tests.conftest import make_subject
from tests.factories import PASSWORD, make_user, signed_in_client, totp_code
from tests.testapp.models import Subject


@pytest.fixture(autouse=True)
def certificate_file(settings: Any, tmp_path: Path) -> Path:
    settings.HAVEN_VAR_DIR = tmp_path / "var"
    settings.HAVEN_DESTRUCTION_CERTIFICATE = tmp_path / "var" / "destruction-certificate.json"
    return Path(settings.HAVEN_DESTRUCTION_CERTIFICATE)


@pytest.fixture
def second_admin(mission: Any) -> Any:
    return make_user(mission, "admin", username="bea")


@pytest.fixture
def subject(mission: Any) -> Subject:
    return make_subject(mission, name="Jane Defender")


def _start(user: Any, action: str = "destroy", *, offset: int = 0) -> Any:
    data = {
        "action": action,
        "reason": "compound overrun",
        "password": PASSWORD,
        "code": totp_code(user, offset_steps=offset),
    }
    return signed_in_client(user).post(reverse("accounts:emergency_start"), data)


def _confirm(user: Any, request: EmergencyRequest, *, offset: int = 0, password: str = PASSWORD):
    data = {
        "request": request.pk,
        "password": password,
        "code": totp_code(user, offset_steps=offset),
    }
    return signed_in_client(user).post(reverse("accounts:emergency_confirm"), data)


def _readable(subject: Subject) -> bool:
    try:
        return Subject.objects.get(pk=subject.pk).name == "Jane Defender"
    except DecryptionError:
        return False


def test_one_admin_alone_only_starts_a_request(admin: Any, subject: Subject) -> None:
    response = _start(admin)
    assert response.status_code == 302
    request = EmergencyRequest.objects.get()
    assert request.started_by == admin and request.confirmed_at is None
    assert request.expires_at - request.started_at == timedelta(minutes=15)
    assert _readable(subject)
    page = signed_in_client(admin).get(reverse("accounts:emergency"))
    assert "must confirm it with their own password" in page.content.decode()


def test_the_same_admin_cannot_confirm_their_own_request(admin: Any, subject: Subject) -> None:
    _start(admin)
    response = _confirm(admin, EmergencyRequest.objects.get(), offset=1)
    assert response.status_code == 400
    assert "second, different administrator" in response.content.decode()
    assert _readable(subject) and EmergencyRequest.objects.get().confirmed_at is None
    assert AuditEvent.objects.filter(action="emergency.self_confirm_refused").exists()


def test_an_officer_can_neither_start_nor_confirm(
    admin: Any, officer: Any, subject: Subject
) -> None:
    assert _start(officer).status_code == 403
    _start(admin)
    assert _confirm(officer, EmergencyRequest.objects.get()).status_code == 403
    assert _readable(subject)


def test_a_wrong_password_or_code_does_not_confirm(
    admin: Any, second_admin: Any, subject: Subject
) -> None:
    _start(admin)
    request = EmergencyRequest.objects.get()
    response = _confirm(second_admin, request, password="wrong password entirely")
    assert response.status_code == 400
    assert "password or the code is not right" in response.content.decode()
    assert _readable(subject) and DataKey.objects.exists()


def test_a_lapsed_request_cannot_be_confirmed(
    admin: Any, second_admin: Any, subject: Subject
) -> None:
    _start(admin)
    request = EmergencyRequest.objects.get()
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        response = _confirm(second_admin, request)
    assert response.status_code == 400 and "lapsed" in response.content.decode()
    assert _readable(subject)


def test_an_admin_of_another_mission_cannot_confirm(
    admin: Any, other_mission: Any, subject: Subject
) -> None:
    # Ada administers both missions on the server, so she may start; Olaf only the other one.
    Membership.objects.create(user=admin, mission=other_mission, role="admin")
    _start(admin)
    outsider = make_user(other_mission, "admin", username="olaf")
    response = _confirm(outsider, EmergencyRequest.objects.get())
    assert response.status_code == 400
    assert _readable(subject)


def test_admins_of_one_mission_cannot_destroy_a_server_hosting_others(
    admin: Any, other_mission: Any, subject: Subject
) -> None:
    response = _start(admin)
    assert response.status_code == 400
    assert "every mission on this server" in response.content.decode()
    assert not EmergencyRequest.objects.exists()
    assert _readable(subject)


def test_two_admins_destroy_everything_and_the_workspace_says_so(
    admin: Any, second_admin: Any, subject: Subject, settings: Any, certificate_file: Path
) -> None:
    _start(admin)
    response = _confirm(second_admin, EmergencyRequest.objects.get())
    assert response.status_code == 200
    assert "has been destroyed" in response.content.decode()
    assert not _readable(subject) and not DataKey.objects.exists()
    assert certificate_file.exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"emergency.destroy_requested", "emergency.destroy_confirmed"} <= actions
    destroyed = AuditEvent.objects.filter(action="emergency.destroyed")
    assert sorted(destroyed.values_list("actor_username", flat=True)) == ["ada", "bea"]

    assert signed_in_client(admin).get(reverse("core:desk")).status_code == 410
    assert Client().get("/healthz").status_code == 200


def _arm_token(admin: Any, second_admin: Any) -> str:
    _start(admin, "arm_token")
    response = _confirm(second_admin, EmergencyRequest.objects.get())
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("hvd_") and secret in response.content.decode()
    return str(secret)


def test_a_pre_armed_token_destroys_once_when_entered_by_staff(
    admin: Any, second_admin: Any, officer: Any, subject: Subject
) -> None:
    secret = _arm_token(admin, second_admin)
    assert _readable(subject)
    token = DestructionToken.objects.get()
    assert token.digest != secret and secret not in token.digest

    url = reverse("accounts:emergency_use_token")
    response = signed_in_client(officer).post(url, {"token": secret})
    assert response.status_code == 200
    assert not _readable(subject)
    destroyed = AuditEvent.objects.filter(action="emergency.destroyed")
    assert sorted(destroyed.values_list("actor_username", flat=True)) == ["ada", "bea", "otto"]

    again = signed_in_client(officer).post(url, {"token": secret})
    # Afterwards the workspace only says that the data is gone.
    assert again.status_code == 410
    assert AuditEvent.objects.filter(action="emergency.destroyed").count() == 3


def test_a_wrong_token_does_nothing(
    admin: Any, second_admin: Any, officer: Any, subject: Subject
) -> None:
    secret = _arm_token(admin, second_admin)
    url = reverse("accounts:emergency_use_token")
    wrong = secret[:-4] + ("aaaa" if not secret.endswith("aaaa") else "bbbb")
    response = signed_in_client(officer).post(url, {"token": wrong})
    assert response.status_code == 400
    assert "not a usable destruction token" in response.content.decode()
    assert _readable(subject) and DestructionToken.objects.get().used_at is None
    assert AuditEvent.objects.filter(action="emergency.token_refused").exists()


def test_one_admin_alone_cannot_arm_a_token(admin: Any, subject: Subject) -> None:
    _start(admin, "arm_token")
    response = _confirm(admin, EmergencyRequest.objects.get(), offset=1)
    assert response.status_code == 400 and not DestructionToken.objects.exists()


def test_a_token_stops_working_when_its_armers_lose_office(
    admin: Any, second_admin: Any, officer: Any, subject: Subject
) -> None:
    secret = _arm_token(admin, second_admin)
    Membership.objects.filter(user=second_admin).update(role="officer")
    response = signed_in_client(officer).post(
        reverse("accounts:emergency_use_token"), {"token": secret}
    )
    assert response.status_code == 400
    assert _readable(subject)
