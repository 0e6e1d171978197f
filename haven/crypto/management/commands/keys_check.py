"""``manage.py keys_check``: report whether Haven can open its data with the keys it has.

Read-only: it creates no key. Exits non-zero, listing every problem, when a key file is
missing, exposed to other users or malformed, or data is wrapped under an unavailable version.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from haven.crypto.keys import get_provider, key_problems, wrapped_keys_exist


class Command(BaseCommand):
    help = "Check the key material (key files, versions in use) without changing anything."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = key_problems()
        if problems:
            raise CommandError("\n".join(["Key material problems:", *problems]))
        provider = get_provider()
        if not wrapped_keys_exist():
            self.stdout.write(f"Key provider {provider.name}: no wrapped keys yet.")
            return
        versions = ", ".join(str(version) for version in provider.versions())
        self.stdout.write(
            f"Key provider {provider.name}: KEK versions {versions}; "
            f"current {provider.current_version()}. Every version in use is available."
        )
