"""CSV import: check first, then all or nothing; clear messages for every bad file."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from haven.audit.models import AuditEvent
from haven.crypto.models import DataKey
from haven.registry import csvimport
from haven.registry.models import ContactChannel, Defender, Organisation
from tests.factories import make_defender, make_user, signed_in_client

HEADER = "name,known_as,region,actor_type,work_focus,visibility,phone,email,preferred_channel,notes"
GOOD = [
    "Amina Otieno,Mama Amina,Rift Valley,lawyer,land;environment,discreet,+254 712 345 678,amina@example.org,email,",
    "Joseph Kamau,,Nairobi,journalist,media,public,,joseph@example.org,,Runs a radio show",
]


def _csv(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode("utf-8")


def _check(mission: Any, data: bytes, kind: str = "defenders") -> csvimport.ImportReport:
    return csvimport.check_file(data=data, kind=kind, mission=mission)


def test_a_valid_file_is_checked_then_imported(mission: Any, officer: Any) -> None:
    report = _check(mission, _csv(*GOOD))
    assert report.valid and report.lines == 2 and len(report.rows) == 2
    assert not Defender.objects.exists()  # the check writes nothing
    created = csvimport.import_file(report=report, mission=mission, actor=officer)
    assert created == 2
    amina = Defender.objects.get(name_index=Defender.objects.get(region="Rift Valley").name_index)
    assert amina.name == "Amina Otieno" and amina.known_as == "Mama Amina"
    assert amina.work_focus == ["land", "environment"] and amina.actor_type == "lawyer"
    assert amina.channels.get(preferred=True).channel_type == "email"
    assert amina.channels.count() == 2
    (event,) = AuditEvent.objects.filter(action="registry.imported")
    assert "2 created" in event.reason and "Amina" not in event.reason
    assert not AuditEvent.objects.filter(action="registry.defender_created").exists()


def test_each_bad_value_is_reported_with_its_line_and_column(mission: Any) -> None:
    report = _check(
        mission,
        _csv(
            GOOD[0],
            "Bad Phone,,,,,,call me,,,",
            "Bad Mail,,,,,,,amina@,,",
            "Bad Code,,,,astrology,,,,,",
            "Bad Actor,,,spy,,,,,,",
            ",,,,,,,,,",
            "No Name Here,,,,,loud,,,,",
            "Wants Fax,,,,,,0712345678,,fax,",
            "Too few,cells",
        ),
    )
    problems = {(p.line, p.column): p.message for p in report.problems}
    assert "not a phone number" in problems[(3, "phone")]
    assert "call me" not in problems[(3, "phone")]  # values never echoed into a terminal
    assert "not an e-mail address" in problems[(4, "email")]
    assert "“astrology” is not a known code" in problems[(5, "work_focus")]
    assert "spy" in problems[(6, "actor_type")]
    assert (7, "name") not in problems  # a blank line is skipped, not an error
    assert "loud" in problems[(8, "visibility")]
    assert "not one of this line's filled channel columns" in problems[(9, "preferred_channel")]
    assert "has 2 cells; the header has 10" in problems[(10, "")]
    assert report.invalid_lines == 7 and len(report.rows) == 1


def test_nothing_is_written_if_any_line_is_invalid_unless_asked(mission: Any, officer: Any) -> None:
    report = _check(mission, _csv(*GOOD, "Bad Phone,,,,,,call me,,,"))
    with pytest.raises(csvimport.ImportRefused, match="1 lines have problems"):
        csvimport.import_file(report=report, mission=mission, actor=officer)
    assert not Defender.objects.exists() and not DataKey.objects.exists()
    created = csvimport.import_file(report=report, mission=mission, actor=officer, only_valid=True)
    assert created == 2 and Defender.objects.count() == 2
    event = AuditEvent.objects.get(action="registry.imported")
    assert "1 invalid lines skipped" in event.reason


def test_duplicates_are_flagged_within_the_file_and_against_the_registry(
    mission: Any, officer: Any
) -> None:
    existing = make_defender(mission, name="Someone Else", channels=[("phone", "0799 000 111")])
    report = _check(
        mission,
        _csv(
            *GOOD,
            "Amina  OTIENO,,,,,,,,,",
            "New Person,,,,,,+254799000111,,,",
        ),
    )
    assert report.valid
    flagged = {d.line: d for d in report.duplicates}
    assert flagged[4].other_line == 2 and flagged[4].reasons == ["name"]
    assert flagged[4].message() == "Possible duplicate of line 2 (same name)."
    assert flagged[5].existing_id == existing.pk and flagged[5].reasons == ["phone"]
    # Flagged, not refused: the officer merges afterwards if they are the same person.
    assert csvimport.import_file(report=report, mission=mission, actor=officer) == 4


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            "name,region\nAmina,Coast\n".encode("latin-1") + "Zoë,Coast\n".encode("latin-1"),
            "not UTF-8 text (line 3",
        ),
        (b"name;region\nAmina;Coast\n", "separated by semicolons"),
        (b"name\tregion\nAmina\tCoast\n", "separated by tabs"),
        (b"Amina Otieno,Coast\nJoseph,Nairobi\n", "no \u201cname\u201d column"),
        (b"name,age\nAmina,40\n", "unknown columns \u201cage\u201d"),
        (b"name,name\nAmina,Amina\n", "appears twice"),
        (b"", "The file is empty."),
        (b"name,region\n", "no data lines"),
        (b'name,notes\nAmina,"' + b"x" * 200_000 + b'"\n', "Line 2 cannot be read as CSV"),
    ],
)
def test_a_malformed_file_is_refused_with_a_clear_message(
    mission: Any, data: bytes, message: str
) -> None:
    with pytest.raises(csvimport.ImportRefused) as raised:
        _check(mission, data)
    assert message in str(raised.value)


def test_a_long_cell_is_a_problem_of_its_line(mission: Any) -> None:
    report = _check(mission, b"name,notes\nAmina," + b"x" * 10_001 + b"\n")
    (problem,) = report.problems
    assert (problem.line, problem.column) == (2, "notes")
    assert "longer than 10000 characters" in problem.message


def test_too_many_lines_are_refused(mission: Any, settings: Any) -> None:
    settings.HAVEN_IMPORT_MAX_ROWS = 100
    data = _csv(*(f"Person {n}" for n in range(101)), header="name")
    with pytest.raises(csvimport.ImportRefused, match="more than 100 lines"):
        _check(mission, data)


def test_a_100000_line_file_is_refused_at_the_default_limit(mission: Any) -> None:
    data = _csv(*(f"Person {n}" for n in range(100_000)), header="name")
    with pytest.raises(csvimport.ImportRefused, match="more than 50000 lines"):
        _check(mission, data)
    assert not Defender.objects.exists()


def test_organisations_are_imported_with_their_kind(mission: Any, officer: Any) -> None:
    data = _csv(
        "Land Network,network,Coast,land,,info@land.example",
        "No Kind,,Coast,,,",
        header="name,kind,region,work_focus,phone,email",
    )
    report = _check(mission, data, kind="organisations")
    assert [(p.line, p.column) for p in report.problems] == [(3, "kind")]
    csvimport.import_file(report=report, mission=mission, actor=officer, only_valid=True)
    organisation = Organisation.objects.get()
    assert organisation.name == "Land Network" and organisation.kind == "network"
    assert ContactChannel.objects.get(organisation=organisation).value == "info@land.example"


# -- the command


def test_the_command_checks_then_imports_and_prints_no_values(
    mission: Any, officer: Any, tmp_path: Path
) -> None:
    path = tmp_path / "defenders.csv"
    path.write_bytes(_csv(*GOOD, "Bad Phone,,,,,,call me,,,"))
    out, err = io.StringIO(), io.StringIO()
    options = {"kind": "defenders", "mission": mission.slug, "user": officer.username}
    call_command("import_registry", str(path), dry_run=True, stdout=out, stderr=err, **options)
    text = out.getvalue()
    assert "line 4, column phone: This is not a phone number." in text
    assert "3 lines checked: 2 valid, 1 with problems" in text
    assert "Amina" not in text + err.getvalue() and "call me" not in text
    assert "checking" in err.getvalue()  # the progress bar
    with pytest.raises(CommandError, match="1 lines have problems"):
        call_command("import_registry", str(path), stdout=out, stderr=err, **options)
    assert not Defender.objects.exists()
    call_command("import_registry", str(path), only_valid=True, stdout=out, stderr=err, **options)
    assert Defender.objects.count() == 2 and "Imported 2 defenders." in out.getvalue()


def test_the_command_refuses_a_viewer_and_a_missing_file(
    mission: Any, officer: Any, tmp_path: Path
) -> None:
    viewer = make_user(mission, "viewer")
    path = tmp_path / "defenders.csv"
    path.write_bytes(_csv(*GOOD))
    with pytest.raises(CommandError, match="not an administrator or officer"):
        call_command(
            "import_registry",
            str(path),
            kind="defenders",
            mission=mission.slug,
            user=viewer.username,
        )
    with pytest.raises(CommandError, match="Cannot read"):
        call_command(
            "import_registry",
            str(tmp_path / "missing.csv"),
            kind="defenders",
            mission=mission.slug,
            user=officer.username,
        )


# -- the workspace


def _upload(data: bytes, action: str, kind: str = "defenders") -> dict[str, Any]:
    return {"file": SimpleUploadedFile("people.csv", data), "kind": kind, "action": action}


def test_workspace_import_needs_a_check_of_the_same_file_first(mission: Any, officer: Any) -> None:
    client = signed_in_client(officer)
    url = reverse("registry:import")
    data = _csv(*GOOD)
    response = client.post(url, _upload(data, "all"))
    assert "Check this file first" in response.content.decode()
    assert not Defender.objects.exists()
    response = client.post(url, _upload(data, "check"))
    assert "2 lines: 2 valid, 0 with problems" in response.content.decode()
    other = _csv(GOOD[0])
    response = client.post(url, _upload(other, "all"))
    assert "Check this file first" in response.content.decode()
    response = client.post(url, _upload(data, "all"))
    assert response.status_code == 302 and response.url == reverse("registry:defenders")
    assert Defender.objects.count() == 2


def test_workspace_report_shows_problems_and_refuses_a_bad_file(mission: Any, officer: Any) -> None:
    client = signed_in_client(officer)
    url = reverse("registry:import")
    page = client.post(url, _upload(_csv("Bad Phone,,,,,,call me,,,"), "check")).content.decode()
    assert "not a phone number" in page and "<td>2</td>" in page
    page = client.post(url, _upload(b"name;region\nA;B\n", "check")).content.decode()
    assert "separated by semicolons" in page


def test_workspace_upload_over_the_size_cap_is_refused(
    mission: Any, officer: Any, settings: Any
) -> None:
    settings.HAVEN_UPLOAD_MAX_BYTES = 1024
    client = signed_in_client(officer)
    data = _csv(*(f"Person {n}" for n in range(200)), header="name")
    page = client.post(reverse("registry:import"), _upload(data, "check")).content.decode()
    assert "The file is too large" in page
    assert not Defender.objects.exists()


def test_a_viewer_cannot_import(mission: Any) -> None:
    client = signed_in_client(make_user(mission, "viewer"))
    assert client.get(reverse("registry:import")).status_code == 403
