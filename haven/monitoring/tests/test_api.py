"""Monitoring and referrals through the API, with a personal token: the same rules as the
workspace, answered as 409 with the reason, and nothing of an unseen case."""

from __future__ import annotations

import datetime
from typing import Any

from django.test import Client
from django.utils import timezone

from haven.accounts.services import create_api_token
from haven.cases import services as cases
from haven.referrals.models import Mechanism
from haven.registry import services as registry
from tests.factories import make_defender, make_user


def _client(user: Any, mission: Any) -> Client:
    token = create_api_token(user=user, mission=mission, name="t", scope="write", days=5)
    return Client(headers={"Authorization": f"Bearer {token.secret}"})


def test_hearing_report_and_referral_over_the_api(mission: Any, officer: Any) -> None:
    case = cases.open_case(
        mission=mission,
        actor=officer,
        title="Trial",
        urgency="high",
        defender=make_defender(mission),
    )
    api = _client(officer, mission)
    started = (timezone.now() - datetime.timedelta(hours=2)).isoformat()
    made = api.post(
        f"/api/v1/cases/{case.pk}/hearings",
        {"court": "High Court", "starts_at": started, "observer_ids": [officer.pk]},
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    hearing_id = made.json()["id"]
    report = api.put(
        f"/api/v1/hearings/{hearing_id}/report",
        {
            "summary": "Held in public.",
            "access": "granted",
            "checklist": {"public_hearing": {"assessment": "respected", "notes": ""}},
        },
        content_type="application/json",
    )
    assert report.status_code == 200 and report.json()["status"] == "held"
    assert report.json()["report"]["checklist"]["public_hearing"]["assessment"] == "respected"
    mechanism = Mechanism.objects.filter(mission=mission).first()
    assert mechanism is not None
    refused = api.post(
        f"/api/v1/cases/{case.pk}/referrals",
        {"mechanism_id": mechanism.pk},
        content_type="application/json",
    )
    assert refused.status_code == 409 and "consent" in refused.json()["detail"]
    registry.record_consent(
        entry=case.defender,
        actor=officer,
        scope="refer_named",
        channel="signal",
        given_on=timezone.localdate(),
        detail="Lifeline",
    )
    sent = api.post(
        f"/api/v1/cases/{case.pk}/referrals",
        {"mechanism_id": mechanism.pk},
        content_type="application/json",
    )
    assert sent.status_code == 201
    detained = api.post(
        f"/api/v1/cases/{case.pk}/detentions",
        {
            "detained_on": timezone.localdate().isoformat(),
            "acknowledged": False,
            "location_disclosed": False,
        },
        content_type="application/json",
    )
    assert detained.status_code == 201
    case.refresh_from_db()
    assert case.risk_level == "high"


def test_an_unseen_case_is_not_found_in_monitoring(mission: Any, officer: Any) -> None:
    case = cases.open_case(
        mission=mission,
        actor=officer,
        title="Secret",
        urgency="low",
        defender=make_defender(mission),
        restricted=True,
    )
    other = _client(make_user(mission, "officer"), mission)
    made = other.post(
        f"/api/v1/cases/{case.pk}/hearings",
        {"court": "x", "starts_at": timezone.now().isoformat()},
        content_type="application/json",
    )
    assert made.status_code == 404
    assert other.get("/api/v1/hearings").json() == []


def test_relocation_over_the_api(mission: Any, officer: Any) -> None:
    case = cases.open_case(
        mission=mission,
        actor=officer,
        title="Relocation",
        urgency="high",
        defender=make_defender(mission),
    )
    api = _client(officer, mission)
    today = timezone.localdate()
    bad = api.post(
        f"/api/v1/cases/{case.pk}/relocation",
        {"departs_on": today.isoformat(), "returns_on": today.isoformat()},
        content_type="application/json",
    )
    assert bad.status_code == 422 and "returns_on" in bad.json()["errors"]
    made = api.post(
        f"/api/v1/cases/{case.pk}/relocation",
        {
            "departs_on": today.isoformat(),
            "returns_on": (today + datetime.timedelta(days=90)).isoformat(),
        },
        content_type="application/json",
    )
    assert made.status_code == 201 and len(made.json()) == 11
    again = api.post(
        f"/api/v1/cases/{case.pk}/relocation",
        {
            "departs_on": today.isoformat(),
            "returns_on": (today + datetime.timedelta(days=90)).isoformat(),
        },
        content_type="application/json",
    )
    assert again.status_code == 409
    task_id = made.json()[0]["id"]
    done = api.post(
        f"/api/v1/relocation-tasks/{task_id}/done",
        {"notes": "Visa issued."},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["done_on"] == today.isoformat()
    assert done.json()["notes"] == "Visa issued."
