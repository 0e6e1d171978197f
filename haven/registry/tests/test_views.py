"""The registry in the workspace, over HTTP, as an officer uses it."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from haven.accounts.models import Membership
from haven.audit.models import AuditEvent
from haven.registry import services
from haven.registry.models import ConsentRecord, Defender
from tests.factories import (
    all_queries,
    make_defender,
    make_organisation,
    make_user,
    signed_in_client,
)


def _new_defender_form(name: str, *channels: tuple[str, str], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "visibility": "discreet",
        "channels-TOTAL_FORMS": "3",
        "channels-INITIAL_FORMS": "0",
        **extra,
    }
    for number, (kind, value) in enumerate(channels):
        data[f"channels-{number}-channel_type"] = kind
        data[f"channels-{number}-value"] = value
    return data


def test_officer_adds_a_defender_with_two_channels(mission: Any, officer: Any) -> None:
    client = signed_in_client(officer)
    response = client.post(
        reverse("registry:defender_new"),
        _new_defender_form(
            "Amina Otieno",
            ("signal", "+254 712 345 678"),
            ("email", "amina@example.org"),
            region="Rift Valley",
            work_focus=["land", "environment"],
        ),
    )
    defender = Defender.objects.get()
    assert response.status_code == 302 and response.url == defender.get_absolute_url()
    page = client.get(response.url).content.decode()
    assert "Amina Otieno" in page and "+254 712 345 678" in page and "amina@example.org" in page
    assert "Rift Valley" in page and "Land and territory" in page
    assert AuditEvent.objects.filter(action="record.read", object_id=str(defender.pk)).exists()


def test_a_second_entry_with_the_same_phone_warns_before_saving(mission: Any, officer: Any) -> None:
    first = make_defender(mission, name="Amina Otieno", channels=[("phone", "+254712345678")])
    client = signed_in_client(officer)
    form = _new_defender_form("A. Otieno", ("whatsapp", "0712 345 678"))
    response = client.post(reverse("registry:defender_new"), form)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Possible duplicate of" in page and "(same phone)" in page
    assert first.get_absolute_url() in page
    assert 'value="A. Otieno"' in page  # what was typed is kept
    assert Defender.objects.count() == 1
    response = client.post(
        reverse("registry:defender_new"), {**form, "confirm_not_duplicate": "yes"}
    )
    assert response.status_code == 302 and Defender.objects.count() == 2


def test_bad_phone_is_shown_on_its_field_and_nothing_is_saved(mission: Any, officer: Any) -> None:
    client = signed_in_client(officer)
    response = client.post(
        reverse("registry:defender_new"), _new_defender_form("Someone", ("phone", "call me"))
    )
    assert response.status_code == 200
    assert "is not a phone number" in response.content.decode()
    assert not Defender.objects.exists()


def _list(client: Any, **params: Any) -> tuple[Any, int]:
    with all_queries() as queries:
        response = client.get(reverse("registry:defenders"), params)
    assert response.status_code == 200
    return response, queries.count


def test_list_page_query_count_does_not_grow_with_the_page(mission: Any, officer: Any) -> None:
    client = signed_in_client(officer)
    for n in range(5):
        make_defender(mission, name=f"Person {n}", region="Coast")
    client.get(reverse("registry:defenders"))  # a session's first request also saves it
    _response, small = _list(client)
    for n in range(60):
        make_defender(mission, name=f"Other {n}", region="Coast")
    response, full = _list(client)
    assert small == full, (small, full)
    assert full <= 15, full
    page = response.content.decode()
    assert page.count('<tr><td><a href="/desk/registry/defenders/') == 50  # 50 rows a page
    assert "Page 1 of 2" in page
    second = client.get(reverse("registry:defenders"), {"page": 2}).content.decode()
    assert second.count('<tr><td><a href="/desk/registry/defenders/') == 15


def test_search_is_exact_by_name_phone_or_email(mission: Any, officer: Any) -> None:
    make_defender(
        mission,
        name="Amina Otieno",
        channels=[("phone", "+254 712 345 678"), ("email", "amina@example.org")],
    )
    make_defender(mission, name="Joseph Kamau")
    client = signed_in_client(officer)
    for query in ("0712345678", "AMINA@example.org", "amina  otieno"):
        page = _list(client, q=query)[0].content.decode()
        assert "Amina Otieno" in page and "Joseph Kamau" not in page, query
    page = _list(client, q="Amina")[0].content.decode()
    assert "No defender matches" in page


def test_filters_narrow_the_list(mission: Any, officer: Any) -> None:
    organisation = make_organisation(mission, name="Land Network")
    land = make_defender(mission, name="Land Person", work_focus=["land"], region="Coast")
    make_defender(mission, name="Media Person", work_focus=["media"], region="Nairobi")
    Defender.objects.filter(pk=land.pk).update(risk_level="high")
    services.add_affiliation(defender=land, organisation=organisation, actor=officer)
    client = signed_in_client(officer)
    for params in (
        {"work_focus": "land"},
        {"region": "Coast"},
        {"risk_level": "high"},
        {"organisation": organisation.pk},
    ):
        page = _list(client, **params)[0].content.decode()
        assert "Land Person" in page and "Media Person" not in page, params
    page = _list(client, visibility="anonymous")[0].content.decode()
    assert "Land Person" not in page and "Media Person" not in page


def test_identity_tags_are_shown_only_to_members_allowed_to_see_them(
    mission: Any, admin: Any, officer: Any
) -> None:
    defender = make_defender(mission, identity_tags=["indigenous"])
    url = defender.get_absolute_url()
    assert "Indigenous person" in signed_in_client(admin).get(url).content.decode()
    officer_client = signed_in_client(officer)
    assert "Indigenous person" not in officer_client.get(url).content.decode()
    assert (
        "identity_tags" not in officer_client.get(reverse("registry:defender_new")).content.decode()
    )
    Membership.objects.filter(user=officer).update(sees_identity_tags=True)
    assert "Indigenous person" in officer_client.get(url).content.decode()


def test_an_admin_grants_an_officer_the_right_to_see_identity_tags(
    mission: Any, admin: Any, officer: Any
) -> None:
    membership = Membership.objects.get(user=officer)
    client = signed_in_client(admin, reauthenticated=True)
    url = reverse("accounts:member", kwargs={"membership_id": membership.pk})
    response = client.post(url, {"role": "officer", "sees_identity_tags": "on"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.sees_identity_tags
    event = AuditEvent.objects.filter(action="member.role_changed").get()
    assert event.fields == ["sees_identity_tags"]


def test_export_needs_reauthentication_and_is_audited(mission: Any, officer: Any) -> None:
    defender = make_defender(mission, name="Amina Otieno", channels=[("phone", "0712345678")])
    url = reverse("registry:defender_export", kwargs={"defender_id": defender.pk})
    response = signed_in_client(officer).get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:reauth"))
    assert not AuditEvent.objects.filter(action="registry.defender_exported").exists()
    response = signed_in_client(officer, reauthenticated=True).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="defender-{defender.pk}.json"'
    data = json.loads(response.content)
    assert data["name"] == "Amina Otieno" and data["channels"][0]["value"] == "0712345678"
    assert AuditEvent.objects.filter(action="registry.defender_exported").count() == 1


def test_merge_through_the_workspace(mission: Any, officer: Any) -> None:
    survivor = make_defender(mission, name="Amina Otieno", channels=[("phone", "0712345678")])
    duplicate = make_defender(mission, name="Amina O.", channels=[("phone", "+254712345678")])
    client = signed_in_client(officer, reauthenticated=True)
    detail = client.get(survivor.get_absolute_url()).content.decode()
    assert "Possible duplicate of" in detail and "Amina O." in detail
    url = reverse("registry:defender_merge", kwargs={"defender_id": survivor.pk})
    chooser = client.get(url, {"find": "+254 712 345 678"}).content.decode()
    assert "Several defenders match" in chooser  # the number is both of theirs
    confirm = client.get(url, {"duplicate": duplicate.pk})
    assert "Merge Amina O. into Amina Otieno?" in confirm.content.decode()
    response = client.post(f"{url}?duplicate={duplicate.pk}")
    assert response.status_code == 302
    assert list(Defender.objects.all()) == [survivor]
    assert Defender.objects.get().channels.count() == 2


def test_merge_of_a_record_of_another_mission_is_not_found(
    mission: Any, other_mission: Any, officer: Any
) -> None:
    survivor = make_defender(mission)
    stranger = make_defender(other_mission)
    client = signed_in_client(officer, reauthenticated=True)
    url = reverse("registry:defender_merge", kwargs={"defender_id": survivor.pk})
    assert client.post(f"{url}?duplicate={stranger.pk}").status_code == 404
    assert Defender.objects.count() == 2


def test_consent_is_recorded_and_withdrawn_in_the_workspace(mission: Any, officer: Any) -> None:
    defender = make_defender(mission, name="Amina Otieno")
    client = signed_in_client(officer)
    today = timezone.localdate()
    url = reverse("registry:defender_consent_new", kwargs={"defender_id": defender.pk})
    response = client.post(
        url,
        {
            "scope": "share_missions",
            "given_by": "person",
            "channel": "signal",
            "given_on": today.isoformat(),
        },
    )
    assert "Name the recipients this consent covers." in response.content.decode()
    client.post(
        url,
        {
            "scope": "public_statement",
            "given_by": "person",
            "channel": "signal",
            "given_on": today.isoformat(),
            "expires_on": (today + datetime.timedelta(days=10)).isoformat(),
        },
    )
    record = ConsentRecord.objects.get()
    desk = client.get(reverse("core:desk")).content.decode()
    assert "Consent expiring soon" in desk and "Amina Otieno" in desk
    withdraw = reverse("registry:consent_withdraw", kwargs={"consent_id": record.pk})
    response = client.post(withdraw, {"reason": "person_asked", "note": ""})
    assert response.status_code == 302
    page = client.get(defender.get_absolute_url()).content.decode()
    assert "Withdrawn on" in page
    assert "Amina Otieno" not in client.get(reverse("core:desk")).content.decode()


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_viewers_and_auditors_see_no_registry(mission: Any, role: str) -> None:
    defender = make_defender(mission)
    client = signed_in_client(make_user(mission, role))
    assert client.get(reverse("registry:defenders")).status_code == 403
    assert client.get(defender.get_absolute_url()).status_code == 403


def test_an_unknown_filter_value_does_not_cancel_the_search(mission: Any, officer: Any) -> None:
    make_defender(mission, name="Amina Otieno", region="Coast")
    make_defender(mission, name="Joseph Kamau", region="Coast")
    page = _list(signed_in_client(officer), q="Amina Otieno", region="Atlantis")[0]
    text = page.content.decode()
    assert "Amina Otieno" in text and "Joseph Kamau" not in text
