"""The registry's rules, through its services: what an officer would notice."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from haven.accounts.models import Membership
from haven.audit.models import AuditEvent
from haven.crypto.models import DataKey
from haven.registry import consent, selectors, services
from haven.registry.models import (
    Affiliation,
    ConsentRecord,
    ContactChannel,
    Defender,
    Relation,
)
from haven.registry.services import ChannelInput, PossibleDuplicates
from haven.registry.signals import consent_withdrawn, defenders_merged
from tests.factories import make_defender, make_organisation, make_user

TODAY = datetime.date(2026, 3, 10)


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


# -- creating, validating


def test_defender_is_created_with_channels_and_the_first_channel_preferred(
    mission: Any, officer: Any
) -> None:
    defender = services.create_defender(
        mission=mission,
        actor=officer,
        name="Amina Otieno",
        work_focus=["land", "environment"],
        channels=[
            ChannelInput("signal", "+254 712 345 678", "evenings only"),
            ChannelInput("email", "amina@example.org"),
        ],
    )
    defender = Defender.objects.get(pk=defender.pk)
    assert defender.name == "Amina Otieno"
    assert defender.country == "KE"  # the mission's country by default
    assert defender.work_focus == ["land", "environment"]
    channels = list(defender.channels.all())
    assert [(c.channel_type, c.value, c.preferred) for c in channels] == [
        ("signal", "+254 712 345 678", True),
        ("email", "amina@example.org", False),
    ]
    assert channels[0].safety_notes == "evenings only"
    (event,) = _events("registry.defender_created")
    assert event.object_id == str(defender.pk)
    assert "name" in event.fields and "channels" in event.fields
    assert "Amina" not in str(event.fields) + event.reason


@pytest.mark.parametrize(
    ("channel", "message"),
    [
        (ChannelInput("phone", "call me"), "is not a phone number"),
        (ChannelInput("phone", "12"), "is not a phone number"),
        (ChannelInput("whatsapp", "+1 (555) 010-9999-99999999"), "is not a phone number"),
        (ChannelInput("email", "amina@"), "is not an e-mail address"),
        (ChannelInput("signal", "amina"), "neither a phone number nor a Signal username"),
        (ChannelInput("pigeon", "roof"), "“pigeon” is not a known code"),
        (ChannelInput("intermediary", "   "), "Give the number, address or details"),
    ],
)
def test_bad_channels_are_refused_with_a_message_and_nothing_is_written(
    mission: Any, officer: Any, channel: ChannelInput, message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        services.create_defender(mission=mission, actor=officer, name="Someone", channels=[channel])
    assert message in " ".join(raised.value.messages)
    assert not Defender.objects.exists() and not ContactChannel.objects.exists()
    assert not DataKey.objects.exists()


def test_signal_username_and_free_text_channels_are_accepted(mission: Any, officer: Any) -> None:
    defender = services.create_defender(
        mission=mission,
        actor=officer,
        name="Someone",
        channels=[
            ChannelInput("signal", "maria.42"),
            ChannelInput("intermediary", "Her brother at the market"),
            ChannelInput("in_person", "Church, Sunday mornings", preferred=True),
        ],
    )
    preferred = defender.channels.get(preferred=True)
    assert preferred.channel_type == "in_person"
    # Free-text channels cannot be searched: they have no lookup.
    assert defender.channels.filter(lookup="").count() == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"work_focus": ["land", "astrology"]}, "“astrology” is not a known code"),
        ({"actor_type": "spy"}, "spy"),
        ({"identity_tags": ["left_handed"]}, "“left_handed” is not a known code"),
        ({"visibility": "loud"}, "loud"),
        ({"country": "Kenya"}, "two-letter"),
        ({"name": ""}, "This field cannot be blank."),
        ({"name": "x" * 201}, "too long"),
    ],
)
def test_bad_fields_are_refused(mission: Any, officer: Any, fields: dict, message: str) -> None:
    values = {"name": "Someone", **fields}
    with pytest.raises(ValidationError) as raised:
        services.create_defender(mission=mission, actor=officer, **values)
    assert message in " ".join(raised.value.messages)
    assert not Defender.objects.exists()


def test_two_preferred_channels_are_refused(mission: Any, officer: Any) -> None:
    with pytest.raises(ValidationError, match="only one channel"):
        services.create_defender(
            mission=mission,
            actor=officer,
            name="Someone",
            channels=[
                ChannelInput("phone", "0712 000 111", preferred=True),
                ChannelInput("email", "a@example.org", preferred=True),
            ],
        )


# -- duplicates


def test_same_phone_in_another_format_is_a_possible_duplicate(mission: Any, officer: Any) -> None:
    first = make_defender(mission, name="Amina Otieno", channels=[("phone", "+254 712 345 678")])
    with pytest.raises(PossibleDuplicates) as raised:
        services.create_defender(
            mission=mission,
            actor=officer,
            name="A. Otieno",
            channels=[ChannelInput("whatsapp", "0712-345-678")],
        )
    (match,) = raised.value.matches
    assert match.entry.pk == first.pk and match.reasons == ["phone"]
    assert str(raised.value) == "Possible duplicate of Amina Otieno (same phone)."
    assert Defender.objects.count() == 1


def test_same_name_and_email_are_reported_together(mission: Any, officer: Any) -> None:
    make_defender(mission, name="Amina Otieno", channels=[("email", "Amina@Example.org")])
    matches = services.find_duplicates(
        mission=mission,
        name="  amina   OTIENO ",
        channels=[ChannelInput("email", "amina@example.org ")],
    )
    assert [m.reasons for m in matches] == [["name", "email"]]


def test_duplicates_are_looked_for_only_in_the_same_mission(
    mission: Any, other_mission: Any, officer: Any
) -> None:
    make_defender(other_mission, name="Amina Otieno", channels=[("phone", "0712345678")])
    defender = services.create_defender(
        mission=mission,
        actor=officer,
        name="Amina Otieno",
        channels=[ChannelInput("phone", "0712345678")],
    )
    assert defender.pk


def test_an_officer_may_save_a_possible_duplicate_on_purpose(mission: Any, officer: Any) -> None:
    make_defender(mission, name="Amina Otieno")
    services.create_defender(
        mission=mission, actor=officer, name="Amina Otieno", allow_duplicates=True
    )
    assert Defender.objects.count() == 2


# -- editing and channels


def test_update_records_changed_field_names_only(mission: Any, officer: Any) -> None:
    defender = make_defender(mission, name="Amina Otieno", region="Nairobi")
    changed = services.update_entry(
        entry=defender,
        actor=officer,
        changes={"name": "Amina W. Otieno", "region": "Nairobi", "notes": "Met at a workshop"},
    )
    assert sorted(changed) == ["name", "notes"]
    (event,) = _events("registry.defender_changed")
    assert event.fields == ["name", "notes"]
    assert Defender.objects.get(pk=defender.pk).name == "Amina W. Otieno"
    # The blind index follows the name: the new name is found, the old one is not.
    rows = Defender.objects.filter(selectors.search_query("amina w. otieno", "defender"))
    assert list(rows) == [defender]


def test_making_a_channel_preferred_unmarks_the_other(mission: Any, officer: Any) -> None:
    defender = make_defender(mission, channels=[("phone", "0712345678")])
    added = services.add_channel(
        entry=defender,
        actor=officer,
        channel=ChannelInput("email", "x@example.org", preferred=True),
    )
    assert list(defender.channels.filter(preferred=True)) == [added]
    services.remove_channel(channel=added, actor=officer)
    assert defender.channels.get().preferred  # the remaining one takes over


def test_updating_a_channel_updates_its_lookup(mission: Any, officer: Any) -> None:
    defender = make_defender(mission, channels=[("phone", "0712345678")])
    channel = defender.channels.get()
    services.update_channel(
        channel=channel, actor=officer, changes=ChannelInput("phone", "0733 999 888", "", True)
    )
    assert list(Defender.objects.filter(selectors.search_query("+254733999888", "defender"))) == [
        defender
    ]
    assert not Defender.objects.filter(selectors.search_query("0712345678", "defender")).exists()


# -- affiliations and relations


def test_affiliation_dates_must_be_in_order(mission: Any, officer: Any) -> None:
    defender = make_defender(mission)
    organisation = make_organisation(mission)
    with pytest.raises(ValidationError, match="before the start"):
        services.add_affiliation(
            defender=defender,
            organisation=organisation,
            actor=officer,
            started_on=TODAY,
            ended_on=TODAY - datetime.timedelta(days=1),
        )
    affiliation = services.add_affiliation(
        defender=defender, organisation=organisation, actor=officer, role="Founder"
    )
    services.end_affiliation(affiliation=affiliation, actor=officer, ended_on=TODAY)
    assert Affiliation.objects.get().ended_on == TODAY
    assert Affiliation.objects.get().role == "Founder"


def test_affiliation_across_missions_is_refused(
    mission: Any, other_mission: Any, officer: Any
) -> None:
    with pytest.raises(services.RegistryError, match="same mission"):
        services.add_affiliation(
            defender=make_defender(mission),
            organisation=make_organisation(other_mission),
            actor=officer,
        )


def test_relations_need_a_person_and_never_link_to_self(mission: Any, officer: Any) -> None:
    defender = make_defender(mission)
    with pytest.raises(ValidationError, match="give the person's name"):
        services.add_relation(defender=defender, actor=officer, kind="family")
    with pytest.raises(services.RegistryError, match="themselves"):
        services.add_relation(defender=defender, actor=officer, kind="colleague", linked=defender)
    services.add_relation(
        defender=defender, actor=officer, kind="family", name="Joseph", details="brother"
    )
    assert Relation.objects.get().name == "Joseph"


# -- consent


def _consent(entry: Any, actor: Any, scope: str = "public_statement", **fields: Any) -> Any:
    values = {"channel": "in_person", "given_on": TODAY, **fields}
    return services.record_consent(entry=entry, actor=actor, scope=scope, **values)


@time_machine.travel(datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.UTC), tick=False)
def test_consent_is_in_force_from_its_date_until_it_expires(mission: Any, officer: Any) -> None:
    defender = make_defender(mission)
    assert not consent.allows(defender, "public_statement")
    _consent(defender, officer, expires_on=TODAY + datetime.timedelta(days=90))
    assert consent.allows(defender, "public_statement")
    assert not consent.allows(defender, "raise_named")  # one scope does not imply another
    assert not consent.allows(defender, "public_statement", on=TODAY - datetime.timedelta(days=1))
    assert consent.allows(defender, "public_statement", on=TODAY + datetime.timedelta(days=90))
    with time_machine.travel(datetime.datetime(2026, 6, 9, 12, tzinfo=datetime.UTC)):
        assert not consent.allows(defender, "public_statement")


@time_machine.travel(datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.UTC), tick=False)
def test_withdrawal_ends_consent_is_audited_with_its_reason_and_announced(
    mission: Any, officer: Any
) -> None:
    defender = make_defender(mission)
    record = _consent(defender, officer)
    heard: list[Any] = []

    def listener(**kwargs: Any) -> None:
        heard.append(kwargs["consent"].pk)

    consent_withdrawn.connect(listener)
    try:
        services.withdraw_consent(
            consent=record, actor=officer, reason="risk_changed", note="Arrest of a colleague"
        )
    finally:
        consent_withdrawn.disconnect(listener)
    assert heard == [record.pk]
    assert not consent.allows(defender, "public_statement")
    (event,) = _events("consent.withdrawn")
    assert event.reason == "risk_changed"
    assert "withdrawal_note" in event.fields
    assert ConsentRecord.objects.get().withdrawal_note == "Arrest of a colleague"
    with pytest.raises(services.RegistryError, match="already withdrawn"):
        services.withdraw_consent(consent=record, actor=officer, reason="person_asked")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"given_by": "representative"}, "given_by_name", "on their behalf"),
        ({"scope": "share_missions"}, "detail", "Name the recipients"),
        ({"given_on": timezone.localdate() + datetime.timedelta(days=2)}, "given_on", "future"),
        ({"expires_on": TODAY - datetime.timedelta(days=1)}, "expires_on", "before the date"),
        ({"scope": "sell_data"}, "scope", "“sell_data” is not a known code"),
        ({"channel": "telepathy"}, "channel", "“telepathy” is not a known code"),
    ],
)
def test_bad_consent_is_refused_on_the_right_field(
    mission: Any, officer: Any, fields: dict, field: str, message: str
) -> None:
    defender = make_defender(mission)
    with pytest.raises(ValidationError) as raised:
        _consent(defender, officer, **fields)
    assert message in " ".join(raised.value.message_dict[field])
    assert not ConsentRecord.objects.exists()


def test_withdrawal_for_another_reason_needs_a_note(mission: Any, officer: Any) -> None:
    record = _consent(make_defender(mission), officer)
    with pytest.raises(ValidationError, match="Say in the note"):
        services.withdraw_consent(consent=record, actor=officer, reason="other")


def test_organisations_give_consent_too(mission: Any, officer: Any) -> None:
    organisation = make_organisation(mission)
    _consent(
        organisation,
        officer,
        scope="refer_named",
        detail="An emergency fund",
        given_by="representative",
        given_by_name="Its director",
    )
    assert consent.allows(organisation, "refer_named")
    assert consent.scopes_in_force(organisation) == {"refer_named"}


def test_expiring_consent_shows_30_days_ahead(mission: Any, officer: Any) -> None:
    defender = make_defender(mission, name="Amina Otieno")
    today = timezone.localdate()
    soon = _consent(defender, officer, given_on=today, expires_on=today + datetime.timedelta(30))
    _consent(
        defender,
        officer,
        scope="raise_named",
        given_on=today,
        expires_on=today + datetime.timedelta(31),
    )
    _consent(defender, officer, scope="keep_contact", given_on=today)  # never expires
    withdrawn = _consent(
        defender,
        officer,
        scope="raise_unnamed",
        given_on=today,
        expires_on=today + datetime.timedelta(3),
    )
    services.withdraw_consent(consent=withdrawn, actor=officer, reason="person_asked")
    assert selectors.expiring_consents(officer, mission) == [soon]
    later = today + datetime.timedelta(days=1)
    assert len(selectors.expiring_consents(officer, mission, today=later)) == 2


# -- merging


def test_merge_moves_every_link_and_destroys_the_duplicate(mission: Any, officer: Any) -> None:
    survivor = make_defender(
        mission, name="Amina Otieno", region="Nairobi", channels=[("phone", "0712345678")]
    )
    duplicate = make_defender(
        mission,
        name="Amina W. Otieno",
        known_as="Mama Amina",
        place="Kibera",
        notes="Leads the land committee",
        work_focus=["land"],
        identity_tags=["woman"],
        channels=[("email", "amina@example.org"), ("phone", "0712 345 678")],
    )
    organisation = make_organisation(mission)
    brother = make_defender(mission, name="Joseph Otieno")
    services.add_affiliation(
        defender=duplicate, organisation=organisation, actor=officer, role="Chair"
    )
    services.add_relation(defender=duplicate, actor=officer, kind="family", linked=brother)
    services.add_relation(defender=brother, actor=officer, kind="family", linked=duplicate)
    services.add_relation(defender=duplicate, actor=officer, kind="other", linked=survivor)
    _consent(duplicate, officer)
    duplicate_key = duplicate.data_key_id
    heard: list[tuple[int, int]] = []

    def listener(**kwargs: Any) -> None:
        heard.append((kwargs["survivor"].pk, kwargs["duplicate"].pk))

    defenders_merged.connect(listener)
    try:
        services.merge_defenders(survivor=survivor, duplicate=duplicate, actor=officer)
    finally:
        defenders_merged.disconnect(listener)

    assert heard == [(survivor.pk, duplicate.pk)]
    assert not Defender.objects.filter(pk=duplicate.pk).exists()
    assert not DataKey.objects.filter(pk=duplicate_key).exists()
    survivor = Defender.objects.get(pk=survivor.pk)
    assert survivor.known_as.splitlines() == ["Amina W. Otieno", "Mama Amina"]
    assert survivor.region == "Nairobi" and survivor.place == "Kibera"
    assert survivor.notes == "Leads the land committee"
    assert survivor.work_focus == ["land"] and survivor.identity_tags == ["woman"]
    # Every moved row is readable under the survivor's key.
    values = sorted(c.value for c in survivor.channels.all())
    assert values == ["0712 345 678", "0712345678", "amina@example.org"]
    assert survivor.channels.filter(preferred=True).count() == 1
    assert Affiliation.objects.get().defender_id == survivor.pk
    assert Affiliation.objects.get().role == "Chair"
    assert consent.allows(survivor, "public_statement")
    assert [(r.defender_id, r.linked_id) for r in Relation.objects.order_by("pk")] == [
        (survivor.pk, brother.pk),
        (brother.pk, survivor.pk),
    ]
    assert all(
        row.data_key_id == survivor.data_key_id
        for row in [*ContactChannel.objects.filter(defender=survivor), *ConsentRecord.objects.all()]
    )
    (merged,) = _events("registry.defenders_merged")
    assert {"channels", "consentrecords", "affiliations", "relations"} <= set(merged.fields)
    assert len(_events("subject.shredded")) == 1


def test_a_record_cannot_be_merged_into_itself(mission: Any, officer: Any) -> None:
    defender = make_defender(mission)
    with pytest.raises(services.RegistryError, match="two different"):
        services.merge_defenders(survivor=defender, duplicate=defender, actor=officer)


# -- subject-access export


def test_export_holds_the_whole_record_and_is_audited(mission: Any, admin: Any) -> None:
    defender = make_defender(
        mission,
        name="Amina Otieno",
        identity_tags=["woman"],
        channels=[("phone", "0712345678", "after 6 pm")],
    )
    services.add_affiliation(
        defender=defender, organisation=make_organisation(mission, name="Land Network"), actor=admin
    )
    _consent(defender, admin)
    membership = Membership.objects.get(user=admin, mission=mission)
    data = services.export_defender(defender=defender, actor=admin, membership=membership)
    assert data["name"] == "Amina Otieno"
    assert data["channels"] == [
        {"type": "phone", "value": "0712345678", "safety_notes": "after 6 pm", "preferred": True}
    ]
    assert data["affiliations"][0]["organisation"] == "Land Network"
    assert data["consents"][0]["scope"] == "public_statement"
    assert data["identity_tags"] == ["woman"]
    (event,) = _events("registry.defender_exported")
    assert event.actor_id == admin.pk and "channels" in event.fields


def test_export_withholds_identity_tags_from_an_officer_without_permission(
    mission: Any,
) -> None:
    officer = make_user(mission, "officer")
    defender = make_defender(mission, identity_tags=["lgbtqi"])
    membership = Membership.objects.get(user=officer, mission=mission)
    data = services.export_defender(defender=defender, actor=officer, membership=membership)
    assert "identity_tags" not in data and data["identity_tags_withheld"] is True
    membership.sees_identity_tags = True
    membership.save()
    data = services.export_defender(defender=defender, actor=officer, membership=membership)
    assert data["identity_tags"] == ["lgbtqi"]
