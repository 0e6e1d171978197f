"""The intake: a request sent on the portal, its receipt, triage, replies, deletion."""

from __future__ import annotations

import io
import re
from typing import Any
from unittest import mock

import pytest
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse

from haven.audit.models import AuditEvent
from haven.crypto.models import IntakeKey
from haven.intake import services, tokens
from haven.intake.models import Message, Submission, SubmissionStatus
from tests.factories import make_defender, make_user, portal_post, signed_in_client

ANSWERS = {
    "kind": "help",
    "at_risk": "me",
    "name": "Amina Otieno",
    "work": "Land rights in the Rift Valley",
    "description": "Men came to my office at night and threatened my family.",
    "help_wanted": ["physical_security", "legal_support"],
    "contact": "Signal +254 712 345 678 after 6 pm",
    "consent": ["keep_contact", "raise_unnamed"],
}


@pytest.fixture
def portal(mission: Any) -> Any:
    return mission  # every new mission has its intake key


def _send(client: Client, **changes: Any) -> Any:
    return portal_post(client, "intake_portal:request", {**ANSWERS, **changes})


def _receipt(response: Any) -> str:
    match = re.search(r'<p class="secret receipt"[^>]*>([a-z ]+)</p>', response.content.decode())
    assert match, response.content.decode()[:2000]
    return match.group(1)


def test_a_request_is_sealed_and_answered_with_a_receipt(portal: Any) -> None:
    events_before = AuditEvent.objects.count()
    response = _send(Client())
    assert response.status_code == 200
    passphrase = _receipt(response)
    assert len(passphrase.split()) == 7
    submission = Submission.objects.get()
    assert submission.kind == "help" and submission.suggested_urgency == "critical"
    assert b"Amina" not in bytes(submission.sealed)
    assert passphrase not in str(submission.__dict__)
    # No event with a time is written for a visitor.
    assert AuditEvent.objects.count() == events_before


def test_nothing_typed_is_lost_when_the_form_is_incomplete(portal: Any) -> None:
    response = _send(Client(), description="", kind="")
    page = response.content.decode()
    assert response.status_code == 200 and "Amina Otieno" in page
    assert "Land rights in the Rift Valley" in page
    assert not Submission.objects.exists()


def test_a_robot_filling_the_hidden_field_stores_nothing(portal: Any) -> None:
    response = _send(Client(), website="http://spam.example")
    assert response.status_code == 200 and "received" in response.content.decode()
    assert not Submission.objects.exists()


def test_a_database_failure_shows_not_sent_and_keeps_nothing(portal: Any) -> None:
    with mock.patch.object(Submission, "save", side_effect=DatabaseError("disk full")):
        response = _send(Client())
    assert response.status_code == 503
    assert "was not sent" in response.content.decode()
    assert "secret receipt" not in response.content.decode()
    assert not Submission.objects.exists()


def test_the_whole_conversation(portal: Any, officer: Any) -> None:
    passphrase = _receipt(_send(Client()))
    submission = Submission.objects.get()
    # The officer opens it (logged), confirms urgency, links the defender and replies.
    defender = make_defender(portal, name="Amina Otieno")
    desk = signed_in_client(officer)
    assert "1 new request waits." in desk.get(reverse("core:desk")).content.decode()
    url = reverse("intake:submission", kwargs={"submission_id": submission.pk})
    page = desk.get(url).content.decode()
    assert "threatened my family" in page and "Physical security" in page
    assert "Link to Amina Otieno" in page  # suggested from the name in the request
    assert AuditEvent.objects.filter(action="record.read", object_id=str(submission.pk)).exists()
    desk.post(
        reverse("intake:submission_link", kwargs={"submission_id": submission.pk}),
        {"defender": defender.pk},
    )
    desk.post(
        reverse("intake:submission_triage", kwargs={"submission_id": submission.pk}),
        {"urgency": "high", "status": "reviewing"},
    )
    desk.post(url, {"text": "We received your request. Can we call you on Signal tomorrow?"})
    submission.refresh_from_db()
    assert submission.defender == defender and submission.urgency == "high"
    assert submission.status == SubmissionStatus.IN_PROGRESS
    reply = Message.objects.get()
    assert b"Signal tomorrow" not in bytes(reply.sealed_for_person)

    # The person reads it with the receipt, typed carelessly, and answers.
    person = Client()
    typed = "  " + passphrase.upper().replace(" ", "   ") + " "
    page = portal_post(person, "intake_portal:receipt", {"passphrase": typed}).content.decode()
    assert "Can we call you on Signal tomorrow?" in page
    assert "In progress" in page and "never before" in page
    page = portal_post(
        person,
        "intake_portal:receipt_message",
        {"passphrase": passphrase, "text": "Yes, after 6 pm."},
    ).content.decode()
    assert "Your message was sent." in page and "Yes, after 6 pm." in page
    assert "Yes, after 6 pm." in desk.get(url).content.decode()


def test_a_wrong_receipt_opens_nothing(portal: Any) -> None:
    _send(Client())
    response = portal_post(
        Client(),
        "intake_portal:receipt",
        {"passphrase": "abacus abdomen abdominal abide abiding ability ablaze"},
    )
    page = response.content.decode()
    assert "These words do not open any request." in page and "threatened" not in page


def test_deletion_asked_by_the_person_then_confirmed_by_an_officer(
    portal: Any, officer: Any
) -> None:
    passphrase = _receipt(_send(Client()))
    submission = Submission.objects.get()
    page = portal_post(
        Client(), "intake_portal:receipt_delete", {"passphrase": passphrase, "confirm": "on"}
    ).content.decode()
    assert "You asked for deletion." in page
    desk = signed_in_client(officer)
    inbox = desk.get(reverse("intake:inbox")).content.decode()
    assert "deletion asked" in inbox
    url = reverse("intake:submission_discard", kwargs={"submission_id": submission.pk})
    assert desk.post(url).status_code == 302
    assert not Submission.objects.exists()
    event = AuditEvent.objects.get(action="intake.discarded")
    assert event.reason == "deletion requested"


def test_inbox_puts_the_most_urgent_first(portal: Any, officer: Any) -> None:
    client = Client()
    _send(client, kind="contact", help_wanted=[])
    _send(client, kind="help", help_wanted=["urgent_relocation"])
    _send(client, kind="update", help_wanted=[])
    page = signed_in_client(officer).get(reverse("intake:inbox")).content.decode()
    order = [
        page.index(label)
        for label in ("Critical (suggested)", "Medium (suggested)", "Low (suggested)")
    ]
    assert order == sorted(order)


def test_another_missions_request_is_not_found(portal: Any, other_mission: Any) -> None:
    _send(Client())
    submission = Submission.objects.get()
    outsider = signed_in_client(make_user(other_mission, "admin"))
    url = reverse("intake:submission", kwargs={"submission_id": submission.pk})
    assert outsider.get(url).status_code == 404


def test_services_refuse_an_unknown_kind(portal: Any) -> None:
    with pytest.raises(services.IntakeError):
        services.submit(mission=portal, answers={**ANSWERS, "kind": "gossip"}, language="en")


@pytest.mark.parametrize("language", ["", "fr/", "es/", "ar/", "ru/"])
def test_portal_pages_are_small_and_have_no_script(portal: Any, language: str) -> None:
    client = Client()
    sent = client.post(f"/{language}request/", {**ANSWERS, "form_token": tokens.issue("request")})
    passphrase = _receipt(sent)
    pages = [
        client.get(f"/{language}request/"),
        client.get(f"/{language}receipt/"),
        sent,
        client.post(
            f"/{language}receipt/",
            {"passphrase": passphrase, "form_token": tokens.issue("receipt")},
        ),
    ]
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert len(response.content) < 50 * 1024
        assert "<script" not in html and " style=" not in html
        assert not re.search(r'(src|action)="(https?:)?//', html)
        assert re.findall(r'href="((?:https?:)?//[^"]*)"', html) == [portal.quick_exit_url]
    if language == "ar/":
        assert 'dir="rtl"' in pages[0].content.decode()


def test_every_new_mission_can_take_requests_and_one_without_a_key_says_so(
    portal: Any,
) -> None:
    assert IntakeKey.objects.filter(mission=portal).count() == 1
    IntakeKey.objects.filter(mission=portal).delete()
    page = _send(Client()).content.decode()
    assert "cannot receive requests here yet" in page and not Submission.objects.exists()


def test_the_mission_writes_what_it_can_do_per_language(portal: Any, admin: Any) -> None:
    general = Client().get("/fr/what-we-do/").content.decode()
    assert "ne peut promettre ni protection" in general
    client = signed_in_client(admin)
    url = reverse("intake:portal_text_edit") + "?language=fr"
    response = client.post(
        url,
        {"can_do": "Observer les procès à Nairobi.", "cannot_do": "Délivrer des visas."},
    )
    assert response.status_code == 302
    french = Client().get("/fr/what-we-do/").content.decode()
    assert "Observer les procès à Nairobi." in french and "Délivrer des visas." in french
    english = Client().get("/what-we-do/").content.decode()
    assert "Observer les procès" not in english  # each language has its own text
    assert AuditEvent.objects.filter(action="portal.text_changed").count() == 1
    assert signed_in_client(make_user(portal, "officer")).get(url).status_code == 403


def test_safety_advice_is_on_the_portal(portal: Any) -> None:
    page = Client().get("/safety/").content.decode()
    assert "Tor Browser" in page and "<script" not in page


def test_deletion_asked_and_never_confirmed_happens_after_14_days(portal: Any) -> None:
    import datetime

    from django.core.management import call_command
    from django.utils import timezone

    passphrase = _receipt(_send(Client()))
    _send(Client(), description="Another request")
    portal_post(
        Client(), "intake_portal:receipt_delete", {"passphrase": passphrase, "confirm": "on"}
    )
    today = timezone.localdate()
    assert services.purge_unconfirmed_deletions(today=today + datetime.timedelta(days=13)) == 0
    assert Submission.objects.count() == 2
    Submission.objects.filter(deletion_requested_on__isnull=False).update(
        deletion_requested_on=today - datetime.timedelta(days=14)
    )
    out = io.StringIO()
    call_command("periodic", once=True, stdout=out)
    assert "intake.purge_unconfirmed_deletions: 1 requests deleted" in out.getvalue()
    assert Submission.objects.count() == 1
    event = AuditEvent.objects.get(action="intake.discarded")
    assert event.actor_id is None and event.reason == "deletion requested"


def test_the_portal_takes_requests_without_any_key_that_opens_them(
    portal: Any, officer: Any, settings: Any, tmp_path: Any
) -> None:
    """A portal-only host holds no KEK: with the key files gone, requests still arrive, and
    only the workspace (with its keys back) can open them."""
    from haven.crypto.errors import CryptoError
    from haven.crypto.keys import reload_provider

    keys_dir = settings.HAVEN_KEY_DIR
    settings.HAVEN_KEY_DIR = tmp_path / "no-keys-here"
    settings.HAVEN_KEY_DIR.mkdir()
    reload_provider()
    try:
        passphrase = _receipt(_send(Client(), description="Sent while no KEK was loaded."))
        assert not any(settings.HAVEN_KEY_DIR.iterdir())  # no key was read or made
        submission = Submission.objects.get()
        with pytest.raises(CryptoError):
            services.open_submission(submission=submission, actor=officer)
    finally:
        settings.HAVEN_KEY_DIR = keys_dir
        reload_provider()
    answers = services.open_submission(submission=submission, actor=officer)
    assert answers["description"] == "Sent while no KEK was loaded."
    assert services.open_receipt(mission=portal, passphrase=passphrase) is not None


def test_triage_registers_the_person_and_links_the_request(portal: Any, officer: Any) -> None:
    from haven.registry.models import Defender

    _send(Client())
    submission = Submission.objects.get()
    desk = signed_in_client(officer)
    url = reverse("intake:submission_create_defender", kwargs={"submission_id": submission.pk})
    response = desk.post(url)
    defender = Defender.objects.get()
    assert response.status_code == 302 and response.url == defender.get_absolute_url()
    assert defender.name == "Amina Otieno"
    submission.refresh_from_db()
    assert submission.defender == defender
    _send(Client())
    second = Submission.objects.latest("pk")
    desk.post(reverse("intake:submission_create_defender", kwargs={"submission_id": second.pk}))
    assert Defender.objects.count() == 1  # the same name: link instead of a duplicate


def test_the_portal_stores_no_session_for_a_visitor(portal: Any) -> None:
    from django.contrib.sessions.models import Session

    client = Client()
    _send(client)
    portal_post(
        client,
        "intake_portal:receipt",
        {"passphrase": "abacus abdomen abdominal abide abiding ability ablaze"},
    )
    assert not Session.objects.exists()
    assert set(client.cookies) <= {"csrftoken"}
