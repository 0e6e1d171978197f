"""Leadership dashboards and the annual report input: what a viewer sees, and what never
reaches them (a count small enough to single someone out, a restricted case, a name)."""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from haven.accounts.models import Membership
from haven.cases import services as cases
from haven.cases.models import Case
from haven.registry import services as registry
from haven.reports import suppression
from tests.factories import all_queries, make_defender, make_mission, make_user, signed_in_client

CANARY = "kq4canary"
# What a cell a viewer reads may hold: a count of 0 or of at least the threshold, or a
# sentence that hides it. Any other number is a leak.
HIDDEN = r"fewer than 5|too few to show|at least \d+\xa0%|at most \d+\xa0%|—|\d+(\.\d+)? (h|days)|\d+ hours?"


def _open(mission: Any, officer: Any, region: str, *, n: int = 1, **fields: Any) -> list[Case]:
    opened = []
    for i in range(n):
        defender = make_defender(mission, name=f"{CANARY} {region} {i}", region=region)
        registry.record_consent(
            entry=defender,
            actor=officer,
            scope="deidentified_reporting",
            channel="in_person",
            given_on=timezone.localdate(),
        )
        opened.append(
            cases.open_case(
                mission=mission,
                actor=officer,
                title=f"{CANARY} case",
                urgency=fields.get("urgency", "high"),
                defender=defender,
                restricted=fields.get("restricted", False),
            )
        )
    return opened


def _cells(page: str) -> list[str]:
    """Every figure a viewer reads: table cells and the values drawn in charts."""
    cells = re.findall(r"<td>(.*?)</td>", page, flags=re.S)
    cells += re.findall(r'class="chart-value[^"]*">(.*?)</text>', page, flags=re.S)
    cells += re.findall(r"<strong>(.*?)</strong>", page, flags=re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def _assert_no_small_cell(page: str) -> None:
    for cell in _cells(page):
        for part in re.split(r"\s*/\s*", cell):
            if re.fullmatch(HIDDEN, part):
                continue
            number = re.fullmatch(r"(\d+)(\xa0%)?", part)
            assert number, f"unexpected figure {part!r}"
            if not number.group(2):
                assert int(number.group(1)) == 0 or int(number.group(1)) >= 5, part


@pytest.fixture
def viewer(mission: Any) -> Any:
    return make_user(mission, "viewer", username="vera")


def test_suppression_hides_small_counts_and_what_a_total_would_give_away() -> None:
    grouped = suppression.group({"a": 7, "b": 2, "c": 6, "d": 0}, 5)
    assert str(grouped["b"]) == "fewer than 5"
    # Total 15 minus 7 and 6 would reveal b = 2: the next smallest shown count is hidden too.
    assert grouped["c"].hidden and not grouped["a"].hidden and grouped.total.value == 15
    assert grouped["d"].value == 0
    assert suppression.group({"a": 3}, 5).total.hidden
    assert str(suppression.share(19, 20, 5)) == "at least 80\xa0%"
    assert str(suppression.share(1, 20, 5)) == "at most 20\xa0%"
    assert str(suppression.share(10, 20, 5)) == "50\xa0%"
    assert suppression.share(3, 4, 5).hidden
    assert suppression.percentile([1.0, 2.0, 3.0, 4.0], 0.5, 5).hidden
    assert suppression.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5, 5).hours == 3.0
    # The same read from how often each value occurs, as the database hands them over.
    assert suppression.percentile({4.0: 2, 1.0: 1, 9.0: 2}, 0.5, 5).hours == 4.0
    assert suppression.percentile({4.0: 2, 1.0: 1, 9.0: 2}, 0.9, 5).hours == 9.0
    assert suppression.percentile({4.0: 2, 1.0: 2}, 0.5, 5).hidden


def test_response_times_and_actions_by_month_are_worked_out_by_the_database(
    mission: Any, officer: Any, viewer: Any
) -> None:
    """Ten requests answered after 1 to 10 hours, five after three days against a day's
    deadline, one unanswered and late, one unanswered and not yet due."""
    opened = _open(mission, officer, "Nairobi", n=17)
    now = timezone.now()
    start = now - datetime.timedelta(days=20)
    answered_after = [*range(1, 11), *[72] * 5, None, None]
    for case, hours in zip(opened, answered_after, strict=True):
        due = start + datetime.timedelta(hours=24)
        if case is opened[-1]:
            due = now + datetime.timedelta(hours=5)
        Case.objects.filter(pk=case.pk).update(
            opened_at=start,
            response_due_at=due,
            responded_at=None if hours is None else start + datetime.timedelta(hours=hours),
        )
    # Actions in two months: 6 this month, 5 three months ago.
    recent = timezone.localdate().replace(day=1)
    earlier = (recent - datetime.timedelta(days=80)).replace(day=1)
    for case, when in zip(opened[:11], [recent] * 6 + [earlier] * 5, strict=True):
        action = cases.plan_action(case=case, actor=officer, action_type="capacity_building")
        moment = datetime.datetime.combine(
            when, datetime.time(12), tzinfo=timezone.get_current_timezone()
        )
        type(action).objects.filter(pk=action.pk).update(created_at=moment)
    html = signed_in_client(viewer).get(reverse("reports:dashboard")).content.decode()
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th>((?:<td>.*?</td>)+)</tr>', html))
    high = re.findall(r"<td>(.*?)</td>", rows["High"])
    # 17 requests, 1 hour deadline column, then: 10 of 16 judged within (the one not yet
    # due is not judged), median the 8th of 15 answers, 90th percentile the 14th (72 h).
    assert high[0] == "17" and high[2:] == ["62\xa0%", "8.0 h", "3.0 days"]
    cells = re.findall(r'<th scope="row">([^<]+)</th><td>([^<]+)</td>', html)
    assert (date_format(recent, "M Y"), "6") in cells
    assert (date_format(earlier, "M Y"), "5") in cells


def test_a_viewer_sees_the_dashboard_and_no_count_that_could_single_someone_out(
    mission: Any, officer: Any, viewer: Any
) -> None:
    mission.capital_region = "Nairobi"
    mission.save()
    _open(mission, officer, "Nairobi", n=7)
    _open(mission, officer, "Turkana", n=1)
    _open(mission, officer, "Kisumu", n=6, urgency="low")
    client = signed_in_client(viewer)
    desk = client.get(reverse("core:desk")).content.decode()
    assert "The mission at a glance" in desk and "14" in desk
    page = client.get(reverse("reports:dashboard"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "<script" not in html and 'style="' not in html
    assert "Open cases by status" in html and "<title" in html
    _assert_no_small_cell(html)
    assert "fewer than 5" in html  # Turkana's one case
    assert CANARY not in html
    # A region of fewer people than the threshold is not offered, and asking for it anyway
    # shows the whole mission, with a message, not the one person.
    assert 'value="Kisumu"' in html and 'value="Turkana"' not in html
    isolated = client.get(reverse("reports:dashboard"), {"region": "Turkana"}).content.decode()
    assert "Select a valid choice" in isolated
    _assert_no_small_cell(isolated)
    assert "fewer than 5" in isolated
    kisumu = client.get(reverse("reports:dashboard"), {"region": "Kisumu"}).content.decode()
    _assert_no_small_cell(kisumu)
    assert "Region: Kisumu." in kisumu
    # A viewer reaches figures only: not the cases behind them.
    assert client.get(reverse("cases:list")).status_code == 403


def test_a_bad_period_is_explained_and_the_default_shown(mission: Any, viewer: Any) -> None:
    client = signed_in_client(viewer)
    page = client.get(reverse("reports:dashboard"), {"start": "2026-05-01", "end": "2026-01-01"})
    assert page.status_code == 200
    assert "The start of the period is after its end." in page.content.decode()


def test_restricted_cases_are_counted_only_for_their_team(
    mission: Any, officer: Any, viewer: Any, admin: Any
) -> None:
    _open(mission, officer, "Nairobi", n=5)
    _open(mission, officer, "Nairobi", n=5, restricted=True)
    raw_open = Case.objects.filter(mission=mission).count()
    assert raw_open == 10

    def open_total(user: Any) -> str:
        page = signed_in_client(user).get(reverse("reports:dashboard")).content.decode()
        match = re.search(r"<strong>(.*?)</strong> open cases today", page)
        assert match
        return match.group(1)

    assert open_total(viewer) == "5"
    assert open_total(admin) == "5"  # an admin outside the case team does not count them
    assert open_total(officer) == "10"  # the owner does
    annual_json = signed_in_client(officer).get(reverse("reports:annual_json")).json()
    urgency = next(s for s in annual_json["sections"] if s["key"] == "urgency")
    assert urgency["totals"] == [5]  # never in anything published


def test_a_headquarters_viewer_sees_each_mission_and_the_total(
    mission: Any, officer: Any, viewer: Any
) -> None:
    second = make_mission(name="Embassy two")
    second_officer = make_user(second, "officer")
    Membership.objects.create(user=viewer, mission=second, role="viewer")
    _open(mission, officer, "Nairobi", n=6)
    _open(second, second_officer, "Mombasa", n=7)
    elsewhere = make_mission(name="Not theirs")
    _open(elsewhere, make_user(elsewhere, "officer"), "Garissa", n=9)
    client = signed_in_client(viewer)
    client.get(reverse("reports:dashboard"))  # the first request of a session also saves it
    with all_queries() as queries:
        page = client.get(reverse("reports:all_missions"))
    html = page.content.decode()
    rows = re.findall(r'<th scope="row">([^<]+)</th><td>(\w+)</td>', html)
    assert ("Embassy of Testland", "6") in rows and ("Embassy two", "7") in rows
    assert ("Total", "13") in rows
    assert "Not theirs" not in html
    _assert_no_small_cell(html)
    many = queries.count
    for n in range(3):
        extra = make_mission(name=f"Extra {n}")
        Membership.objects.create(user=viewer, mission=extra, role="viewer")
    with all_queries() as queries:
        client.get(reverse("reports:all_missions"))
    assert queries.count == many  # the queries do not grow with the number of missions


def _viewer_of_two(mission: Any, officer: Any, viewer: Any) -> Any:
    """``viewer`` signed in, a viewer of a second mission too; six cases in the first."""
    second = make_mission(name="Embassy two")
    Membership.objects.create(user=viewer, mission=second, role="viewer")
    _open(mission, officer, "Nairobi", n=6)
    return signed_in_client(viewer)


def test_the_headquarters_page_keeps_its_counts_five_minutes_and_says_so(
    mission: Any, officer: Any, viewer: Any
) -> None:
    client = _viewer_of_two(mission, officer, viewer)

    def total() -> tuple[str, str]:
        html = client.get(reverse("reports:all_missions")).content.decode()
        as_of = re.search(r"Figures as they stood at (\d\d:\d\d)\.", html)
        assert as_of and "more than 5 minutes old" in html
        first_total = re.search(r'<th scope="row">Total</th><td>(\w+)</td>', html)
        assert first_total
        return first_total.group(1), as_of.group(1)

    def own_dashboard() -> str:
        html = client.get(reverse("reports:dashboard")).content.decode()
        match = re.search(r"<strong>(.*?)</strong> open cases today", html)
        assert match
        return match.group(1)

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        first = total()
        assert first[0] == "6"
    _open(mission, officer, "Nairobi", n=5)
    with time_machine.travel(start + datetime.timedelta(minutes=4), tick=False):
        assert total() == first  # the same figures, and the time they stood at
        assert own_dashboard() == "11"  # one mission's dashboard is always read afresh
    with time_machine.travel(start + datetime.timedelta(minutes=6), tick=False):
        assert total()[0] == "11"


def test_the_headquarters_figures_kept_in_one_language_are_not_shown_in_another(
    mission: Any, officer: Any, viewer: Any
) -> None:
    client = _viewer_of_two(mission, officer, viewer)
    url = reverse("reports:all_missions")
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "All urgencies" in english
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Toutes les urgences" in french and "All urgencies" not in french


def test_the_annual_input_keeps_unverified_allegations_apart_and_names_no_one(
    mission: Any, officer: Any, viewer: Any
) -> None:
    opened = _open(mission, officer, "Nairobi", n=6)
    for case in opened:
        for verification in ("confirmed", "possible"):
            cases.record_incident(
                case=case,
                actor=officer,
                incident_type="death_threat",
                occurred_on=timezone.localdate(),
                description=f"{CANARY} threat",
                perpetrator_type="police",
                source_type="victim",
                verification=verification,
                place=f"{CANARY} street",
            )
    # Someone who did not agree to reporting is not counted at all.
    unconsented = make_defender(mission, name=f"{CANARY} no consent", region="Nairobi")
    cases.open_case(mission=mission, actor=officer, title="x", urgency="high", defender=unconsented)
    client = signed_in_client(viewer)
    year = timezone.localdate().year
    page = client.get(reverse("reports:annual"), {"year": year}).content.decode()
    assert "Confirmed by the mission" in page and "not verified" in page
    assert "must not be presented as fact" in page
    data = client.get(reverse("reports:annual_json"), {"year": year}).json()
    incidents = next(s for s in data["sections"] if s["key"] == "incidents")
    threat = next(r for r in incidents["rows"] if r["label"] == "Death threat")
    assert threat["values"] == [6, 6]
    urgency = next(s for s in data["sections"] if s["key"] == "urgency")
    assert urgency["totals"] == [6]
    body = client.get(reverse("reports:annual_csv"), {"year": year}).content.decode()
    lines = list(csv.reader(io.StringIO(body)))
    assert lines[0] == ["section", "category", "column", "value"]
    assert [
        "Threats and violations recorded, by type",
        "Death threat",
        "Confirmed by the mission",
        "6",
    ] in lines
    for text in (page, json.dumps(data), body):
        assert CANARY not in text
        assert "no consent" not in text


def test_chart_draws_no_bar_for_a_hidden_count_and_escapes_every_text() -> None:
    from django.template import Context, Template

    from haven.reports.charts import bars

    chart = bars(
        "Cases <b>& more</b>",
        [
            ("Land & <i>territory</i>", suppression.count(12, 5)),
            ("Few", suppression.count(2, 5)),
            ("None", suppression.count(0, 5)),
        ],
    )
    html = Template("{% load charts %}{% bar_chart chart key %}").render(
        Context({"chart": chart, "key": "x<y"})
    )
    assert "<b>" not in html and "<i>" not in html and "x<y" not in html
    assert "Cases &lt;b&gt;&amp; more&lt;/b&gt;" in html
    assert "Land &amp; &lt;i&gt;territory&lt;/i&gt;" in html
    # One bar: the count of 12. The hidden one shows its sentence and no bar; zero, no bar.
    assert html.count("<rect ") == 1
    assert re.search(r'class="chart-value chart-hidden">fewer than 5</text>', html)
    assert re.search(r'class="chart-value">12</text>', html)
    assert html.count('class="chart-label"') == 3


def test_the_regions_offered_are_kept_a_few_minutes_while_the_figures_stay_current(
    mission: Any, officer: Any, viewer: Any
) -> None:
    client = signed_in_client(viewer)
    _open(mission, officer, "Nairobi", n=5)

    def offered_and_open() -> tuple[bool, str]:
        html = client.get(reverse("reports:dashboard")).content.decode()
        match = re.search(r"<strong>(.*?)</strong> open cases today", html)
        assert match
        return '<option value="Kisumu"' in html, match.group(1)

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert offered_and_open() == (False, "5")
    _open(mission, officer, "Kisumu", n=5)
    with time_machine.travel(start + datetime.timedelta(minutes=4), tick=False):
        assert offered_and_open() == (False, "10")
    with time_machine.travel(start + datetime.timedelta(minutes=6), tick=False):
        assert offered_and_open() == (True, "10")
