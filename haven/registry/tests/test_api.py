"""The registry's API: the same rules and scopes as the workspace, over HTTP with tokens."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from haven.accounts.models import Membership
from haven.accounts.services import create_api_token
from haven.audit.models import AuditEvent
from haven.registry import consent, services
from haven.registry.models import Defender
from tests.factories import all_queries, make_defender, make_organisation, make_user


def _client(user: Any, mission: Any, scope: str = "write") -> Client:
    created = create_api_token(user=user, mission=mission, name="test", scope=scope, days=30)
    return Client(headers={"Authorization": f"Bearer {created.secret}"})


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


AMINA = {
    "name": "Amina Otieno",
    "region": "Rift Valley",
    "work_focus": ["land"],
    "channels": [
        {"channel_type": "signal", "value": "+254 712 345 678", "preferred": True},
        {"channel_type": "email", "value": "amina@example.org"},
    ],
}


def test_create_then_find_by_phone(mission: Any, officer: Any) -> None:
    api = _client(officer, mission)
    response = _post(api, "/api/v1/defenders", AMINA)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["name"] == "Amina Otieno" and len(created["channels"]) == 2
    assert created["identity_tags"] is None  # an officer without the permission
    found = api.get("/api/v1/defenders", {"q": "0712345678"}).json()
    assert found["count"] == 1 and found["results"][0]["id"] == created["id"]
    assert api.get("/api/v1/defenders", {"q": "Amina"}).json()["count"] == 0  # exact only
    detail = api.get(f"/api/v1/defenders/{created['id']}")
    assert detail.status_code == 200 and detail.json()["channels"][0]["preferred"] is True
    assert AuditEvent.objects.filter(action="record.read", object_id=str(created["id"])).exists()


def test_a_possible_duplicate_is_refused_with_its_reasons(mission: Any, officer: Any) -> None:
    existing = make_defender(mission, name="Amina Otieno", channels=[("phone", "0712345678")])
    api = _client(officer, mission)
    response = _post(api, "/api/v1/defenders", AMINA)
    assert response.status_code == 409
    assert response.json()["duplicates"] == [{"id": existing.pk, "reasons": ["name", "phone"]}]
    response = _post(api, "/api/v1/defenders", {**AMINA, "allow_duplicate": True})
    assert response.status_code == 201 and Defender.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"work_focus": ["astrology"]}, "work_focus", "“astrology” is not a known code"),
        ({"visibility": "loud"}, "visibility", "loud"),
        (
            {"channels": [{"channel_type": "phone", "value": "call me"}]},
            "__all__",
            "is not a phone number",
        ),
    ],
)
def test_bad_input_is_a_422_that_names_the_problem(
    mission: Any, officer: Any, body: dict, field: str, message: str
) -> None:
    response = _post(_client(officer, mission), "/api/v1/defenders", {**AMINA, **body})
    assert response.status_code == 422
    assert message in " ".join(response.json()["errors"][field])
    assert not Defender.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_viewers_and_auditors_are_refused(mission: Any, role: str) -> None:
    make_defender(mission)
    api = _client(make_user(mission, role), mission)
    response = api.get("/api/v1/defenders")
    assert (
        response.status_code == 403 and "administrators and officers" in response.json()["detail"]
    )


def test_another_missions_ids_are_not_found(mission: Any, other_mission: Any, officer: Any) -> None:
    stranger = make_defender(other_mission, name="Stranger")
    organisation = make_organisation(other_mission)
    api = _client(officer, mission)
    assert api.get(f"/api/v1/defenders/{stranger.pk}").status_code == 404
    assert api.get(f"/api/v1/organisations/{organisation.pk}").status_code == 404
    response = api.patch(
        f"/api/v1/defenders/{stranger.pk}", {"name": "X"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert Defender.objects.get(pk=stranger.pk).name == "Stranger"
    assert api.get("/api/v1/defenders").json()["count"] == 0
    their_consent = services.record_consent(
        entry=stranger,
        actor=None,
        scope="keep_contact",
        channel="signal",
        given_on=timezone.localdate(),
    )
    their_affiliation = services.add_affiliation(
        defender=stranger, organisation=organisation, actor=None
    )
    withdraw = f"/api/v1/consents/{their_consent.pk}/withdraw"
    assert _post(api, withdraw, {"reason": "person_asked"}).status_code == 404
    end = f"/api/v1/affiliations/{their_affiliation.pk}/end"
    assert _post(api, end, {"ended_on": timezone.localdate().isoformat()}).status_code == 404
    mine = make_defender(mission)
    link = {"defender_id": mine.pk, "organisation_id": organisation.pk}
    assert _post(api, "/api/v1/affiliations", link).status_code == 404
    assert consent.allows(stranger, "keep_contact")


def test_a_read_only_token_cannot_write(mission: Any, officer: Any) -> None:
    api = _client(officer, mission, scope="read")
    assert _post(api, "/api/v1/defenders", AMINA).status_code == 403
    assert not Defender.objects.exists()


def test_identity_tags_follow_the_members_permission(
    mission: Any, admin: Any, officer: Any
) -> None:
    body = {**AMINA, "identity_tags": ["indigenous"]}
    response = _post(_client(officer, mission), "/api/v1/defenders", body)
    assert response.status_code == 403
    response = _post(_client(admin, mission), "/api/v1/defenders", body)
    assert response.status_code == 201 and response.json()["identity_tags"] == ["indigenous"]
    url = f"/api/v1/defenders/{response.json()['id']}"
    assert _client(officer, mission).get(url).json()["identity_tags"] is None
    Membership.objects.filter(user=officer).update(sees_identity_tags=True)
    assert _client(officer, mission).get(url).json()["identity_tags"] == ["indigenous"]


def test_patch_changes_only_what_is_sent(mission: Any, officer: Any) -> None:
    defender = make_defender(mission, name="Amina Otieno", region="Coast", notes="keep me")
    api = _client(officer, mission)
    response = api.patch(
        f"/api/v1/defenders/{defender.pk}",
        {"region": "Nairobi", "known_as": ["Mama Amina"]},
        content_type="application/json",
    )
    assert response.status_code == 200
    defender = Defender.objects.get(pk=defender.pk)
    assert defender.region == "Nairobi" and defender.known_as == "Mama Amina"
    assert defender.notes == "keep me"


def test_consent_recorded_and_withdrawn_through_the_api(mission: Any, officer: Any) -> None:
    defender = make_defender(mission)
    api = _client(officer, mission)
    today = timezone.localdate().isoformat()
    url = f"/api/v1/defenders/{defender.pk}/consents"
    response = _post(
        api, url, {"scope": "public_statement", "channel": "signal", "given_on": today}
    )
    assert response.status_code == 201 and response.json()["in_force"] is True
    assert consent.allows(defender, "public_statement")
    consent_id = response.json()["id"]
    response = _post(api, f"/api/v1/consents/{consent_id}/withdraw", {"reason": "person_asked"})
    assert response.status_code == 200 and response.json()["in_force"] is False
    assert not consent.allows(defender, "public_statement")
    response = _post(api, f"/api/v1/consents/{consent_id}/withdraw", {"reason": "person_asked"})
    assert response.status_code == 409 and "already withdrawn" in response.json()["detail"]
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = _post(api, url, {"scope": "raise_named", "channel": "signal", "given_on": tomorrow})
    assert response.status_code == 422 and "future" in response.json()["errors"]["given_on"][0]
    assert len(api.get(url).json()) == 1


def test_organisations_and_affiliations(mission: Any, officer: Any) -> None:
    api = _client(officer, mission)
    response = _post(
        api, "/api/v1/organisations", {"name": "Land Network", "kind": "network", "region": "Coast"}
    )
    assert response.status_code == 201
    organisation_id = response.json()["id"]
    defender = make_defender(mission)
    response = _post(
        api,
        "/api/v1/affiliations",
        {"defender_id": defender.pk, "organisation_id": organisation_id, "role": "Chair"},
    )
    assert response.status_code == 201
    affiliation_id = response.json()["id"]
    today = timezone.localdate().isoformat()
    response = _post(api, f"/api/v1/affiliations/{affiliation_id}/end", {"ended_on": today})
    assert response.json()["ended_on"] == today
    listed = api.get(f"/api/v1/defenders/{defender.pk}/affiliations").json()
    assert [(a["organisation_id"], a["role"]) for a in listed] == [(organisation_id, "Chair")]
    assert api.get("/api/v1/organisations", {"region": "Coast"}).json()["count"] == 1


def test_list_query_count_does_not_grow_with_the_page(mission: Any, officer: Any) -> None:
    api = _client(officer, mission)
    for n in range(5):
        make_defender(mission, name=f"Person {n}")
    api.get("/api/v1/defenders")  # the token's first use is written down once
    with all_queries() as few:
        assert api.get("/api/v1/defenders").status_code == 200
    for n in range(45):
        make_defender(mission, name=f"Other {n}")
    with all_queries() as many:
        assert len(api.get("/api/v1/defenders").json()["results"]) == 50
    assert few.count == many.count
