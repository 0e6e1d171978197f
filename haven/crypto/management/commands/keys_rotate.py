"""``manage.py keys_rotate``: add a KEK version, re-wrap every wrapped key under it, and with
``--retire`` retire the versions nothing uses any more. The work is ``haven.crypto.rotation``.

Safe to interrupt and to run again: it resumes where it stopped and does nothing once done.
Exits non-zero with a message naming the row or file when it cannot go on.
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from haven.crypto import rotation
from haven.crypto.errors import CryptoError
from haven.crypto.keys import get_provider, kek_file_name


class Command(BaseCommand):
    help = _(
        "Create a new key-encryption key version, re-wrap every data key and intake key under "
        "it, and (with --retire) retire old versions nothing uses any more."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=rotation.BATCH_SIZE,
            help=_("Rows re-wrapped per transaction (default %(default)s)."),
        )
        parser.add_argument(
            "--no-new-version",
            action="store_true",
            help=_("Do not create a version; only finish re-wrapping to the current one."),
        )
        parser.add_argument(
            "--retire",
            action="store_true",
            help=_("Afterwards, retire the old versions that no row uses any more."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError(_("The batch size must be at least 1."))
        done = 0

        def progress(rows: int) -> None:
            nonlocal done
            done += rows
            bar.update(rows)

        try:
            rotation.check_keys()
            if not options["no_new_version"]:
                self._new_version()
            version = rotation.current_version()
            total = rotation.rows_to_rewrap(version)
            with tqdm(total=total, unit="key", disable=options["verbosity"] < 1) as bar:
                result = rotation.rewrap_to(
                    version, batch_size=options["batch_size"], on_batch=progress
                )
            self._report(result)
            if options["retire"]:
                self._retire()
        except KeyboardInterrupt:
            raise CommandError(
                _(
                    "Interrupted after %(done)s keys. Every finished batch is kept; run "
                    "keys_rotate --no-new-version to finish."
                )
                % {"done": done}
            ) from None
        except CryptoError as error:
            raise CommandError(str(error)) from None

    def _new_version(self) -> None:
        if rotation.creates_versions():
            version = rotation.create_kek_version()
            self.stdout.write(
                _("Created key-encryption key version %(version)s (%(file)s).")
                % {"version": version, "file": kek_file_name(version)}
            )
            return
        provider = get_provider()
        current = provider.current_version()
        self.stdout.write(
            _(
                "The %(provider)s key provider reads mounted secrets; Haven never writes there. "
                "To rotate, add %(file)s to the secret store and mount it beside the others, "
                "then run keys_rotate again. Re-wrapping now to the newest mounted version, "
                "%(current)s."
            )
            % {
                "provider": provider.name,
                "file": kek_file_name(current + 1),
                "current": current,
            }
        )

    def _report(self, result: rotation.RewrapResult) -> None:
        if not result.rewrapped and not result.skipped:
            self.stdout.write(
                _("Every key is already wrapped under version %(version)s.")
                % {"version": result.version}
            )
            return
        message = _(
            "Re-wrapped %(count)s keys under version %(version)s in %(seconds).2f s "
            "(%(rate).0f keys/s)."
        ) % {
            "count": result.rewrapped,
            "version": result.version,
            "seconds": result.seconds,
            "rate": result.rate,
        }
        if result.skipped:
            message += " " + _(
                "%(skipped)s were re-wrapped or shredded by another process meanwhile."
            ) % {"skipped": result.skipped}
        self.stdout.write(self.style.SUCCESS(message))

    def _retire(self) -> None:
        result = rotation.retire_old_versions()
        if result.wait_seconds:
            # Running processes re-read the version list this often; until they have, one
            # could still wrap a new key under an old version.
            self.stdout.write(
                _("Waiting %(seconds).0f s for running processes to use version %(version)s.")
                % {"seconds": result.wait_seconds, "version": result.current}
            )
            time.sleep(result.wait_seconds)
            result = rotation.retire_old_versions()
        for version in result.retired:
            self.stdout.write(
                _("Retired key-encryption key version %(version)s: %(file)s destroyed.")
                % {"version": version, "file": kek_file_name(version)}
            )
        if result.retired:
            self.stdout.write(
                _("Destroy the same versions in every copy of the key backup (docs/keys.md).")
            )
        if result.unmountable:
            self.stdout.write(
                _(
                    "No key uses these versions any more; unmount them and destroy them in the "
                    "secret store and its backups: %(files)s."
                )
                % {"files": ", ".join(kek_file_name(version) for version in result.unmountable)}
            )
        if result.in_use:
            lines = [
                _("Version %(version)s is still used by: %(rows)s.")
                % {"version": version, "rows": ", ".join(rows)}
                for version, rows in sorted(result.in_use.items())
            ]
            raise CommandError(
                "\n".join(
                    [
                        _("Not retired: these versions are still in use."),
                        *lines,
                        _("Run keys_rotate --no-new-version to re-wrap them, then retire."),
                    ]
                )
            )
        if not (result.retired or result.unmountable):
            self.stdout.write(_("No old key-encryption key version to retire."))
