"""``manage.py seed_scale``: fill an empty instance with invented missions at a global size.

    manage.py seed_scale --preset global      # 200 missions, 250,000 cases, 2.5 M case rows
    manage.py seed_scale --preset quick       # a tenth of that, for everyday use
    manage.py seed_scale --cases 1000 ...     # any size; options override the preset

Synthetic data only, for benchmarks; it refuses an instance holding missions it did not
make. Resumable: each mission is committed whole, so after an interruption the same command
continues where it stopped, and once everything is there it says so and does nothing.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from tqdm import tqdm

from haven.scale.generator import (
    PRESETS,
    RefusedInstance,
    Sizes,
    check_instance,
    generate,
    missing_missions,
)


class Command(BaseCommand):
    help = "Fill an empty instance with invented missions, people and cases, at scale."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--preset", choices=sorted(PRESETS), default="quick")
        parser.add_argument(
            "--quick", action="store_const", dest="preset", const="quick", help="--preset quick"
        )
        for name in ("missions", "defenders", "organisations", "cases", "rows"):
            parser.add_argument(f"--{name}", type=int, help=f"Total {name} (overrides the preset).")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--batch", type=int, default=2000, help="Rows per INSERT.")
        parser.add_argument(
            "--limit", type=int, help="Make at most this many missions in this run, then stop."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run on an instance that holds missions the generator did not make.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        preset = PRESETS[options["preset"]]
        sizes = Sizes(
            **{
                field.name: options[field.name]
                if options[field.name] is not None
                else getattr(preset, field.name)
                for field in dataclasses.fields(Sizes)
            }
        )
        if sizes.missions < 1 or min(dataclasses.astuple(sizes)) < 0:
            raise CommandError("Give at least one mission, and no negative sizes.")
        try:
            check_instance(sizes, options["seed"], force=options["force"])
        except RefusedInstance as error:
            raise CommandError(str(error)) from None
        pending = missing_missions(sizes)
        if not pending:
            self.stdout.write(
                f"Already complete: all {sizes.missions} missions of this plan are there."
            )
            return
        limit = options["limit"]
        count = len(pending) if limit is None else min(limit, len(pending))
        if len(pending) < sizes.missions:
            self.stdout.write(f"Resuming: {sizes.missions - len(pending)} missions already made.")
        per_mission = {
            name: sum(sizes.share(name, index) for index in pending[:count])
            for name in ("defenders", "organisations", "cases", "rows")
        }
        bars = {
            "missions": tqdm(total=count, desc="missions", unit="mission", position=0),
            "defenders": tqdm(total=per_mission["defenders"], desc="defenders", position=1),
            "organisations": tqdm(
                total=per_mission["organisations"], desc="organisations", position=2
            ),
            "cases": tqdm(total=per_mission["cases"], desc="cases", position=3),
            "rows": tqdm(total=per_mission["rows"], desc="case rows", position=4),
        }
        row_stages = {"incidents", "risk assessments", "actions", "follow-ups", "notes", "messages"}

        def progress(stage: str, done: int) -> None:
            if stage in bars:
                bars[stage].update(done)
            elif stage in row_stages:
                bars["rows"].update(done)

        started = time.perf_counter()
        try:
            made = generate(
                sizes=sizes,
                seed=options["seed"],
                batch=options["batch"],
                limit=limit,
                progress=progress,
            )
        except KeyboardInterrupt:
            # The mission being made was rolled back whole; the ones before it are kept.
            done = sizes.missions - len(missing_missions(sizes))
            raise CommandError(
                f"Stopped with {done} of {sizes.missions} missions complete. Run the same "
                "command again to continue."
            ) from None
        finally:
            for bar in bars.values():
                bar.close()
        refresh_statistics()
        elapsed = time.perf_counter() - started
        left = len(pending) - made
        self.stdout.write(
            f"Made {made} missions in {elapsed:.0f} s."
            + (f" {left} left: run the same command again to continue." if left else "")
        )


def refresh_statistics() -> None:
    """Let PostgreSQL's planner know what was just loaded, as after any bulk load: until
    autovacuum gets round to it, it guesses thousands of rows per case and plans the case
    page's queries as parallel scans (about 30 ms each instead of 1). SQLite keeps no
    statistics unless asked, and Haven never asks, so it is left as it would run."""
    analysed = set()
    for alias in connections:  # the data and the key store, once per database
        connection = connections[alias]
        name = connection.settings_dict["NAME"]
        # Inside a transaction (a test's) ANALYZE would wait on the other alias's locks.
        if (
            connection.vendor == "postgresql"
            and name not in analysed
            and not connection.in_atomic_block
        ):
            analysed.add(name)
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
