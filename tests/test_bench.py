"""``make bench`` keeps working: every benchmark scenario runs once at the smallest size.

Correctness only, never timings: each scenario answers with the pages it measures, the load
run over real HTTP (gunicorn and locust, two seconds each) ends with no error, and the results
are written. The harness runs in a process of its own, on throwaway databases it creates
(SQLite in a temporary folder, or its own databases on the PostgreSQL server under test).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOCUST = importlib.util.find_spec("locust") is not None or bool(os.environ.get("BENCH_LOCUST"))
REPEAT = 2


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("bench")
    env = {key: value for key, value in os.environ.items() if not key.startswith("HAVEN_")}
    command = [sys.executable, str(ROOT / "bench" / "run.py"), "--data", "tiny"]
    command += ["--repeat", str(REPEAT), "--out", str(out), "--upload-bytes", str(2 * 2**20)]
    command += ["--load-seconds", "2"] if LOCUST else ["--skip-load"]
    database = os.environ.get("HAVEN_DATABASE_URL", "")
    if database.startswith(("postgres://", "postgresql://")):
        command += ["--database-url", database]
    finished = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert finished.returncode == 0, finished.stderr[-4000:]
    written = sorted(out.iterdir())
    assert [path.suffix for path in written] == [".json", ".md"]
    data: dict[str, Any] = json.loads(written[0].read_text())
    data["table"] = written[1].read_text()
    return data


def _rows(report: dict[str, Any], group: str) -> list[dict[str, Any]]:
    return [row for row in report["results"] if row["group"] == group]


def test_every_page_is_measured_with_its_queries_and_goal(report: dict[str, Any]) -> None:
    pages = {row["scenario"]: row for row in _rows(report, "server time")}
    workspace = ["desk", "case list", "case page", "defender search", "triage inbox"]
    workspace += ["hearing calendar", "dashboard", "dashboard (all missions)"]
    for name in [*workspace, "portal form page", "receipt login"]:
        assert name in pages, name
    assert any(name.startswith("portal submission") for name in pages)
    for name, row in pages.items():
        assert row["requests"] >= REPEAT, name
        assert row["queries"] >= 1, name
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"], name
    for name in workspace:
        assert pages[name]["pass"] in {True, False}, name
    assert pages["dashboard (all missions)"]["as"] == "hq"
    assert "?q=" in pages["defender search"]["url"] and report["meta"]["facts"]["phone searched"]


def test_portal_pages_are_weighed_in_every_language(report: dict[str, Any]) -> None:
    from django.conf import settings

    weights = _rows(report, "portal weight")
    assert {row["language"] for row in weights} == {code for code, _ in settings.LANGUAGES}
    assert all(row["bytes"] > 0 and row["scripts"] == 0 for row in weights)


def test_upload_memory_rotation_and_destruction_are_measured(report: dict[str, Any]) -> None:
    without, upload = _rows(report, "memory")  # 2 MB: under the cap, so nothing refused
    assert without["accepted"] and upload["accepted"] and upload["status"].startswith("200")
    assert upload["growth_beyond_request_mib"] == round(
        upload["rss_growth_mib"] - without["rss_growth_mib"], 2
    )
    rotation, destruction = _rows(report, "keys")
    assert rotation["keys"] > 0 and rotation["keys_per_second"] > 0
    assert destruction["data_keys"] > 0 and destruction["seconds"] > 0


def test_results_table_carries_goals(report: dict[str, Any]) -> None:
    table = report["table"]
    assert "| group | scenario | as | measured | goal | pass |" in table
    assert "p95 ≤ 50 ms, ≤ 15 queries" in table


@pytest.mark.skipif(not LOCUST, reason="locust is not installed (make install-dev)")
def test_load_over_http_runs_without_errors(report: dict[str, Any]) -> None:
    rows = {row["scenario"].split(",")[0]: row for row in _rows(report, "load")}
    assert set(rows) == {
        "load: bare view (/healthz)",
        "load: case list as an officer",
        "load: portal submission",
    }
    for name, row in rows.items():
        assert row["requests"] > 0, name
        assert row["errors"] == 0, name
        assert row["ratio_to_bare"] > 0, name


def test_the_flood_scenario_measures_defenders_with_and_without_the_flood(
    report: dict[str, Any],
) -> None:
    if not LOCUST:
        pytest.skip("locust is not installed")
    quiet, flooded = _rows(report, "flood")
    assert quiet["scenario"].startswith("flood: 4 defenders sending, no flood")
    assert "16 cookie-less clients" in flooded["scenario"]
    assert (quiet["users"], flooded["users"]) == (4, 20)
    # The defenders' own requests fail on nothing, flood or not; the rates are measured.
    assert quiet["errors"] == 0 and flooded["errors"] == 0
    assert flooded["ratio_to_no_flood"] >= 0 and flooded["pass"] in {True, False}


def test_an_instance_seeded_earlier_is_benched_and_left_whole(tmp_path: Path) -> None:
    """``--existing``: the pages measured on data built once, the instance kept afterwards
    (its keys neither rotated nor destroyed), and a second run on it works too."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HAVEN_")}
    env |= {"HAVEN_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "tests.settings"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    for step in (
        ["migrate"],
        ["migrate", "--database", "keys"],
        ["seed_scale", "--preset", "tiny"],
    ):
        subprocess.run([*manage, *step, "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    command = [sys.executable, str(ROOT / "bench" / "run.py"), "--existing", str(tmp_path / "var")]
    command += ["--repeat", "1", "--skip-load", "--out", str(tmp_path / "out")]
    command += ["--upload-bytes", str(2**20)]
    for _run in range(2):
        finished = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        assert finished.returncode == 0, finished.stderr[-4000:]
    report = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    assert report["meta"]["data_built_seconds"] is None
    assert "seeded earlier" in report["meta"]["data"]
    groups = {row["group"] for row in report["results"]}
    assert "server time" in groups and "keys" not in groups
    seeded = subprocess.run(
        [*manage, "seed_scale", "--preset", "tiny"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "Already complete" in seeded.stdout  # the data is all still there
