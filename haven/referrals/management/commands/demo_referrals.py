"""``manage.py demo_referrals``: a few referrals from the demo mission's cases to its directory,
with the defenders' consent recorded first, once (run by ``make run`` after ``demo_cases``)."""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from haven.cases.models import Case, CaseStatus
from haven.core.models import Mission
from haven.crypto.cache import key_scope
from haven.referrals import services
from haven.referrals.models import Mechanism, Referral, ReferralStatus
from haven.registry import consent
from haven.registry import services as registry


class Command(BaseCommand):
    help = "Refer a few demo cases to mechanisms of the directory (once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        mission = Mission.objects.filter(slug="demo").first()
        if mission is None:
            raise CommandError("There is no demo mission (short name “demo”): run first_start.")
        if Referral.objects.filter(mission=mission).exists():
            self.stdout.write("The demo mission already has referrals; nothing to do.")
            return
        cases = list(
            Case.objects.filter(mission=mission, restricted=False, defender__isnull=False)
            .exclude(status=CaseStatus.CLOSED)
            .order_by("number")[3:7]
        )
        mechanisms = list(Mechanism.objects.filter(mission=mission, paused=False))
        if not cases or not mechanisms:
            raise CommandError("Run demo_cases first: referrals are made from its cases.")
        rng = random.Random(options["seed"])  # noqa: S311  (invented data, repeatable on purpose)
        today = timezone.localdate()
        with key_scope(), transaction.atomic():
            for case in cases:
                assert case.defender is not None
                if not consent.allows(case.defender, services.REFERRAL_SCOPE):
                    registry.record_consent(
                        entry=case.defender,
                        actor=case.owner,
                        scope=services.REFERRAL_SCOPE,
                        channel="signal",
                        given_on=today - datetime.timedelta(days=30),
                        detail="Emergency funds and helplines",
                    )
                referral = services.refer(
                    case=case,
                    actor=case.owner,
                    mechanism=rng.choice(mechanisms),
                    referred_on=today - datetime.timedelta(days=rng.randint(1, 60)),
                    outcome="Invented referral.",
                )
                services.update_referral(
                    referral=referral,
                    actor=case.owner,
                    status=rng.choice(ReferralStatus.values),
                    outcome="Invented outcome.",
                )
        self.stdout.write(f"Added {len(cases)} invented referrals.")
