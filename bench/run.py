"""Haven's benchmark harness: server time and queries of the busy pages, throughput under load
over real HTTP, key rotation and emergency destruction, memory for a large upload and the
portal's page weights, each against its goal. ``make bench`` runs it; BENCHMARKS.md explains.

    .venv/bin/python bench/run.py [--data quick] [--database-url postgresql://...]
        [--repeat 50] [--load-seconds 30] [--skip-load] [--only flood,load] [--out bench/results]

Throwaway databases, keys and media in a temporary folder (SQLite by default). With
``--database-url`` (a PostgreSQL server) it creates ``haven_bench_<pid>`` and
``haven_bench_<pid>_keys`` on that server and drops them at the end. The data comes from
``seed_scale`` (``--data tiny|quick|global``) or from the demo commands of ``make run``
(``--data demo``). The last steps rotate the keys and then destroy them all.

Writes ``<out>/<YYYY-MM-DD>-<sqlite|postgresql>.json`` and ``.md`` and prints the table.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import json
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    ROOT,
    existing_instance,
    measure_destruction,
    measure_rotation,
    postgres_databases,
    server_memory_for_upload,
    throwaway_instance,
)

DATA_CHOICES = ("tiny", "quick", "global", "demo")
DEMO_COMMANDS = ("first_start", "demo_data", "demo_cases", "demo_monitoring", "demo_referrals")
PAGE_MS = 50.0  # every workspace page, p95 server time
PAGE_QUERIES = 15
HQ_DASHBOARD_MS = 300.0
LOAD_RATIO = 1 / 3  # case list throughput against the bare view
PORTAL_PER_SECOND = 20.0
DESTRUCTION_SECONDS = 5.0
UPLOAD_BYTES = 100 * 2**20
UPLOAD_GROWTH_MIB = 64.0
PORTAL_PAGE_BYTES = 50 * 1024
LOAD_USERS = 4


@dataclass
class Bench:
    """What the scenarios share: options, the objects chosen to request, signed-in clients."""

    options: argparse.Namespace
    work: Path
    clients: dict[str, Any] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    answers: dict[str, str] = field(
        default_factory=lambda: {
            "kind": "help",
            "at_risk": "me",
            "description": "They came at night and took the computers. " * 10,
        }
    )


Scenario = Callable[[Bench], list[dict[str, Any]]]
SCENARIOS: list[tuple[str, Scenario]] = []


def scenario(group: str) -> Callable[[Scenario], Scenario]:
    """Register a scenario; they run in the order they are declared."""

    def register(function: Scenario) -> Scenario:
        SCENARIOS.append((group, function))
        return function

    return register


# -- data


def build_data(kind: str, seed: int) -> None:
    from django.core.management import call_command

    with redirect_stdout(io.StringIO()):
        if kind == "demo":
            for command in DEMO_COMMANDS:
                call_command(command)
        else:
            from django.core.management import get_commands

            if "seed_scale" not in get_commands():
                raise SystemExit(f"--data {kind} needs manage.py seed_scale; --data demo works.")
            call_command("seed_scale", preset=kind, seed=seed)


def prepare(bench: Bench) -> None:
    """Lift the portal's abuse limits (a load test is one visitor sending hundreds of requests),
    and choose deterministically what each scenario requests, and as whom."""
    from django.db.models import Count
    from django.urls import reverse
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from haven.accounts.models import Membership, User
    from haven.cases.models import Case
    from haven.core.models import Mission
    from haven.crypto.cache import key_scope
    from haven.registry.models import ContactChannel
    from tests.factories import signed_in_client

    Mission.objects.update(portal_receipt_limit=10**9, portal_hourly_limit=10**9)
    busiest = (
        Case.objects.filter(restricted=False)
        .annotate(
            weight=Count("actions", distinct=True)
            + Count("notes", distinct=True)
            + Count("incidents", distinct=True)
        )
        .order_by("-weight", "pk")
        .first()
    )
    if busiest is None:
        raise SystemExit("The data holds no unrestricted case to measure.")
    mission = busiest.mission
    status = (
        Case.objects.filter(mission=mission)
        .values("status")
        .annotate(n=Count("pk"))
        .order_by("-n", "status")
        .first()
    )

    def bench_user(name: str, role: str, missions: list[Any]) -> Any:
        # Named for this run: an instance seeded earlier (--existing) may hold an earlier one's.
        user = User.objects.create(username=f"{name}-{os.getpid()}", must_change_password=False)
        for each in missions:
            Membership.objects.create(user=user, mission=each, role=role)
        TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        return user

    all_missions = list(Mission.objects.order_by("pk"))
    bench.users = {
        "officer": bench_user("bench-officer", "officer", [mission]),
        "viewer": bench_user("bench-viewer", "viewer", [mission]),
        "hq": bench_user("bench-hq-viewer", "viewer", all_missions),
    }
    bench.clients = {role: signed_in_client(user) for role, user in bench.users.items()}
    for client in bench.clients.values():
        session = client.session
        session["haven_mission_id"] = mission.pk
        session.save()
    with key_scope():
        channel = (
            ContactChannel.objects.filter(mission=mission, defender__isnull=False)
            .exclude(lookup="")
            .order_by("pk")
            .first()
        )
        phone = channel.value if channel is not None else ""
    query = f"?status={status['status']}&page=2" if status else "?page=2"
    bench.urls = {
        "desk": reverse("core:desk"),
        "case list": reverse("cases:list") + query,
        "case page": busiest.get_absolute_url(),
        "defender search": reverse("registry:defenders") + "?" + _encode({"q": phone}),
        "triage inbox": reverse("intake:inbox"),
        "hearing calendar": reverse("monitoring:calendar"),
        "dashboard": reverse("reports:dashboard"),
        "dashboard (all missions)": reverse("reports:all_missions"),
    }
    bench.facts = {
        "missions": len(all_missions),
        "cases": Case.objects.count(),
        "measured mission": mission.slug,
        "cases in it": Case.objects.filter(mission=mission).count(),
        "busiest case": busiest.reference,
        "phone searched": bool(phone),
    }


def _encode(query: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(query)


# -- timing helpers


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile of ``values`` (milliseconds)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return round(ordered[min(rank, len(ordered)) - 1], 2)


def timed_requests(
    send: Callable[[], Any], repeat: int, check: Callable[[Any], bool]
) -> dict[str, Any]:
    """One warm-up, one request with its queries counted on every database, then ``repeat``
    timed ones; each response must pass ``check``."""
    from tests.factories import all_queries

    response = send()
    if not check(response):
        raise AssertionError(f"warm-up answered {response.status_code}")
    with all_queries() as counted:
        send()
    queries = counted.count  # read now: the next request clears the log it reads
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        response = send()
        times.append((time.perf_counter() - begin) * 1000)
        if not check(response):
            raise AssertionError(f"answered {response.status_code}")
    return {
        "requests": repeat,
        "p50_ms": percentile(times, 0.50),
        "p95_ms": percentile(times, 0.95),
        "p99_ms": percentile(times, 0.99),
        "mean_ms": round(statistics.fmean(times), 2),
        "queries": queries,
        "bytes": len(response.content),
    }


def _ok(response: Any) -> bool:
    return bool(response.status_code == 200)


def page_row(
    bench: Bench, name: str, role: str, *, goal_ms: float = PAGE_MS, workspace: bool = True
) -> dict[str, Any]:
    url = bench.urls[name]
    client = bench.clients[role]
    row = {"scenario": name, "as": role, "url": url}
    row.update(timed_requests(lambda: client.get(url), bench.options.repeat, _ok))
    row["goal"] = f"p95 ≤ {goal_ms:.0f} ms" + (f", ≤ {PAGE_QUERIES} queries" if workspace else "")
    row["pass"] = row["p95_ms"] <= goal_ms and (not workspace or row["queries"] <= PAGE_QUERIES)
    return row


# -- scenarios: server time, in-process, full middleware


@scenario("server time")
def workspace_pages(bench: Bench) -> list[dict[str, Any]]:
    pages = [
        ("desk", "officer"),
        ("case list", "officer"),
        ("case page", "officer"),
        ("defender search", "officer"),
        ("triage inbox", "officer"),
        ("hearing calendar", "officer"),
        ("dashboard", "viewer"),
    ]
    rows = [page_row(bench, name, role) for name, role in pages]
    rows.append(page_row(bench, "dashboard (all missions)", "hq", goal_ms=HQ_DASHBOARD_MS))
    rows[-1]["goal"] = f"p95 ≤ {HQ_DASHBOARD_MS:.0f} ms (headquarters, every mission)"
    rows[-1]["pass"] = rows[-1]["p95_ms"] <= HQ_DASHBOARD_MS
    rows.append(_uncached_headquarters(bench))
    return rows


def _uncached_headquarters(bench: Bench) -> dict[str, Any]:
    """The headquarters page keeps its counts a few minutes: the row above is what a viewer
    waits for within them, this one what the first visit after them costs."""
    from django.test import override_settings

    client, url = bench.clients["hq"], bench.urls["dashboard (all missions)"]
    repeat = max(3, bench.options.repeat // 10)
    with override_settings(HAVEN_DASHBOARD_CACHE_SECONDS=0):
        row = {"scenario": "dashboard (all missions), counted afresh", "as": "hq", "url": url}
        row.update(timed_requests(lambda: client.get(url), repeat, _ok))
    row["goal"] = "(measured: the first visit once the kept counts are 5 minutes old)"
    return row


def _jpeg(size: int) -> bytes:
    """A photo-like JPEG of about ``size`` bytes (noise compresses badly, like a photo)."""
    from PIL import Image

    side = max(64, int(size**0.5))
    for _attempt in range(3):
        buffer = io.BytesIO()
        image = Image.effect_noise((side, side), 64).convert("RGB")
        image.save(buffer, format="JPEG", quality=92)
        made = buffer.getbuffer().nbytes
        if abs(made - size) <= size * 0.05:
            break
        side = max(64, int(side * (size / made) ** 0.5))
    return buffer.getvalue()


@scenario("server time")
def portal_requests(bench: Bench) -> list[dict[str, Any]]:
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from haven.intake import tokens

    visitor = Client()
    repeat = bench.options.repeat
    form = {"scenario": "portal form page", "as": "visitor", "url": "/request/"}
    form.update(timed_requests(lambda: visitor.get("/request/"), repeat, _ok))
    photo = _jpeg(2**20)
    receipts: list[str] = []

    def submit() -> Any:
        upload = SimpleUploadedFile("photo.jpg", photo, content_type="image/jpeg")
        token = tokens.issue("request")
        data = {**bench.answers, "form_token": token, "attachments": [upload]}
        response = visitor.post("/request/", data)
        text = response.content.decode()
        if "secret receipt" in text:
            shown = text.split('class="secret receipt"', 1)[1].split(">", 1)[1].split("<")[0]
            receipts.append(html.unescape(shown).strip())
        return response

    def accepted(response: Any) -> bool:
        return bool(response.status_code == 200 and b"secret receipt" in response.content)

    sent = {
        "scenario": f"portal submission, one {len(photo) / 2**20:.1f} MB photo",
        "as": "visitor",
        "url": "/request/ (POST)",
    }
    sent.update(timed_requests(submit, max(3, repeat // 5), accepted))
    receipt = receipts[0]

    def opened(response: Any) -> bool:
        # The status page, not the sign-in form again: it offers to add information.
        return bool(response.status_code == 200 and b'name="text"' in response.content)

    login = {"scenario": "receipt login", "as": "visitor", "url": "/receipt/ (POST)"}
    login.update(
        timed_requests(
            lambda: visitor.post(
                "/receipt/", {"passphrase": receipt, "form_token": tokens.issue("receipt")}
            ),
            max(3, repeat // 5),
            opened,
        )
    )
    kdf = (
        f"Argon2id ops={settings.HAVEN_RECEIPT_KDF_OPSLIMIT}, "
        f"mem={settings.HAVEN_RECEIPT_KDF_MEMLIMIT // 2**20} MiB"
    )
    for row in (form, sent, login):
        row["goal"] = "(measured; the portal's goals are the load and weight rows)"
        row["pass"] = None
    sent["receipt_kdf"] = login["receipt_kdf"] = kdf
    return [form, sent, login]


@scenario("portal weight")
def portal_weights(bench: Bench) -> list[dict[str, Any]]:
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse
    from django.utils import translation

    pages = ["portal:portal_home", "intake_portal:request", "intake_portal:receipt"]
    pages += ["intake_portal:what_we_do", "intake_portal:safety"]
    rows = []
    visitor = Client()
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            urls = [reverse(name) for name in pages]
        for url in urls:
            response = visitor.get(url)
            if response.status_code != 200:
                raise AssertionError(f"{url} answered {response.status_code}")
            body = response.content
            rows.append(
                {
                    "scenario": f"portal page {url}",
                    "language": language,
                    "url": url,
                    "bytes": len(body),
                    "scripts": body.lower().count(b"<script"),
                    "goal": f"≤ {PORTAL_PAGE_BYTES // 1024} KB, 0 scripts",
                    "pass": len(body) <= PORTAL_PAGE_BYTES and b"<script" not in body.lower(),
                }
            )
    return rows


@scenario("memory")
def large_upload(bench: Bench) -> list[dict[str, Any]]:
    """What a portal request with one large file costs in memory. Files are encrypted to disk
    as they arrive, so the cost must not grow with the file. Every accepted request also
    derives its receipt's keys with Argon2id, whose working memory (64 MiB at the production
    cost) comes and goes whatever the files: the same request with no file is measured first,
    and the file's own cost is the growth beyond it.

    The 100 MB file is sent with the portal's cap raised to take it (a mission may raise
    HAVEN_UPLOAD_MAX_BYTES); when the configured cap is lower, it is also sent at that cap
    and must be refused."""
    from django.conf import settings
    from django.test import override_settings

    cap = int(settings.HAVEN_UPLOAD_MAX_BYTES)
    size = bench.options.upload_bytes or UPLOAD_BYTES
    head = b"\x00\x00\x00\x18ftypmp42"  # a video, kept as sent
    filler = os.urandom(2048)
    body = (head + filler * (size // len(filler) + 1))[:size]
    without = server_memory_for_upload(bench.answers, None)
    rows: list[dict[str, Any]] = [
        {
            "scenario": "portal request with no file (the receipt's Argon2id)",
            "upload_cap_bytes": cap,
            **without,
            "goal": "(measured: what every accepted request costs, the baseline below)",
            "pass": None,
        }
    ]
    with override_settings(HAVEN_UPLOAD_MAX_BYTES=max(cap, size)):
        measured = server_memory_for_upload(bench.answers, body)
    growth = round(measured["rss_growth_mib"] - without["rss_growth_mib"], 2)
    rows.append(
        {
            "scenario": f"portal upload of {size / 2**20:.1f} MB",
            "upload_cap_bytes": max(cap, size),
            **measured,
            "growth_beyond_request_mib": growth,
            "goal": f"growth beyond the request without a file ≤ {UPLOAD_GROWTH_MIB:.0f} MB,"
            " accepted",
            "pass": bool(measured["accepted"])
            and growth <= UPLOAD_GROWTH_MIB
            and measured["python_peak_mib"] <= UPLOAD_GROWTH_MIB,
        }
    )
    if cap < size:
        refused = server_memory_for_upload(bench.answers, body)
        rows.append(
            {
                "scenario": f"portal upload of {size / 2**20:.1f} MB over the configured cap",
                "upload_cap_bytes": cap,
                **refused,
                "goal": "refused, peak growth ≤ 64 MB",
                "pass": not refused["accepted"] and refused["rss_growth_mib"] <= UPLOAD_GROWTH_MIB,
            }
        )
    del body
    return rows


# -- load over HTTP


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def locust_command() -> list[str] | None:
    """How to start locust: this Python's module, else ``BENCH_LOCUST`` or one on the PATH."""
    import importlib.util

    if importlib.util.find_spec("locust") is not None:
        return [sys.executable, "-m", "locust"]
    named = os.environ.get("BENCH_LOCUST") or shutil.which("locust")
    return [named] if named else None


def _server_environment() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HAVEN_") and key != "DJANGO_SETTINGS_MODULE"
    }
    for key in ("HAVEN_VAR_DIR", "HAVEN_DATABASE_URL", "HAVEN_KEYSTORE_URL"):
        if key in os.environ:
            env[key] = os.environ[key]
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


@contextmanager
def gunicorn_server(work: Path) -> Iterator[str]:
    """Haven under gunicorn with 2 sync workers on a free loopback port, with the options of
    ``manage.py serve`` (no access log, 120 s timeout), against this run's databases."""
    from django.db import connections

    connections.close_all()
    port = _free_port()
    log = (work / "gunicorn.log").open("wb")
    command = [sys.executable, "-m", "gunicorn", "haven.wsgi:application"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", "2", "--timeout", "120"]
    command += ["--graceful-timeout", "10", "--log-level", "warning", "--error-logfile", "-"]
    server = subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=_server_environment(), stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"gunicorn did not start: {(work / 'gunicorn.log').read_text()[-2000:]}"
                )
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def warm_up(url: str, env: dict[str, str]) -> None:
    """A few requests to each page first, so that the timed run finds both workers loaded."""
    cookie = f"{env['BENCH_SESSION_COOKIE']}={env['BENCH_SESSIONS'].split(',')[0]}"
    for path, headers in (
        ("/healthz", {}),
        (env["BENCH_CASE_LIST"], {"Cookie": cookie}),
        ("/request/", {}),
    ):
        for _ in range(6):
            request = urllib.request.Request(url + path, headers=headers)  # noqa: S310
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                answer.read()


def run_locust(
    bench: Bench,
    url: str,
    user_class: str,
    request_name: str,
    env: dict[str, str],
    *,
    users: int = LOAD_USERS,
    also: tuple[str, ...] = (),
    counted: str = "Aggregated",
) -> dict[str, Any]:
    """One headless locust run of ``user_class`` (and the classes in ``also``, each with its
    own fixed count); ``request_name``'s rate, and the failures of the ``counted`` row."""
    command = locust_command()
    assert command is not None
    prefix = bench.work / f"locust-{user_class}"
    seconds = bench.options.load_seconds
    command = [
        *command,
        "-f",
        str(Path(__file__).resolve().parent / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{seconds}s",
        "--host",
        url,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
        user_class,
        *also,
    ]
    finished = subprocess.run(  # noqa: S603
        command,
        env={**os.environ, **env},
        capture_output=True,
        timeout=seconds + 120,
        check=False,
    )
    stats = Path(f"{prefix}_stats.csv")
    if finished.returncode != 0 or not stats.exists():
        raise RuntimeError(f"locust failed: {finished.stderr.decode()[-2000:]}")
    rows = {row["Name"]: row for row in csv.DictReader(stats.open())}
    # A run too short (or a server too slow) to finish one such request has no row for it.
    empty = {"Request Count": "0", "Failure Count": "0", "50%": "N/A", "95%": "N/A"}
    row = rows.get(request_name, empty)
    failures = rows.get(counted, empty)
    return {
        "requests": int(row["Request Count"]),
        "errors": int(failures["Failure Count"]),
        "requests_per_second": round(int(row["Request Count"]) / seconds, 2),
        # Every request of the run, the other users' included (the flood's, for one).
        "all_requests_per_second": round(
            int(rows.get("Aggregated", empty)["Request Count"]) / seconds, 2
        ),
        "p50_ms": float(row["50%"]) if row["50%"] != "N/A" else None,
        "p95_ms": float(row["95%"]) if row["95%"] != "N/A" else None,
        "seconds": seconds,
        "users": users,
    }


@scenario("load")
def load(bench: Bench) -> list[dict[str, Any]]:
    if bench.options.skip_load:
        return []
    if locust_command() is None:
        raise RuntimeError("locust is not installed: make install-dev (or --skip-load)")
    from django.conf import settings

    from tests.factories import signed_in_client

    officer = bench.users["officer"]
    sessions = []
    for _ in range(LOAD_USERS):
        client = signed_in_client(officer)
        session = client.session
        session["haven_mission_id"] = bench.clients["officer"].session["haven_mission_id"]
        session.save()
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    attachment = bench.work / "photo.jpg"
    attachment.write_bytes(_jpeg(100 * 1024))
    env = {
        "BENCH_SESSIONS": ",".join(sessions),
        "BENCH_SESSION_COOKIE": settings.SESSION_COOKIE_NAME,
        "BENCH_CASE_LIST": bench.urls["case list"],
        "BENCH_ATTACHMENT": str(attachment),
    }
    with gunicorn_server(bench.work) as url:
        warm_up(url, env)
        bare = run_locust(bench, url, "BareUser", "bare view", env)
        cases = run_locust(bench, url, "CaseListUser", "case list", env)
        portal = run_locust(bench, url, "PortalUser", "portal submission", env)
    base = bare["requests_per_second"] or 1
    rows = [
        {"scenario": "load: bare view (/healthz)", **bare, "ratio_to_bare": 1.0},
        {
            "scenario": "load: case list as an officer",
            **cases,
            "ratio_to_bare": round(cases["requests_per_second"] / base, 3),
        },
        {
            "scenario": "load: portal submission, one "
            f"{attachment.stat().st_size // 1024} KB photo",
            **portal,
            "ratio_to_bare": round(portal["requests_per_second"] / base, 3),
            "receipt_kdf": f"Argon2id ops={settings.HAVEN_RECEIPT_KDF_OPSLIMIT}, "
            f"mem={settings.HAVEN_RECEIPT_KDF_MEMLIMIT // 2**20} MiB",
        },
    ]
    rows[0]["goal"], rows[0]["pass"] = "0 errors (the baseline)", bare["errors"] == 0
    rows[1]["goal"] = "≥ 1/3 of the bare view, 0 errors"
    rows[1]["pass"] = rows[1]["ratio_to_bare"] >= LOAD_RATIO and cases["errors"] == 0
    rows[2]["goal"] = f"≥ {PORTAL_PER_SECOND:.0f}/s, 0 errors"
    rows[2]["pass"] = portal["requests_per_second"] >= PORTAL_PER_SECOND and portal["errors"] == 0
    return rows


@scenario("flood")
def flood(bench: Bench) -> list[dict[str, Any]]:
    """Defenders sending requests while 16 clients without cookies send wrong receipts and junk
    posts at full speed (docs/portal-limits.md): the same genuine senders with and without the
    flood, in one run, on the same server. The portal's budgets are the defaults for receipt
    checks; the hourly cap on stored requests is lifted so that it is the flood, not the cap,
    that is measured."""
    if bench.options.skip_load:
        return []
    if locust_command() is None:
        raise RuntimeError("locust is not installed: make install-dev (or --skip-load)")
    from haven.core.models import Mission

    receipt_limit = Mission._meta.get_field("portal_receipt_limit").get_default()
    Mission.objects.update(portal_receipt_limit=receipt_limit)
    attachment = bench.work / "photo.jpg"
    attachment.write_bytes(_jpeg(100 * 1024))
    env = {"BENCH_ATTACHMENT": str(attachment), "BENCH_SESSIONS": ""}
    try:
        with gunicorn_server(bench.work) as url:
            quiet = run_locust(
                bench,
                url,
                "FloodPortalUser",
                "portal submission",
                env,
                users=4,
                counted="portal submission",
            )
            flooded = run_locust(
                bench,
                url,
                "FloodPortalUser",
                "portal submission",
                env,
                users=20,
                also=("FloodUser",),
                counted="portal submission",
            )
    finally:
        Mission.objects.update(portal_receipt_limit=10**9)
    ratio = round(flooded["requests_per_second"] / (quiet["requests_per_second"] or 1), 3)
    rows = [
        {"scenario": "flood: 4 defenders sending, no flood", **quiet},
        {
            "scenario": "flood: the same 4 defenders while 16 cookie-less clients send wrong "
            "receipts and junk posts",
            **flooded,
            "ratio_to_no_flood": ratio,
        },
    ]
    rows[0]["goal"], rows[0]["pass"] = "0 errors (the baseline)", quiet["errors"] == 0
    rows[1]["goal"] = "≥ 50% of the rate without the flood, 0 errors for the defenders"
    rows[1]["pass"] = ratio >= 0.5 and flooded["errors"] == 0
    return rows


# -- faults: bench/soak.py, on an instance of its own (make bench asks for it)


@scenario("faults")
def fault_soak(bench: Bench) -> list[dict[str, Any]]:
    if not bench.options.soak_faults:
        return []
    import soak

    result = soak.soak(faults=bench.options.soak_faults, database_url=bench.options.database_url)
    goal = f"≥ {bench.options.soak_faults:,} faults, 0 acknowledged-but-lost, 0 unclear answers"
    return [{"scenario": "fault soak", **result, "measured": soak.summary(result), "goal": goal}]


# -- destructive, last


@scenario("keys")
def rotation_then_destruction(bench: Bench) -> list[dict[str, Any]]:
    rotated = measure_rotation()
    destroyed = measure_destruction()
    return [
        {"scenario": "key rotation (re-wrap every key)", **rotated, "goal": "(measured)"},
        {
            "scenario": "emergency destruction",
            **destroyed,
            "goal": f"≤ {DESTRUCTION_SECONDS:.0f} s",
            "pass": destroyed["seconds"] <= DESTRUCTION_SECONDS,
        },
    ]


# -- report


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def measure_text(row: dict[str, Any]) -> str:
    if "measured" in row:
        return str(row["measured"])
    if "p95_ms" in row and "queries" in row:
        return (
            f"p50 {row['p50_ms']:.1f} / p95 {row['p95_ms']:.1f} / p99 {row['p99_ms']:.1f} ms,"
            f" {row['queries']} queries, {row['bytes'] / 1024:.1f} KiB"
        )
    if "requests_per_second" in row:
        if "ratio_to_bare" in row:
            ratio = f" ({row['ratio_to_bare']:.2f} of bare)"
        elif "ratio_to_no_flood" in row:
            ratio = f" ({row['ratio_to_no_flood']:.2f} of the rate without the flood)"
        else:
            ratio = ""
        return (
            f"{row['requests_per_second']:.1f}/s{ratio},"
            f" {row['errors']} errors, p50 {row['p50_ms']} / p95 {row['p95_ms']} ms"
        )
    if "scripts" in row:
        return f"{row['bytes'] / 1024:.1f} KiB, {row['scripts']} scripts"
    if "rss_growth_mib" in row:
        beyond = row.get("growth_beyond_request_mib")
        if beyond is not None:
            beyond = round(beyond, 1) or 0.0  # noise below zero shows as 0.0, not -0.0
        return (
            f"RSS peak growth {row['rss_growth_mib']:.1f} MiB"
            + (
                f" ({beyond:.1f} MiB beyond the request without a file)"
                if beyond is not None
                else ""
            )
            + f", Python peak {row['python_peak_mib']:.1f} MiB,"
            f" {'accepted' if row['accepted'] else 'refused'}"
            f" (cap {row['upload_cap_bytes'] / 2**20:.0f} MB)"
        )
    if "keys_per_second" in row:
        return f"{row['keys']:,} keys in {row['seconds']:.2f} s ({row['keys_per_second']}/s)"
    if "data_keys" in row:
        return f"{row['seconds']:.2f} s at {row['data_keys']:,} data keys"
    return ""


def markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    lines = [
        f"### {meta['date']}, {meta['database']}, data: {meta['data']}",
        "",
        f"{meta['machine']['cpu']}, {meta['machine']['cores']} cores,"
        f" {meta['machine']['memory']}; Python {meta['machine']['python']};"
        f" {meta['repeat']} requests per page after one warm-up; facts: "
        + ", ".join(f"{key} {value}" for key, value in meta["facts"].items()),
        "",
        "| group | scenario | as | measured | goal | pass |",
        "|---|---|---|---|---|---|",
    ]
    for row in report["results"]:
        verdict = {True: "yes", False: "**NO**", None: "—"}[row.get("pass")]
        who = row.get("as") or row.get("language", "")
        lines.append(
            f"| {row['group']} | {row['scenario']} | {who} | {measure_text(row)}"
            f" | {row.get('goal', '')} | {verdict} |"
        )
    return "\n".join(lines) + "\n"


def run(options: argparse.Namespace) -> dict[str, Any]:
    database_url = options.database_url
    if options.existing:
        return _run(options, "", "")
    if database_url:
        with postgres_databases(database_url) as (data_url, keys_url):
            return _run(options, data_url, keys_url)
    return _run(options, "", "")


def _run(options: argparse.Namespace, data_url: str, keys_url: str) -> dict[str, Any]:
    built: float | None = None
    if options.existing:
        work = existing_instance(Path(options.existing).resolve())
    else:
        if not data_url:
            # SQLite in the temporary folder, whatever databases this shell names.
            os.environ.pop("HAVEN_DATABASE_URL", None)
            os.environ.pop("HAVEN_KEYSTORE_URL", None)
        work = throwaway_instance(data_url, keys_url)
        started = time.perf_counter()
        build_data(options.data, options.seed)
        built = round(time.perf_counter() - started, 1)
    from django.db import connections

    bench = Bench(options=options, work=work)
    prepare(bench)
    results: list[dict[str, Any]] = []
    for group, function in SCENARIOS:
        if options.only and group not in options.only.split(","):
            continue
        if options.existing and function is rotation_then_destruction:
            print(
                "== key rotation and destruction skipped: they would end the instance",
                file=sys.stderr,
            )
            continue
        print(f"== {function.__name__}", file=sys.stderr)
        for row in function(bench):
            results.append({"group": group, **row})
    for row in results:
        row.setdefault("pass", None)
    vendor = connections["default"].vendor
    report = {
        "meta": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "database": vendor,
            "data": f"seeded earlier in {options.existing}" if options.existing else options.data,
            "seed": None if options.existing else options.seed,
            "data_built_seconds": built,
            "repeat": options.repeat,
            "load_seconds": None if options.skip_load else options.load_seconds,
            "machine": machine(),
            "facts": bench.facts,
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
        },
        "results": results,
    }
    if options.out:
        out = Path(options.out)
        out.mkdir(parents=True, exist_ok=True)
        stem = out / f"{datetime.now(UTC):%Y-%m-%d}-{vendor}"
        stem.with_suffix(".json").write_text(json.dumps(report, indent=2, default=str) + "\n")
        stem.with_suffix(".md").write_text(markdown(report))
    if not options.existing:
        shutil.rmtree(work, ignore_errors=True)
    return report


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", choices=DATA_CHOICES, default="quick")
    parser.add_argument("--seed", type=int, default=1, help="seed_scale's seed")
    parser.add_argument("--database-url", default="", help="a PostgreSQL server (else SQLite)")
    parser.add_argument("--repeat", type=int, default=50, help="timed requests per page")
    parser.add_argument("--load-seconds", type=int, default=30, help="per load scenario")
    parser.add_argument("--skip-load", action="store_true", help="no gunicorn + locust run")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"), help="'' to not write")
    parser.add_argument(
        "--existing",
        default="",
        help=(
            "bench an instance seeded earlier (its HAVEN_VAR_DIR; PostgreSQL when the"
            " environment's HAVEN_DATABASE_URL says so) instead of a new one; the key rotation"
            " and destruction steps are skipped"
        ),
    )
    parser.add_argument(
        "--upload-bytes", type=int, default=0, help="size of the memory scenario's upload"
    )
    parser.add_argument(
        "--only", default="", help="run only these scenario groups (comma-separated: flood,load)"
    )
    parser.add_argument(
        "--soak-faults", type=int, default=0, help="run bench/soak.py with this many faults"
    )
    return parser


def main() -> None:
    report = run(parser().parse_args())
    print(markdown(report))


if __name__ == "__main__":
    main()
