"""``manage.py import_registry FILE --kind defenders --mission SLUG --user NAME``.

Checks the whole file first and prints a report per line (line, column, problem), then writes
everything in one transaction, or nothing. The report names lines and columns, never the
values in them, so a terminal log holds nothing identifying.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from haven.accounts.models import Membership
from haven.core.models import CASEWORK_ROLES, Mission
from haven.crypto.cache import key_scope
from haven.registry import csvimport


class Command(BaseCommand):
    help = "Import defenders or organisations from a UTF-8 CSV file, after checking every line."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--kind", choices=sorted(csvimport.COLUMNS), required=True)
        parser.add_argument("--mission", required=True, help="the mission's short name")
        parser.add_argument(
            "--user", required=True, help="the officer importing, for the audit log"
        )
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")
        parser.add_argument(
            "--only-valid", action="store_true", help="import the valid lines, skip the others"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        mission = Mission.objects.filter(slug=options["mission"]).first()
        if mission is None:
            raise CommandError(f"There is no mission with the short name {options['mission']!r}.")
        membership = (
            Membership.objects.filter(mission=mission, user__username=options["user"])
            .select_related("user")
            .first()
        )
        if membership is None or membership.role not in CASEWORK_ROLES:
            raise CommandError(
                f"{options['user']!r} is not an administrator or officer of {mission.slug}."
            )
        try:
            data = options["file"].read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {options['file']}: {error.strerror}.") from None
        with key_scope():
            try:
                report = self._check(data, options["kind"], mission)
                self._print(report)
                if options["dry_run"]:
                    self.stdout.write("Dry run: nothing was written.")
                    return
                created = self._import(report, mission, membership, options["only_valid"])
            except csvimport.ImportRefused as error:
                raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Imported {created} {options['kind']}."))

    def _check(self, data: bytes, kind: str, mission: Mission) -> csvimport.ImportReport:
        lines = max(data.count(b"\n"), 1)
        with tqdm(total=lines, desc="checking", unit="line", file=self.stderr) as bar:
            return csvimport.check_file(data=data, kind=kind, mission=mission, progress=bar.update)

    def _import(
        self,
        report: csvimport.ImportReport,
        mission: Mission,
        membership: Membership,
        only_valid: bool,
    ) -> int:
        with tqdm(total=len(report.rows), desc="importing", unit="row", file=self.stderr) as bar:
            return csvimport.import_file(
                report=report,
                mission=mission,
                actor=membership.user,
                only_valid=only_valid,
                progress=bar.update,
            )

    def _print(self, report: csvimport.ImportReport) -> None:
        for problem in report.problems:
            column = f", column {problem.column}" if problem.column else ""
            self.stdout.write(f"line {problem.line}{column}: {problem.message}")
        for duplicate in report.duplicates:
            self.stdout.write(f"line {duplicate.line}: {duplicate.message()}")
        self.stdout.write(
            f"{report.lines} lines checked: {len(report.rows)} valid, "
            f"{report.invalid_lines} with problems, {len(report.duplicates)} possible duplicates."
        )
