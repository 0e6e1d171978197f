"""``manage.py issue_one_time_password USER``: for the operator when the only administrator is
locked out (lost password or phone). Prints a one-time password once; ``--reset-mfa`` also
removes the person's second factors so they enrol again. Audited like the workspace action.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from haven.accounts.models import User
from haven.accounts.services import issue_one_time_password, reset_mfa


class Command(BaseCommand):
    help = "Give a staff account a one-time password (and optionally remove its second factors)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--reset-mfa", action="store_true", help="also remove second factors")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No account is named {options['username']!r}.")
        membership = user.memberships.select_related("mission").first()
        if membership is None:
            raise CommandError(f"{user.username} belongs to no mission.")
        with transaction.atomic():
            if options["reset_mfa"]:
                reset_mfa(actor=None, membership=membership)
            password = issue_one_time_password(actor=None, membership=membership)
        self.stdout.write(
            f"One-time password for {user.username}: {password}\n"
            "It is shown only now and must be changed at the next sign-in."
        )
