"""Measure the registry's CSV import on this machine: check and import of N invented defenders.

    .venv/bin/python bench/registry_import.py [--rows 10000] [--database-url postgresql://...]

Writes a CSV of invented people (Faker, fixed seed) with a name, region, work focus, a phone
number and, for half, an e-mail address; then times ``check_file`` (validation, blind
indexes, duplicate search) and ``import_file`` (a data key, encrypted fields and channels per
row, one transaction), as ``manage.py import_registry`` runs them. Throwaway databases and
keys in a temporary folder (SQLite by default). Nothing is asserted: it measures.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import time

from harness import throwaway_instance


def _people(rows: int) -> bytes:
    from faker import Faker

    fake = Faker(["en_GB", "fr_FR", "sw"])
    fake.seed_instance(7)
    rng = random.Random(7)  # noqa: S311  (invented data, repeatable on purpose)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "region", "work_focus", "visibility", "phone", "email", "notes"])
    for n in range(rows):
        writer.writerow(
            [
                fake.name(),
                rng.choice(["Nairobi", "Mombasa", "Kisumu", "Turkana", "Garissa"]),
                rng.choice(["land", "environment;land", "media", "women;lgbtqi"]),
                rng.choice(["public", "discreet", "anonymous"]),
                f"+254 7{n // 1_000_000:02d} {n % 1_000_000:06d}",
                f"person{n}@example.org" if n % 2 else "",
                fake.sentence(),
            ]
        )
    return out.getvalue().encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default SQLite)")
    args = parser.parse_args()

    throwaway_instance(args.database_url)
    from django.db import connections

    from haven.accounts.models import Membership, User
    from haven.core.models import Mission
    from haven.crypto.cache import key_scope
    from haven.registry import csvimport

    mission = Mission.objects.create(name="Bench", slug="bench", country="KE")
    officer = User.objects.create(username="bench-officer")
    Membership.objects.create(user=officer, mission=mission, role="officer")
    data = _people(args.rows)
    with key_scope():
        start = time.perf_counter()
        report = csvimport.check_file(data=data, kind="defenders", mission=mission)
        checked = time.perf_counter() - start
        start = time.perf_counter()
        created = csvimport.import_file(report=report, mission=mission, actor=officer)
        imported = time.perf_counter() - start
    print(f"| database | {connections['default'].vendor} |")
    print("|---|---|")
    print(f"| rows | {args.rows:,} ({len(data) / 2**20:.1f} MiB) |")
    print(f"| check (dry run) | {checked:.1f} s, {args.rows / checked:,.0f} rows/s |")
    print(f"| import | {imported:.1f} s, {created / imported:,.0f} rows/s |")


if __name__ == "__main__":
    main()
