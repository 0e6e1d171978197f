"""``manage.py emergency_destroy``: the server operator's emergency destruction (docs/emergency.md).

A thin wrapper around ``destroy_everything``: it asks for a typed confirmation phrase (or
``--yes`` in scripts) and a reason, and exits non-zero with a clear message on any failure.
``--rehearse`` runs the same steps on copies and prints the timings; it destroys nothing.
"""

from __future__ import annotations

import getpass
import sys
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from haven.crypto.destruction import Certificate, destroy_everything

PHRASE = "DESTROY ALL DATA"


class Command(BaseCommand):
    # Tests hand in the typed answer; at the console it is the terminal.
    stealth_options = ("stdin",)
    help = (
        "Destroy every key that opens Haven's data (KEKs, blind-index key, data keys, intake "
        "keys) and write a destruction certificate. Irreversible. Use --rehearse to try it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reason", required=True, help="Why; goes to the certificate.")
        parser.add_argument(
            "--yes", action="store_true", help=f"Do not ask for the phrase {PHRASE!r} (scripts)."
        )
        parser.add_argument(
            "--rehearse",
            action="store_true",
            help="Run on copies in a temporary directory and print timings; destroy nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        reason: str = options["reason"].strip()
        rehearse: bool = options["rehearse"]
        if not reason:
            raise CommandError("Give a reason with --reason.")
        if not rehearse and not options["yes"]:
            self._ask_for_phrase(options.get("stdin"))
        operator = (None, f"operator ({_os_user()})")
        try:
            certificate = destroy_everything(
                confirmed_by=[operator], reason=reason, rehearse=rehearse
            )
        except Exception as error:
            raise CommandError(
                f"Emergency destruction failed: {error}. Key files already destroyed stay "
                "destroyed; run the command again, then follow docs/emergency.md."
            ) from error
        self._report(certificate)

    def _ask_for_phrase(self, stdin: TextIO | None) -> None:
        if stdin is None:
            if not sys.stdin.isatty():
                raise CommandError("No terminal to confirm on: pass --yes to run unattended.")
            stdin = sys.stdin
        self.stdout.write(
            self.style.WARNING(
                "This destroys every key that opens Haven's data. Nothing can be read "
                "afterwards, by anyone, ever."
            )
        )
        self.stdout.write(f"Type {PHRASE} to go on: ", ending="")
        self.stdout.flush()
        answer = stdin.readline()
        if answer.strip() != PHRASE:
            raise CommandError("The phrase did not match. Nothing was destroyed.")

    def _report(self, certificate: Certificate) -> None:
        title = "Rehearsal (nothing real destroyed)" if certificate.rehearsal else "Destroyed"
        self.stdout.write(self.style.SUCCESS(f"{title} at {certificate.destroyed_at} UTC"))
        self.stdout.write(
            f"  data keys: {certificate.data_keys}   intake keys: {certificate.intake_keys}"
            f"   key files: {certificate.key_files}"
        )
        steps = ", ".join(f"{name} {ms:.1f} ms" for name, ms in certificate.timings_ms.items())
        self.stdout.write(f"  total {certificate.duration_ms:.1f} ms ({steps})")
        self.stdout.write(f"  state hash: {certificate.state_hash}")
        if certificate.path:
            self.stdout.write(f"  certificate: {certificate.path}")
        if certificate.operator_must_destroy:
            self.stdout.write(
                self.style.WARNING(
                    "Haven cannot delete mounted secrets. Destroy these in the secret store "
                    "and on every host now: " + ", ".join(certificate.operator_must_destroy)
                )
            )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
