"""Trial and detention monitoring and the civic-space register, through services and HTTP:
postponements keep their history, a detention raises the risk, the hearings feed never names
a discreet defender, the reprisal register carries no identifying text."""

from __future__ import annotations

import csv
import datetime
import io
import json
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from haven.cases import services as cases
from haven.cases.models import Case, Notice, NoticeKind
from haven.monitoring import reminders, services
from haven.monitoring.models import Hearing, HearingStatus
from tests.canary import new_token, variants
from tests.factories import make_defender, make_user, signed_in_client


def _case(mission: Any, officer: Any, **defender: Any) -> Case:
    return cases.open_case(
        mission=mission,
        actor=officer,
        title="Trial of the land committee",
        urgency="high",
        defender=make_defender(mission, **defender),
    )


def _hearing(case: Case, actor: Any, *, days: float = 3, **values: Any) -> Hearing:
    return services.schedule_hearing(
        case=case,
        actor=actor,
        court=values.pop("court", "High Court, room 4"),
        starts_at=timezone.now() + datetime.timedelta(days=days),
        **values,
    )


def _parse_ics(body: str) -> list[dict[str, str]]:
    """Events of an iCalendar text, unfolding continued lines (RFC 5545, 3.1)."""
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    unfolded = body.replace("\r\n ", "")
    events, current = [], None
    for line in unfolded.split("\r\n"):
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None and ":" in line:
            key, value = line.split(":", 1)
            current[key] = value.replace("\\,", ",").replace("\\;", ";").replace("\\n", "\n")
    return events


# -- hearings


def test_a_postponement_keeps_the_old_date_and_shows_the_pattern(
    mission: Any, officer: Any
) -> None:
    case = _case(mission, officer)
    first = _hearing(case, officer, observers=[officer])
    second = services.postpone_hearing(
        hearing=first, actor=officer, new_start=first.starts_at + datetime.timedelta(days=30)
    )
    assert second is not None and second.postponed_from == first
    assert list(second.observers.all()) == [officer] and second.court == "High Court, room 4"
    first.refresh_from_db()
    assert first.status == HearingStatus.POSTPONED
    with pytest.raises(services.MonitoringError):
        services.postpone_hearing(hearing=first, actor=officer, new_start=None)
    services.postpone_hearing(hearing=second, actor=officer, new_start=None)
    assert services.postponements(case) == 2
    page = signed_in_client(officer).get(case.get_absolute_url()).content.decode()
    assert "postponed 2 times" in page


def test_the_report_comes_after_the_hearing_with_every_checklist_item(
    mission: Any, officer: Any
) -> None:
    case = _case(mission, officer)
    coming = _hearing(case, officer)
    with pytest.raises(services.MonitoringError, match="not happened yet"):
        services.set_hearing_status(hearing=coming, actor=officer, status="held")
    with pytest.raises(services.MonitoringError, match="not happened yet"):
        services.record_observation(
            hearing=coming,
            actor=officer,
            summary="x",
            access="granted",
            authorities_informed=False,
            checklist={},
        )
    held = _hearing(case, officer, days=-0.1)
    with pytest.raises(ValidationError):
        services.record_observation(
            hearing=held,
            actor=officer,
            summary="x",
            access="granted",
            authorities_informed=False,
            checklist={"not_an_item": {"assessment": "violated"}},
        )
    report = services.record_observation(
        hearing=held,
        actor=officer,
        summary="Judge refused to hear the defence's witnesses.",
        access="partial",
        authorities_informed=True,
        checklist={"witnesses": {"assessment": "violated", "notes": "Two witnesses sent away."}},
    )
    held.refresh_from_db()
    assert held.status == HearingStatus.HELD
    assert report.checklist["witnesses"] == {
        "assessment": "violated",
        "notes": "Two witnesses sent away.",
    }
    assert report.checklist["appeal"]["assessment"] == "not_observable"
    printed = signed_in_client(officer).get(reverse("monitoring:report_print", args=[held.pk]))
    assert printed.status_code == 200
    assert "Two witnesses sent away." in printed.content.decode()
    assert "Could examine and call witnesses" in printed.content.decode()


def test_report_form_over_http_fills_the_checklist(mission: Any, officer: Any) -> None:
    case = _case(mission, officer)
    held = _hearing(case, officer, days=-0.2)
    data = {
        "summary": "Closed hearing.",
        "access": "denied",
        "item_public_hearing": "violated",
        "notes_public_hearing": "No reason given for closing it.",
    }
    from haven.core.vocab.fair_trial import FAIR_TRIAL

    for term in FAIR_TRIAL:
        data.setdefault(f"item_{term.code}", "not_observable")
    response = signed_in_client(officer).post(reverse("monitoring:report", args=[held.pk]), data)
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.report.checklist["public_hearing"]["notes"] == "No reason given for closing it."


def test_hearing_reminders_reach_observers_two_days_ahead(mission: Any, officer: Any) -> None:
    observer = make_user(mission)
    case = _case(mission, officer)
    _hearing(case, officer, days=3, observers=[observer])
    assert reminders.remind_hearings() == 0
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1, hours=2)):
        assert reminders.remind_hearings() == 2  # the observer and the case's owner
        assert reminders.remind_hearings() == 0
    assert Notice.objects.filter(user=observer, kind=NoticeKind.HEARING_SOON).exists()


# -- the feed


@pytest.mark.parametrize(
    ("visibility", "named"), [("public", True), ("discreet", False), ("anonymous", False)]
)
def test_the_feed_names_only_a_public_defender(
    mission: Any, officer: Any, visibility: str, named: bool
) -> None:
    name = new_token("hrd")
    court = new_token("court")
    case = _case(mission, officer, name=name, visibility=visibility)
    _hearing(case, officer, court=court)
    secret = services.create_feed(user=officer, mission=mission)
    response = signed_in_client(make_user()).get(reverse("monitoring:ics", args=[secret]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    [event] = _parse_ics(response.content.decode())
    assert case.reference in event["SUMMARY"]
    assert (name in event["SUMMARY"]) is named
    assert ("LOCATION" in event) is named
    if not named:
        for encoded in [*variants(name).values(), *variants(court).values()]:
            assert encoded not in response.content


def test_a_revoked_or_new_feed_address_closes_the_old_one(mission: Any, officer: Any) -> None:
    _hearing(_case(mission, officer), officer)
    first = services.create_feed(user=officer, mission=mission)
    second = services.create_feed(user=officer, mission=mission)
    client = signed_in_client(make_user())
    assert client.get(reverse("monitoring:ics", args=[first])).status_code == 404
    assert client.get(reverse("monitoring:ics", args=[second])).status_code == 200
    services.revoke_feed(user=officer, mission=mission)
    assert client.get(reverse("monitoring:ics", args=[second])).status_code == 404


def test_the_feed_leaves_out_cases_its_owner_no_longer_sees(mission: Any, officer: Any) -> None:
    colleague = make_user(mission)
    case = _case(mission, officer)
    _hearing(case, officer, observers=[colleague])
    secret = services.create_feed(user=colleague, mission=mission)
    client = signed_in_client(make_user())
    assert (
        len(_parse_ics(client.get(reverse("monitoring:ics", args=[secret])).content.decode())) == 1
    )
    cases.update_case(case=case, actor=officer, changes={"restricted": True})
    assert _parse_ics(client.get(reverse("monitoring:ics", args=[secret])).content.decode()) == []


# -- detention


def test_a_detention_raises_the_risk_and_shows_on_the_timeline(mission: Any, officer: Any) -> None:
    case = _case(mission, officer)
    detention = services.record_detention(
        case=case,
        actor=officer,
        defender=case.defender,
        detained_on=timezone.localdate(),
        acknowledged=False,
        location_disclosed=False,
        place="Unknown police station",
    )
    case.refresh_from_db()
    assert case.risk_level == "high" and case.review_due_on is not None
    client = signed_in_client(officer)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Detained" in page and "not acknowledged" in page
    visit = services.request_visit(
        detention=detention, actor=officer, requested_on=timezone.localdate()
    )
    with pytest.raises(ValidationError):
        services.update_visit(visit=visit, actor=officer, status="held")
    services.update_visit(
        visit=visit,
        actor=officer,
        status="held",
        visit_on=timezone.localdate(),
        outcome="Seen briefly; bruises on the arms.",
    )
    services.update_detention(
        detention=detention, actor=officer, changes={"released_on": timezone.localdate()}
    )
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Released" in page
    with pytest.raises(ValidationError):
        services.update_detention(
            detention=detention,
            actor=officer,
            changes={"released_on": timezone.localdate() + datetime.timedelta(days=3)},
        )


# -- civic space and the reprisal register


def test_reprisal_register_exports_codes_and_no_text(mission: Any, officer: Any) -> None:
    title, description = new_token("title"), new_token("description")
    case = _case(mission, officer)
    services.record_civic_event(
        mission=mission,
        actor=officer,
        kind="un_reprisal",
        title=title,
        description=description,
        starts_on=timezone.localdate(),
        region="Turkana",
        source_type="victim",
        reliability="high",
        cases_linked=[case],
    )
    services.record_civic_event(
        mission=mission,
        actor=officer,
        kind="shutdown",
        title="Mobile data cut",
        starts_on=timezone.localdate(),
        source_type="media",
    )
    client = signed_in_client(officer, reauthenticated=True)
    as_csv = client.get(reverse("monitoring:register_csv"))
    as_json = client.get(reverse("monitoring:register_json"))
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert len(rows) == 1  # the shutdown is civic space, not a reprisal
    assert rows[0]["kind"] == "un_reprisal" and rows[0]["region"] == "Turkana"
    assert rows[0]["cases_linked"] == "1" and rows[0]["country"] == mission.country
    document = json.loads(as_json.content)
    assert document["schema"] == "haven-reprisal-register/1"
    assert document["events"][0]["reliability"] == "high"
    for body in (as_csv.content, as_json.content):
        for token in (title, description):
            for encoded in variants(token).values():
                assert encoded not in body
    # A restricted case the exporter is not on is not even counted.
    secret = cases.open_case(
        mission=mission,
        actor=make_user(mission),
        title="x",
        urgency="low",
        defender=make_defender(mission),
        restricted=True,
    )
    services.record_civic_event(
        mission=mission,
        actor=officer,
        kind="reprisal",
        title="Second",
        starts_on=timezone.localdate(),
        source_type="media",
        cases_linked=[secret],
    )
    again = list(
        csv.DictReader(io.StringIO(client.get(reverse("monitoring:register_csv")).content.decode()))
    )
    assert sorted(row["cases_linked"] for row in again) == ["0", "1"]
    timeline = client.get(reverse("monitoring:civic_space"), {"kind": "shutdown"})
    assert b"Mobile data cut" in timeline.content and title.encode() not in timeline.content


def test_the_register_export_asks_who_you_are_again(mission: Any, officer: Any) -> None:
    response = signed_in_client(officer).get(reverse("monitoring:register_csv"))
    assert response.status_code == 302 and "/reauth" in response.url


def test_officer_records_a_detention_over_http(mission: Any, officer: Any) -> None:
    case = _case(mission, officer)
    client = signed_in_client(officer)
    response = client.post(
        reverse("monitoring:detention_new", args=[case.pk]),
        {
            "detained_on": timezone.localdate().isoformat(),
            "place": "Central police station",
            "acknowledged": "on",
            "counsel": "denied",
            "health_concerns": "Asthma.",
        },
    )
    detention = case.detentions.get()
    assert response.status_code == 302 and response.url == detention.get_absolute_url()
    assert (detention.acknowledged, detention.location_disclosed, detention.counsel) == (
        True,
        False,
        "denied",
    )
    page = client.get(detention.get_absolute_url()).content.decode()
    assert "Central police station" in page and "Asthma." in page
