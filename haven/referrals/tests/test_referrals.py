"""The referral directory and referrals: every mission starts with the checked starter set, an
entry goes stale after 180 days unverified, a referral needs consent and an active mechanism."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from haven.cases import services as cases
from haven.referrals import services
from haven.referrals.models import Mechanism, Referral
from haven.referrals.starter import CHECKED_ON, STARTER
from haven.registry import services as registry
from tests.factories import make_defender, make_mission, signed_in_client


def _case(mission: Any, officer: Any) -> Any:
    return cases.open_case(
        mission=mission,
        actor=officer,
        title="Raid",
        urgency="high",
        defender=make_defender(mission),
    )


def _consent(case: Any, actor: Any) -> None:
    registry.record_consent(
        entry=case.subject,
        actor=actor,
        scope="refer_named",
        channel="signal",
        given_on=timezone.localdate(),
        detail="Emergency funds",
    )


def test_every_new_mission_starts_with_the_starter_directory(db: Any) -> None:
    mission = make_mission()
    names = set(Mechanism.objects.filter(mission=mission).values_list("name", flat=True))
    assert names == {entry["name"] for entry in STARTER}
    lifeline = Mechanism.objects.get(mission=mission, name__startswith="Lifeline")
    assert lifeline.last_verified_on == CHECKED_ON and lifeline.source.startswith("https://")
    unhcr = Mechanism.objects.get(mission=mission, name="UNHCR")
    assert unhcr.last_verified_on is None and unhcr.stale
    assert services.seed_directory(mission) == 0  # once


def test_an_entry_goes_stale_after_180_days_and_a_check_renews_it(
    mission: Any, officer: Any
) -> None:
    mechanism = Mechanism.objects.filter(mission=mission, last_verified_on=CHECKED_ON).first()
    assert mechanism is not None
    with time_machine.travel(
        datetime.datetime.combine(CHECKED_ON, datetime.time(12), tzinfo=datetime.UTC)
        + datetime.timedelta(days=179)
    ):
        assert not mechanism.stale
    with time_machine.travel(
        datetime.datetime.combine(CHECKED_ON, datetime.time(12), tzinfo=datetime.UTC)
        + datetime.timedelta(days=181)
    ):
        assert mechanism.stale
        client = signed_in_client(officer)
        page = client.get(reverse("referrals:directory")).content.decode()
        assert "check it again before referring anyone" in page
        client.post(reverse("referrals:mechanism_verify", args=[mechanism.pk]))
        mechanism.refresh_from_db()
        assert mechanism.last_verified_on == timezone.localdate() and not mechanism.stale


def test_a_referral_needs_consent_to_refer_to_a_named_fund(mission: Any, officer: Any) -> None:
    case = _case(mission, officer)
    mechanism = Mechanism.objects.filter(mission=mission).first()
    with pytest.raises(services.ReferralError, match="consent"):
        services.refer(case=case, actor=officer, mechanism=mechanism)
    _consent(case, officer)
    referral = services.refer(case=case, actor=officer, mechanism=mechanism, outcome="Sent")
    services.update_referral(
        referral=referral, actor=officer, status="accepted", outcome="Grant for a lawyer."
    )
    referral.refresh_from_db()
    assert (referral.status, referral.outcome) == ("accepted", "Grant for a lawyer.")
    page = signed_in_client(officer).get(case.get_absolute_url()).content.decode()
    assert mechanism.name in page and "Accepted" in page


def test_a_paused_mechanism_takes_no_referral(mission: Any, officer: Any) -> None:
    case = _case(mission, officer)
    _consent(case, officer)
    mechanism = Mechanism.objects.filter(mission=mission).first()
    services.update_mechanism(mechanism=mechanism, actor=officer, changes={"paused": True})
    with pytest.raises(services.ReferralError, match="paused"):
        services.refer(case=case, actor=officer, mechanism=mechanism)
    assert not Referral.objects.exists()


def test_referral_over_http_refused_without_consent(mission: Any, officer: Any) -> None:
    case = _case(mission, officer)
    mechanism = Mechanism.objects.filter(mission=mission).first()
    client = signed_in_client(officer)
    url = reverse("referrals:referral_new", args=[case.pk])
    data = {"mechanism": mechanism.pk, "referred_on": timezone.localdate().isoformat()}
    refused = client.post(url, data)
    assert refused.status_code == 200 and "needs their consent" in refused.content.decode()
    _consent(case, officer)
    assert client.post(url, data).status_code == 302
    assert Referral.objects.get().mechanism == mechanism


def test_a_mission_adds_its_own_mechanism_once(mission: Any, officer: Any) -> None:
    services.add_mechanism(
        mission=mission,
        actor=officer,
        name="Local lawyers' network",
        kind="other",
        support_types=["legal_support"],
    )
    with pytest.raises(ValidationError):
        services.add_mechanism(
            mission=mission, actor=officer, name="local lawyers' network", kind="other"
        )
    with pytest.raises(ValidationError):
        services.add_mechanism(
            mission=mission, actor=officer, name="Bad", kind="other", support_types=["nope"]
        )
