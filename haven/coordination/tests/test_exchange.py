"""Two missions exchange case summaries and rotas as files, through the workspace, end to end.

Each mission registers the other from the key card it downloaded, verifies it, sends a bundle
as a download, and the other imports the file: preview, confirm, read. Tampered files, files
for another mission and files from unverified partners are refused and nothing is stored;
what travels is what the defender's consent allows for that partner, no more.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from haven.audit.models import AuditEvent
from haven.cases import services as cases
from haven.coordination.models import Disclosure, Partner, ReceivedBundle
from haven.coordination.services import CoordinationError, send_case_summary
from haven.monitoring import services as monitoring
from haven.registry import services as registry
from tests.factories import make_defender, make_mission, make_user, signed_in_client

NAME = "Amina Wanjiru-Canary"
TITLE = "Threats after the land hearing"
SUMMARY = "Followed home twice by men in plain clothes."
PHONE = "+254700111222"
RELATIVE = "Baraka Relative-Canary"
NOTES = "Private note about her family"
COURT = "Milimani Law Courts, room 4"


@dataclass
class Side:
    mission: Any
    admin: Any
    officer: Any

    def client(self, who: str = "officer") -> Client:
        return signed_in_client(getattr(self, who), reauthenticated=True)


def _side(mission: Any) -> Side:
    return Side(mission, make_user(mission, "admin"), make_user(mission, "officer"))


@pytest.fixture
def a(mission: Any) -> Side:
    return _side(mission)


@pytest.fixture
def b(other_mission: Any) -> Side:
    return _side(other_mission)


def _card(side: Side) -> str:
    response = side.client().get(reverse("coordination:our_key_card"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    return response.content.decode()


def register(at: Side, of: Side, code: str, *, verify: bool = True) -> Partner:
    """``at``'s admin adds ``of`` from the card ``of`` downloaded, and verifies it."""
    client = at.client("admin")
    response = client.post(
        reverse("coordination:partner_new"), {"card": _card(of), "code": code, "country": "NL"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    partner = Partner.objects.get(mission=at.mission, code=code)
    page = client.get(partner.get_absolute_url()).content.decode()
    assert partner.fingerprint_grouped in page
    assert "Not verified" in page
    if verify:
        client.post(reverse("coordination:partner_verify", kwargs={"partner_id": partner.pk}))
        partner.refresh_from_db()
        assert partner.verified
    return partner


@pytest.fixture
def partners(a: Side, b: Side) -> tuple[Partner, Partner]:
    """(B as A's partner, A as B's partner), both verified."""
    return register(a, b, "NL-NBO"), register(b, a, "TL-NBO")


def make_case(side: Side, *, consent: dict[str, str]) -> Any:
    """A case about a defender with a phone, a relative and notes; an incident; a hearing."""
    defender = make_defender(
        side.mission, name=NAME, channels=[("phone", PHONE)], notes=NOTES, region="Nairobi"
    )
    registry.add_relation(defender=defender, actor=side.admin, kind="family", name=RELATIVE)
    for scope, detail in consent.items():
        registry.record_consent(
            entry=defender,
            actor=side.admin,
            scope=scope,
            channel="in_person",
            given_on=timezone.localdate(),
            detail=detail,
        )
    case = cases.open_case(
        mission=side.mission,
        actor=side.officer,
        title=TITLE,
        summary=SUMMARY,
        urgency="high",
        defender=defender,
    )
    cases.record_incident(
        case=case,
        actor=side.officer,
        incident_type="death_threat",
        occurred_on=timezone.localdate(),
        description="Told she would disappear",
        perpetrator_type="police",
        source_type="victim",
    )
    monitoring.schedule_hearing(
        case=case,
        actor=side.officer,
        court=COURT,
        starts_at=timezone.now() + datetime.timedelta(days=10),
        observers=[side.officer],
    )
    return case


def send(side: Side, case: Any, partner: Partner, reason: str = "protection") -> Any:
    url = reverse("coordination:send_summary", kwargs={"case_id": case.pk})
    return side.client().post(url, {"partner": partner.pk, "reason": reason})


def upload(side: Side, blob: bytes) -> Any:
    return side.client().post(
        reverse("coordination:import"),
        {"bundle": SimpleUploadedFile("summary.haven-bundle", blob)},
    )


def confirm(side: Side, preview: Any) -> Any:
    data = preview.context["confirm"].initial["bundle_data"]
    return side.client().post(reverse("coordination:import"), {"bundle_data": data})


def test_two_missions_exchange_a_case_summary_through_files(
    a: Side, b: Side, partners: tuple[Partner, Partner]
) -> None:
    to_b, _from_a = partners
    case = make_case(a, consent={"share_missions": "NL-NBO\nSome other embassy"})

    response = send(a, case, to_b)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].endswith('.haven-bundle"')
    blob = response.content
    for secret in (NAME, TITLE, COURT):
        assert secret.encode() not in blob
    disclosure = Disclosure.objects.get(mission=a.mission)
    assert disclosure.partner == to_b and disclosure.case == case
    assert "subject.name" in disclosure.fields
    event = AuditEvent.objects.get(action="coordination.disclosed", mission_id=a.mission.pk)
    assert event.reason.startswith("protection;")
    assert str(disclosure.bundle_uuid) in event.reason
    assert NAME not in json.dumps(disclosure.fields) and NAME not in event.reason

    # B checks it: a preview, nothing stored yet.
    preview = upload(b, blob)
    assert preview.status_code == 200
    page = preview.content.decode()
    assert NAME in page and TITLE in page and COURT in page
    assert "Unverified allegation" in page  # the incident's verification travels with it
    assert a.mission.name in page
    assert not ReceivedBundle.objects.exists()

    stored = confirm(b, preview)
    received = ReceivedBundle.objects.get(mission=b.mission)
    assert stored.status_code == 302 and stored.url == received.get_absolute_url()
    assert received.partner == _from_a
    assert received.bundle_uuid == disclosure.bundle_uuid
    assert received.received_by == b.officer
    assert received.payload["subject"]["name"] == NAME
    assert AuditEvent.objects.filter(
        action="coordination.bundle_imported", mission_id=b.mission.pk
    ).exists()

    page = b.client().get(received.get_absolute_url()).content.decode()
    assert NAME in page and "Milimani" in page
    assert AuditEvent.objects.filter(
        action="record.read", object_id=str(received.pk), mission_id=b.mission.pk
    ).exists()
    listing = b.client().get(reverse("coordination:index")).content.decode()
    assert received.get_absolute_url() in listing

    # The same file again is recognised, not stored twice.
    again = upload(b, blob)
    assert "You imported this bundle on" in again.content.decode()
    confirm(b, preview)
    assert ReceivedBundle.objects.filter(mission=b.mission).count() == 1


def test_what_a_summary_never_carries(a: Side, b: Side, partners: tuple[Partner, Partner]) -> None:
    case = make_case(a, consent={"share_missions": "nl-nbo"})  # the code, in any case
    blob = send(a, case, partners[0]).content
    confirm(b, upload(b, blob))
    carried = json.dumps(ReceivedBundle.objects.get().payload, ensure_ascii=False)
    assert NAME in carried
    for never in (PHONE, RELATIVE, NOTES, "Told she would disappear"):
        assert never not in carried


def test_only_deidentified_consent_sends_no_name_and_no_free_text(
    a: Side, b: Side, partners: tuple[Partner, Partner]
) -> None:
    case = make_case(a, consent={"deidentified_reporting": ""})
    response = send(a, case, partners[0], reason="partner_request")
    assert response.status_code == 200
    assert NAME.encode() not in response.content
    confirm(b, upload(b, response.content))
    payload = ReceivedBundle.objects.get().payload
    carried = json.dumps(payload, ensure_ascii=False)
    for never in (NAME, TITLE, SUMMARY, COURT, PHONE, "police"):
        assert never not in carried
    assert payload["subject"]["region"] == "Nairobi"
    assert payload["incidents"][0]["incident_type"] == "death_threat"
    assert payload["case"] == {"status": case.status, "urgency": "high"}
    assert "hearings" not in payload
    assert Disclosure.objects.get().consent_basis == "deidentified_reporting"


def test_consent_naming_another_partner_is_refused(
    a: Side, b: Side, partners: tuple[Partner, Partner]
) -> None:
    case = make_case(a, consent={"share_missions": "Embassy of Elsewhere"})
    response = send(a, case, partners[0])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "does not allow sharing this case with" in page
    assert not Disclosure.objects.exists()
    assert not AuditEvent.objects.filter(action="coordination.disclosed").exists()


def test_withdrawn_consent_stops_the_bundle(
    a: Side, b: Side, partners: tuple[Partner, Partner]
) -> None:
    case = make_case(a, consent={"share_missions": "NL-NBO"})
    consent = case.defender.consents.get(scope="share_missions")
    registry.withdraw_consent(
        consent=consent, actor=a.admin, reason="other", note="She asked us to stop"
    )
    with pytest.raises(CoordinationError, match="does not allow"):
        send_case_summary(case=case, partner=partners[0], actor=a.officer, reason="protection")


def test_a_tampered_bundle_is_refused_and_nothing_is_stored(
    a: Side, b: Side, partners: tuple[Partner, Partner]
) -> None:
    case = make_case(a, consent={"share_missions": "NL-NBO"})
    blob = bytearray(send(a, case, partners[0]).content)
    blob[len(blob) // 2] ^= 0x01
    response = upload(b, bytes(blob))
    assert response.status_code == 400
    assert "altered or damaged" in response.content.decode()
    assert not ReceivedBundle.objects.exists()
    refusal = AuditEvent.objects.get(action="coordination.bundle_refused")
    assert refusal.reason == "tampered" and refusal.mission_id == b.mission.pk
    # Cut short, too.
    response = upload(b, send(a, case, partners[0]).content[:60])
    assert response.status_code == 400
    assert not ReceivedBundle.objects.exists()


def test_a_bundle_for_another_mission_is_refused(
    a: Side, b: Side, partners: tuple[Partner, Partner]
) -> None:
    c = _side(make_mission(name="Embassy C", slug="embassy-c"))
    register(c, a, "TL")  # C knows and trusts A too
    case = make_case(a, consent={"share_missions": "NL-NBO"})
    blob = send(a, case, partners[0]).content
    response = upload(c, blob)
    assert response.status_code == 400
    assert "addressed to another mission" in response.content.decode()
    assert not ReceivedBundle.objects.exists()
    assert AuditEvent.objects.get(action="coordination.bundle_refused").reason == "wrong_recipient"


def test_a_bundle_from_an_unverified_or_unknown_partner_is_refused(a: Side, b: Side) -> None:
    to_b = register(a, b, "NL-NBO")
    case = make_case(a, consent={"share_missions": "NL-NBO"})
    blob = send(a, case, to_b).content
    # B has not registered A at all.
    response = upload(b, blob)
    assert response.status_code == 400
    assert "not among your verified partners" in response.content.decode()
    # B registers A but has not compared the fingerprint yet.
    register(b, a, "TL", verify=False)
    response = upload(b, blob)
    assert response.status_code == 400
    assert "not verified" in response.content.decode()
    assert not ReceivedBundle.objects.exists()
    reasons = list(
        AuditEvent.objects.filter(action="coordination.bundle_refused")
        .order_by("sequence")
        .values_list("reason", flat=True)
    )
    assert reasons == ["unknown_sender", "unverified_sender"]


def test_nothing_is_sent_to_an_unverified_or_paused_partner(a: Side, b: Side) -> None:
    to_b = register(a, b, "NL-NBO", verify=False)
    case = make_case(a, consent={"share_missions": "NL-NBO"})
    response = send(a, case, to_b)
    assert response["Content-Type"].startswith("text/html")  # the form again, no file
    assert "No partner mission is verified yet" in response.content.decode()
    with pytest.raises(CoordinationError, match="not verified"):
        send_case_summary(case=case, partner=to_b, actor=a.officer, reason="protection")
    a.client("admin").post(reverse("coordination:partner_verify", kwargs={"partner_id": to_b.pk}))
    a.client("admin").post(
        reverse("coordination:partner_active", kwargs={"partner_id": to_b.pk}), {"active": "0"}
    )
    with pytest.raises(CoordinationError, match="paused"):
        send_case_summary(
            case=case, partner=Partner.objects.get(pk=to_b.pk), actor=a.officer, reason="protection"
        )
    assert not Disclosure.objects.exists()


def test_a_key_card_altered_on_the_way_is_refused(a: Side, b: Side) -> None:
    card = _card(b)
    altered = card.replace("Mission: Embassy elsewhere", "Mission: Embassy elsewhere").splitlines()
    # Change one character of the signing key.
    altered = [
        line[:-3] + ("A" if line[-3] != "A" else "B") + line[-2:]
        if line.startswith("Signing key")
        else line
        for line in altered
    ]
    response = a.client("admin").post(
        reverse("coordination:partner_new"), {"card": "\n".join(altered), "code": "NL"}
    )
    assert response.status_code == 200
    assert "does not match its keys" in response.content.decode()
    assert not Partner.objects.exists()


def test_officers_cannot_manage_partners(a: Side, b: Side) -> None:
    response = a.client("officer").post(
        reverse("coordination:partner_new"), {"card": _card(b), "code": "NL"}
    )
    assert response.status_code == 403
    assert not Partner.objects.exists()


def test_a_rota_travels_the_same_way(a: Side, b: Side, partners: tuple[Partner, Partner]) -> None:
    shared = make_case(a, consent={"share_missions": "NL-NBO"})
    private = make_case(a, consent={"deidentified_reporting": ""})
    hearing = shared.hearings.get()
    other = private.hearings.get()
    url = reverse("coordination:send_rota", kwargs={"partner_id": partners[0].pk})
    page = a.client().get(url)
    form = page.context["form"]
    assert f"hearing_{hearing.pk}" in form.fields
    assert f"hearing_{other.pk}" not in form.fields  # its consent does not name B

    response = a.client().post(
        url, {"reason": "trial_observation", f"hearing_{hearing.pk}": "recipient"}
    )
    assert response["Content-Disposition"].endswith('.haven-bundle"')
    disclosure = Disclosure.objects.get(kind="rota")
    assert disclosure.hearing_count == 1
    assert AuditEvent.objects.filter(
        action="coordination.disclosed", object_id=str(shared.pk)
    ).exists()

    preview = upload(b, response.content)
    assert COURT in preview.content.decode()
    confirm(b, preview)
    received = ReceivedBundle.objects.get(kind="rota")
    page = b.client().get(received.get_absolute_url()).content.decode()
    assert COURT in page and NAME in page
    assert b.mission.name in page  # "They observe", seen from B: B observes

    # Forcing the private hearing in is refused.
    refused = a.client().post(url, {"reason": "trial_observation", f"hearing_{other.pk}": "sender"})
    assert refused["Content-Type"].startswith("text/html")
    assert Disclosure.objects.filter(kind="rota").count() == 1


def test_received_contents_are_shown_as_text_never_as_html(
    a: Side, b: Side, partners: tuple[Partner, Partner]
) -> None:
    case = make_case(a, consent={"share_missions": "NL-NBO"})
    case.title = '<script>alert("x")</script><b>bold</b>'
    case.save(update_fields=["title"])
    confirm(b, upload(b, send(a, case, partners[0]).content))
    page = b.client().get(ReceivedBundle.objects.get().get_absolute_url()).content.decode()
    assert "<script>alert" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;" in page


def test_the_case_page_offers_to_send_a_summary(a: Side, partners: tuple[Partner, Partner]) -> None:
    case = make_case(a, consent={"share_missions": "NL-NBO"})
    page = a.client().get(case.get_absolute_url()).content.decode()
    assert reverse("coordination:send_summary", kwargs={"case_id": case.pk}) in page


def test_a_restricted_case_is_shared_only_by_its_team(
    a: Side, b: Side, partners: tuple[Partner, Partner]
) -> None:
    case = make_case(a, consent={"share_missions": "NL-NBO"})
    cases.update_case(case=case, actor=a.officer, changes={"restricted": True})
    outsider = make_user(a.mission, "officer")
    client = signed_in_client(outsider, reauthenticated=True)
    url = reverse("coordination:send_summary", kwargs={"case_id": case.pk})
    assert client.get(url).status_code == 404
    assert client.post(url, {"partner": partners[0].pk, "reason": "protection"}).status_code == 404
    # Nor do its hearings reach that officer's rota.
    rota = client.get(reverse("coordination:send_rota", kwargs={"partner_id": partners[0].pk}))
    assert not [name for name in rota.context["form"].fields if name.startswith("hearing_")]
    assert not Disclosure.objects.exists()
    assert send(a, case, partners[0]).status_code == 200  # the case's own officer can
