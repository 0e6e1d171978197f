"""``manage.py first_start``: on an empty instance, create the demo mission and its admin.

Prints the admin's one-time password once. Running it again changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from haven.accounts.services import add_staff_user
from haven.core.models import Mission

DEMO_CONTACT = """Human rights officer: humanrights@demo-embassy.example
Signal: +000 000 000 000 (messages only)
Visits by appointment, Monday to Thursday."""


class Command(BaseCommand):
    help = "Create the demo mission and an administrator on first start."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args: Any, **options: Any) -> None:
        if Mission.objects.exists():
            self.stdout.write("Haven is already set up; nothing to do.")
            return
        mission = Mission.objects.create(
            name="Demo Embassy",
            slug="demo",
            country="KE",
            timezone="Africa/Nairobi",
            public_contact=DEMO_CONTACT,
        )
        account = add_staff_user(
            actor=None, mission=mission, username=options["username"], role="admin"
        )
        bar = "=" * 64
        self.stdout.write(
            f"\n{bar}\n"
            f"  Haven is ready. Sign in at http://{settings.HAVEN_HOST}:{settings.HAVEN_PORT}/desk/\n"
            f"  Username:           {account.user.username}\n"
            f"  One-time password:  {account.one_time_password}\n"
            "  It is shown only now. You will choose your own password and set up\n"
            "  an authenticator app at first sign-in.\n"
            f"{bar}\n"
        )
