"""``manage.py first_start``: on an empty instance, create the demo mission and its admin.

Prints the admin's one-time password once. Running it again changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from haven.accounts.models import Membership, Role
from haven.accounts.services import AccountError, add_staff_user
from haven.core.models import Mission
from haven.crypto.keys import ensure_keys

DEMO_CONTACT = """Human rights officer: humanrights@demo-embassy.example
Signal: +000 000 000 000 (messages only)
Visits by appointment, Monday to Thursday."""


class Command(BaseCommand):
    help = "Create the demo mission and an administrator on first start."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--viewer", default="leadership", help="a viewer account's username")

    def handle(self, *args: Any, **options: Any) -> None:
        # Creates the key files on an empty instance; refuses if data exists without them.
        ensure_keys()
        if Membership.objects.filter(role=Role.ADMIN).exists():
            self.stdout.write("Haven is already set up; nothing to do.")
            return
        try:
            with transaction.atomic():
                mission, _created = Mission.objects.get_or_create(
                    slug="demo",
                    defaults={
                        "name": "Demo Embassy",
                        "country": "KE",
                        "timezone": "Africa/Nairobi",
                        "public_contact": DEMO_CONTACT,
                        "capital_region": "Nairobi",
                    },
                )
                account = add_staff_user(
                    actor=None, mission=mission, username=options["username"], role="admin"
                )
                # Leadership sees the dashboards and nothing else (DOMAIN.md, "Reporting").
                viewer = add_staff_user(
                    actor=None, mission=mission, username=options["viewer"], role="viewer"
                )
        except (AccountError, ValidationError) as error:
            raise CommandError(f"First start failed, nothing was created: {error}") from error
        bar = "=" * 64
        # Browsers allow security keys on http://localhost, not on http://127.0.0.1.
        host = "localhost" if settings.HAVEN_HOST == "127.0.0.1" else settings.HAVEN_HOST
        self.stdout.write(
            f"\n{bar}\n"
            f"  Haven is ready. Sign in at http://{host}:{settings.HAVEN_PORT}/desk/\n"
            f"  Username:           {account.user.username}\n"
            f"  One-time password:  {account.one_time_password}\n"
            f"  Leadership (dashboards only): {viewer.user.username}, "
            f"one-time password {viewer.one_time_password}\n"
            "  They are shown only now. You will choose your own password and set up\n"
            "  an authenticator app at first sign-in.\n"
            f"{bar}\n"
        )
