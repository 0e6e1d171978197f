"""Account safety: when an administrator hands someone a way into an account (a one-time
password, second factors removed, a new administrator), every other administrator of the
mission sees it on their desk, and the daily digest counts it."""

from __future__ import annotations

import datetime
import re
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from haven.accounts.models import AccountNotice, Membership, User
from haven.audit.models import AuditEvent
from haven.cases import reminders
from tests.factories import make_mission, make_user, signed_in_client

OTP = "issued a one-time password to"
MFA = "removed every second factor of"
ADMIN = "an administrator on"
MORNING = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


class Team:
    """Two administrators and two members of one mission, and an administrator elsewhere."""

    def __init__(self, mission: Any) -> None:
        self.mission = mission
        self.ada = make_user(mission, "admin", username="ada-actor")
        self.bea = make_user(mission, "admin", username="bea-peer", email="bea@mission.example")
        self.otto = make_user(mission, "officer", username="otto-subject")
        self.vic = make_user(mission, "viewer", username="vic-viewer")
        self.elsewhere = make_mission(slug="elsewhere")
        self.oz = make_user(self.elsewhere, "admin", username="oz-elsewhere")

    def membership(self, user: User) -> Membership:
        return Membership.objects.get(user=user, mission=self.mission)


@pytest.fixture
def team(mission: Any) -> Team:
    return Team(mission)


def _panel(client: Client) -> str:
    """The desk's panel of account notices, or "" when the desk has none."""
    page = client.get(reverse("core:desk")).content.decode()
    start = page.find('id="panel-account_notices"')
    return "" if start < 0 else page[start : page.index("</section>", start)]


def _member_action(actor: User, name: str, membership: Membership, **data: str) -> Any:
    client = signed_in_client(actor, reauthenticated=True)
    return client.post(reverse(name, kwargs={"membership_id": membership.pk}), data)


def test_other_admin_sees_a_one_time_password_on_the_desk_and_no_one_else_does(
    team: Team,
) -> None:
    response = _member_action(team.ada, "accounts:member_password", team.membership(team.otto))
    assert re.search(r'id="one-time-password">([^<]+)<', response.content.decode())
    today = timezone.localdate().strftime("%-d %b %Y")
    panel = _panel(signed_in_client(team.bea))
    assert f"ada-actor {OTP} otto-subject on {today}." in panel
    assert "Mark as read" in panel
    # Not the one who did it, not the person concerned, not a viewer, not another mission.
    assert OTP not in _panel(signed_in_client(team.ada))
    for user in (team.otto, team.vic, team.oz):
        assert OTP not in signed_in_client(user).get(reverse("core:desk")).content.decode()
    assert AccountNotice.objects.get().recipient == team.bea
    # In the reader's language.
    french = signed_in_client(team.bea)
    french.post("/desk/language/", {"language": "fr", "next": "/desk/"})
    assert "ada-actor a délivré un mot de passe à usage unique à otto-subject" in _panel(french)


def test_second_factors_removed_and_new_admins_show_on_the_desk(team: Team) -> None:
    _member_action(team.ada, "accounts:member_reset_mfa", team.membership(team.otto))
    _member_action(team.ada, "accounts:member", team.membership(team.vic), role="admin")
    signed_in_client(team.ada, reauthenticated=True).post(
        reverse("accounts:member_add"), {"username": "new-admin", "email": "", "role": "admin"}
    )
    # A change that hands over nothing is no notice: a role other than administrator.
    _member_action(team.ada, "accounts:member", team.membership(team.otto), role="viewer")
    panel = _panel(signed_in_client(team.bea))
    assert f"ada-actor {MFA} otto-subject on" in panel
    assert f"ada-actor made vic-viewer {ADMIN}" in panel
    assert f"ada-actor made new-admin {ADMIN}" in panel
    assert panel.count("Mark as read") == 3
    # The new administrators learn of each other's arrival, never of their own.
    vic_panel = _panel(signed_in_client(team.vic))
    assert "made new-admin" in vic_panel and "made vic-viewer" not in vic_panel
    assert OTP not in _panel(signed_in_client(team.ada)) and MFA not in _panel(
        signed_in_client(team.ada)
    )


def test_dismissing_is_the_recipients_alone_and_works_without_script(team: Team) -> None:
    cy = make_user(team.mission, "admin", username="cy-peer")
    _member_action(team.ada, "accounts:member_password", team.membership(team.otto))
    beas = AccountNotice.objects.get(recipient=team.bea)
    url = reverse("accounts:notice_dismiss")
    # Another administrator of the mission, or of another mission, cannot touch it.
    assert signed_in_client(cy).post(url, {"notice": beas.pk}).status_code == 404
    assert signed_in_client(team.oz).post(url, {"notice": beas.pk}).status_code == 404
    assert signed_in_client(team.bea).get(url).status_code == 405
    assert OTP in _panel(signed_in_client(team.bea))
    # A plain form post: the desk comes back without it; cy's own notice stays.
    bea = signed_in_client(team.bea)
    response = bea.post(url, {"notice": beas.pk})
    assert response.status_code == 302 and response.url == reverse("core:desk")
    panel = _panel(bea)
    assert OTP not in panel and "Nothing new about people's access." in panel
    assert OTP in _panel(signed_in_client(cy))
    event = AuditEvent.objects.get(action="account_notice.dismissed")
    assert event.actor_id == team.bea.pk and event.object_id == str(beas.pk)
    assert bea.post(url, {"notice": beas.pk}).status_code == 302  # twice is harmless
    assert bea.post(url, {"notice": "x"}).status_code == 404


def test_operator_resets_reach_every_admin_of_every_mission_of_the_person(team: Team) -> None:
    Membership.objects.create(user=team.otto, mission=team.elsewhere, role="officer")
    call_command("issue_one_time_password", "otto-subject", "--reset-mfa", stdout=StringIO())
    for admin in (team.ada, team.bea):
        panel = _panel(signed_in_client(admin))
        assert f"the server's operator {OTP} otto-subject" in panel
        assert f"the server's operator {MFA} otto-subject" in panel
    oz = signed_in_client(team.oz)
    assert f"the server's operator {OTP} otto-subject" in _panel(oz)
    # Each notice lives in its mission: oz's is not on the desks of the first mission.
    assert set(
        AccountNotice.objects.filter(recipient=team.oz).values_list("mission", flat=True)
    ) == {team.elsewhere.pk}


def test_the_digest_counts_account_notices_and_names_no_one(team: Team, settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with time_machine.travel(MORNING, tick=False):
        _member_action(team.ada, "accounts:member_password", team.membership(team.otto))
        _member_action(team.ada, "accounts:member_reset_mfa", team.membership(team.otto))
        assert reminders.send_digests() == 1
    [message] = mail.outbox
    assert message.to == ["bea@mission.example"]
    assert "2 changes to people's access wait on your desk." in message.body
    for name in ("ada-actor", "otto-subject", "one-time", "second factor"):
        assert name not in message.subject + message.body
