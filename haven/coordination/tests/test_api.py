"""Partners and bundles through the API, metadata only: administrators add and pause
partners; administrators and officers list partners and bundles; no bundle's contents or
defender's name comes out; other roles and missions are refused or not found."""

from __future__ import annotations

from typing import Any

from django.test import Client

from haven.coordination import services
from haven.coordination.models import Disclosure, Partner
from tests.factories import api_client, make_mission, make_received_bundle, make_user


def _put(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.put(url, body, content_type="application/json")


def test_admin_adds_and_pauses_a_partner(mission: Any, admin: Any) -> None:
    partner_mission = make_mission(name="Embassy of Partnerland")
    card = services.our_key_card(mission=partner_mission, actor=None)
    api = api_client(admin, mission)
    added = api.post(
        "/api/v1/partners",
        {"card": card, "code": "PL-1", "country": "pl"},
        content_type="application/json",
    )
    assert added.status_code == 201, added.content
    body = added.json()
    assert (body["name"], body["code"], body["country"]) == ("Embassy of Partnerland", "PL-1", "PL")
    assert body["verified_at"] is None
    again = api.post(
        "/api/v1/partners", {"card": card, "code": "PL-2"}, content_type="application/json"
    )
    assert again.status_code == 422
    paused = _put(api, f"/api/v1/partners/{body['id']}/active", {"active": False})
    assert paused.status_code == 200 and paused.json()["active"] is False
    assert Partner.objects.get(pk=body["id"]).active is False
    assert [p["id"] for p in api.get("/api/v1/partners").json()] == [body["id"]]


def test_bundles_show_their_metadata_and_never_their_contents(
    mission: Any, admin: Any, officer: Any
) -> None:
    sender = make_mission(name="Embassy of Senderland")
    received = make_received_bundle(
        mission, sender, actor=admin, name="Amina Njeri", title="Raid on the office"
    )
    api = api_client(officer, mission)
    listed = api.get("/api/v1/received-bundles")
    assert listed.status_code == 200
    assert [(r["id"], r["kind"]) for r in listed.json()] == [(received.pk, received.kind)]
    one = api.get(f"/api/v1/received-bundles/{received.pk}")
    assert one.status_code == 200 and one.json()["bundle_uuid"] == str(received.bundle_uuid)
    sent = Disclosure.objects.get(mission=sender)
    assert sent.created_by is not None
    listed_sent = api_client(sent.created_by, sender).get("/api/v1/disclosures")
    assert [(d["id"], d["case_id"], d["fields"]) for d in listed_sent.json()] == [
        (sent.pk, sent.case_id, list(sent.fields))
    ]
    assert "case.title" in sent.fields
    for response in (listed, one, listed_sent):
        text = response.content.decode()
        assert "Amina" not in text and "Raid" not in text


def test_other_roles_and_missions_are_refused(
    mission: Any, other_mission: Any, admin: Any, officer: Any
) -> None:
    received = make_received_bundle(mission, make_mission(), actor=admin)
    partner = Partner.objects.get(mission=mission)
    officer_api = api_client(officer, mission)
    assert officer_api.get(f"/api/v1/partners/{partner.pk}").status_code == 403
    assert (
        _put(officer_api, f"/api/v1/partners/{partner.pk}/active", {"active": False}).status_code
        == 403
    )
    for role in ("viewer", "auditor"):
        api = api_client(make_user(mission, role), mission)
        assert api.get("/api/v1/partners").status_code == 403
        assert api.get("/api/v1/received-bundles").status_code == 403
    stranger = api_client(make_user(other_mission, "admin"), other_mission)
    assert stranger.get(f"/api/v1/partners/{partner.pk}").status_code == 404
    assert (
        _put(stranger, f"/api/v1/partners/{partner.pk}/active", {"active": False}).status_code
        == 404
    )
    assert stranger.get(f"/api/v1/received-bundles/{received.pk}").status_code == 404
    assert stranger.get("/api/v1/partners").json() == []
    assert Partner.objects.get(pk=partner.pk).active is True
