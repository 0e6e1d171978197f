"""Contact channels, relations and merges through the API: the registry's services, reads of
channels and relations logged, another mission's records not found, viewers refused."""

from __future__ import annotations

from typing import Any

from django.test import Client

from haven.audit.models import AuditEvent
from haven.registry.models import ContactChannel, Defender, Relation
from tests.factories import api_client, make_defender, make_organisation, make_user


def _post(api: Client, url: str, body: dict[str, Any]) -> Any:
    return api.post(url, body, content_type="application/json")


def _reads(entry: Any) -> list[list[str]]:
    rows = AuditEvent.objects.filter(action="record.read", object_id=str(entry.pk))
    return [list(row.fields) for row in rows.order_by("sequence")]


def test_channels_are_added_changed_read_and_removed(mission: Any, officer: Any) -> None:
    defender = make_defender(mission)
    api = api_client(officer, mission)
    first = _post(
        api,
        f"/api/v1/defenders/{defender.pk}/channels",
        {"channel_type": "phone", "value": "+254 712 345 678", "safety_notes": "After 6 pm"},
    )
    assert first.status_code == 201, first.content
    assert first.json()["preferred"] is True
    second = _post(
        api,
        f"/api/v1/defenders/{defender.pk}/channels",
        {"channel_type": "email", "value": "amina@example.org", "preferred": True},
    )
    assert second.status_code == 201
    assert not ContactChannel.objects.get(pk=first.json()["id"]).preferred
    changed = api.put(
        f"/api/v1/channels/{first.json()['id']}",
        {"channel_type": "phone", "value": "+254 700 000 001", "safety_notes": ""},
        content_type="application/json",
    )
    assert changed.status_code == 200 and changed.json()["value"] == "+254 700 000 001"
    assert _reads(defender) == []
    listed = api.get(f"/api/v1/defenders/{defender.pk}/channels")
    assert sorted(c["value"] for c in listed.json()) == ["+254 700 000 001", "amina@example.org"]
    assert _reads(defender) == [["channels"]]
    assert api.delete(f"/api/v1/channels/{second.json()['id']}").status_code == 204
    assert ContactChannel.objects.get(defender=defender).preferred
    too_long = _post(
        api,
        f"/api/v1/defenders/{defender.pk}/channels",
        {"channel_type": "other", "value": "x" * 501},
    )
    assert too_long.status_code == 422
    organisation = make_organisation(mission)
    made = _post(
        api,
        f"/api/v1/organisations/{organisation.pk}/channels",
        {"channel_type": "email", "value": "office@example.org"},
    )
    assert made.status_code == 201
    assert api.get(f"/api/v1/organisations/{organisation.pk}/channels").json()[0]["value"] == (
        "office@example.org"
    )


def test_relations_link_a_registered_or_described_person(mission: Any, officer: Any) -> None:
    defender, brother = make_defender(mission), make_defender(mission)
    api = api_client(officer, mission)
    described = _post(
        api,
        f"/api/v1/defenders/{defender.pk}/relations",
        {"kind": "family", "name": "Her mother", "details": "Lives in Kisumu"},
    )
    assert described.status_code == 201, described.content
    linked = _post(
        api,
        f"/api/v1/defenders/{defender.pk}/relations",
        {"kind": "family", "linked_defender_id": brother.pk},
    )
    assert linked.status_code == 201 and linked.json()["linked_defender_id"] == brother.pk
    itself = _post(
        api,
        f"/api/v1/defenders/{defender.pk}/relations",
        {"kind": "family", "linked_defender_id": defender.pk},
    )
    assert itself.status_code == 409
    listed = api.get(f"/api/v1/defenders/{defender.pk}/relations")
    assert {r["name"] for r in listed.json()} >= {"Her mother"}
    assert _reads(defender) == [["relations"]]
    assert api.delete(f"/api/v1/relations/{described.json()['id']}").status_code == 204
    assert list(Relation.objects.filter(defender=defender).values_list("linked_id", flat=True)) == [
        brother.pk
    ]


def test_merge_folds_the_duplicate_into_the_survivor(mission: Any, officer: Any) -> None:
    survivor = make_defender(mission, name="Amina Njeri", channels=[("phone", "+254712345678")])
    duplicate = make_defender(mission, name="Amina Njeri", channels=[("email", "a@example.org")])
    api = api_client(officer, mission)
    found = api.get(f"/api/v1/defenders/{survivor.pk}/duplicates")
    assert found.status_code == 200
    assert [(d["id"], d["reasons"]) for d in found.json()] == [(duplicate.pk, ["name"])]
    merged = _post(api, f"/api/v1/defenders/{survivor.pk}/merge", {"duplicate_id": duplicate.pk})
    assert merged.status_code == 200, merged.content
    assert sorted(c["value"] for c in merged.json()["channels"]) == [
        "+254712345678",
        "a@example.org",
    ]
    assert not Defender.objects.filter(pk=duplicate.pk).exists()
    same = _post(api, f"/api/v1/defenders/{survivor.pk}/merge", {"duplicate_id": survivor.pk})
    assert same.status_code == 409


def test_another_missions_records_are_not_found(
    mission: Any, other_mission: Any, officer: Any
) -> None:
    ours = make_defender(mission)
    theirs = make_defender(other_mission, channels=[("phone", "+254799999999")])
    their_channel = theirs.channels.get()
    api = api_client(officer, mission)
    for response in (
        api.get(f"/api/v1/defenders/{theirs.pk}/channels"),
        api.put(
            f"/api/v1/channels/{their_channel.pk}",
            {"channel_type": "phone", "value": "+254700000000"},
            content_type="application/json",
        ),
        api.delete(f"/api/v1/channels/{their_channel.pk}"),
        _post(api, f"/api/v1/defenders/{ours.pk}/merge", {"duplicate_id": theirs.pk}),
        _post(
            api,
            f"/api/v1/defenders/{ours.pk}/relations",
            {"kind": "family", "linked_defender_id": theirs.pk},
        ),
    ):
        assert response.status_code == 404, response.content
    assert Defender.objects.filter(pk=theirs.pk).exists()
    assert ContactChannel.objects.get(pk=their_channel.pk).value == "+254799999999"
    assert not Relation.objects.exists()


def test_viewers_are_refused(mission: Any) -> None:
    defender = make_defender(mission, channels=[("phone", "+254712345678")])
    other = make_defender(mission)
    api = api_client(make_user(mission, "viewer"), mission)
    assert api.get(f"/api/v1/defenders/{defender.pk}/channels").status_code == 403
    assert api.delete(f"/api/v1/channels/{defender.channels.get().pk}").status_code == 403
    merge = _post(api, f"/api/v1/defenders/{defender.pk}/merge", {"duplicate_id": other.pk})
    assert merge.status_code == 403
    assert Defender.objects.filter(pk=other.pk).exists() and defender.channels.exists()
