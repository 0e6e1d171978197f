"""Measure the case pages and the dashboards on the demo data: server time and queries for the
desk, the case list and a case page, as the demo administrator sees them after `make run`, and
the dashboard, desk and annual report input as the demo leadership viewer sees them.

    .venv/bin/python bench/cases.py [--repeat 50] [--database-url postgresql://...]

Throwaway databases and keys in a temporary folder (SQLite by default), filled by the same
commands as `make run` (first_start, demo_data, demo_cases, demo_monitoring,
demo_referrals). Each page is requested through Django's full middleware stack in this
process; the time is the server's work per request (no network), the median and the 95th
percentile of ``--repeat`` requests after one warm-up.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from contextlib import redirect_stdout

from harness import throwaway_instance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--database-url", default="")
    options = parser.parse_args()
    throwaway_instance(options.database_url)

    from django.core.management import call_command
    from django.db import connections
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from haven.accounts.models import User
    from haven.cases.models import Case
    from tests.factories import signed_in_client

    started = time.perf_counter()
    with redirect_stdout(io.StringIO()):
        call_command("first_start")
        call_command("demo_data")
        call_command("demo_cases")
        call_command("demo_monitoring")
        call_command("demo_referrals")
    print(f"demo data built in {time.perf_counter() - started:.1f} s")
    clients = {}
    for role in ("admin", "viewer"):
        user = User.objects.get(memberships__mission__slug="demo", memberships__role=role)
        User.objects.filter(pk=user.pk).update(must_change_password=False)
        TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        clients[role] = signed_in_client(User.objects.get(pk=user.pk))
    busiest = max(
        Case.objects.filter(restricted=False),
        key=lambda case: sum(
            len(getattr(case, related).all())
            for related in ("incidents", "riskassessments", "actions", "followups", "notes")
        ),
    )
    pages = {
        "desk": ("admin", reverse("core:desk")),
        "case list": ("admin", reverse("cases:list")),
        f"case page ({busiest.reference})": ("admin", busiest.get_absolute_url()),
        "dashboard (viewer)": ("viewer", reverse("reports:dashboard")),
        "desk (viewer)": ("viewer", reverse("core:desk")),
        "annual input (viewer)": ("viewer", reverse("reports:annual")),
    }
    print(f"{Case.objects.count()} cases; {options.repeat} requests per page")
    for name, (role, url) in pages.items():
        client = clients[role]
        assert client.get(url).status_code == 200, name  # warm-up
        contexts = [CaptureQueriesContext(connections[alias]) for alias in connections]
        for context in contexts:
            context.__enter__()
        client.get(url)
        for context in contexts:
            context.__exit__(None, None, None)
        queries = sum(len(context) for context in contexts)
        times = []
        for _n in range(options.repeat):
            begin = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - begin) * 1000)
            assert response.status_code == 200
        times.sort()
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(
            f"{name:<22} {queries:>3} queries   median {statistics.median(times):6.1f} ms"
            f"   p95 {p95:6.1f} ms   {len(response.content) / 1024:5.1f} KiB"
        )


if __name__ == "__main__":
    main()
