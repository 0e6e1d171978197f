"""``manage.py grant_membership USER MISSION ROLE``: give an account a role in another mission."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from haven.accounts.models import Role, User
from haven.accounts.services import AccountError, grant_membership
from haven.core.models import Mission


class Command(BaseCommand):
    help = "Give an existing account a role in a mission (for headquarters staff)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("mission", help="the mission's short name (slug)")
        parser.add_argument("role", choices=Role.values)

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        mission = Mission.objects.filter(slug=options["mission"]).first()
        if user is None:
            raise CommandError(f"No account is named {options['username']!r}.")
        if mission is None:
            raise CommandError(f"No mission has the short name {options['mission']!r}.")
        try:
            grant_membership(actor=None, mission=mission, user=user, role=options["role"])
        except AccountError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{user.username} is now {options['role']} in {mission.name}.")
