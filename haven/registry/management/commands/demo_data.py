"""``manage.py demo_data``: fill the demo mission's registry with synthetic people, once.

For newcomers (``make run``): a few hundred invented defenders and organisations, with
channels, affiliations and consent (some expiring soon), created through the normal services,
so every value is encrypted as real data would be. Runs only on the mission whose short name
is ``demo`` and only while its registry is empty; running it again changes nothing.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from faker import Faker
from tqdm import tqdm

from haven.audit.services import record
from haven.core.models import Mission
from haven.core.vocab.actor_types import ACTOR_TYPES
from haven.core.vocab.work_focus import WORK_FOCUS
from haven.crypto.cache import key_scope
from haven.registry import services
from haven.registry.models import Defender, Organisation, OrganisationKind, Visibility

# Kenyan counties, for the demo mission in Nairobi: reach statistics need plausible regions.
REGIONS = [
    "Nairobi",
    "Mombasa",
    "Kisumu",
    "Nakuru",
    "Turkana",
    "Garissa",
    "Kakamega",
    "Kilifi",
    "Marsabit",
    "Narok",
    "Lamu",
    "Kajiado",
]
ORGANISATION_WORDS = ["Network", "Alliance", "Collective", "Watch", "Centre", "Forum", "Voices"]


def _phone(rng: random.Random) -> str:
    return f"+254 7{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"


class Command(BaseCommand):
    help = "Fill the demo mission's empty registry with synthetic defenders and organisations."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--defenders", type=int, default=240)
        parser.add_argument("--organisations", type=int, default=30)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        mission = Mission.objects.filter(slug="demo").first()
        if mission is None:
            raise CommandError("There is no demo mission (short name “demo”): run first_start.")
        if Defender.objects.filter(mission=mission).exists():
            self.stdout.write("The demo registry already has data; nothing to do.")
            return
        rng = random.Random(options["seed"])  # noqa: S311  (invented data, repeatable on purpose)
        # A second stream, so adding it left the rest of the demo as it was.
        self.reporting_rng = random.Random(options["seed"] + 1)  # noqa: S311
        fake = Faker(["en_GB", "fr_FR", "sw"])
        fake.seed_instance(options["seed"])
        with key_scope(), transaction.atomic():
            organisations = self._organisations(mission, fake, rng, options["organisations"])
            self._defenders(mission, fake, rng, options["defenders"], organisations)
            record(
                action="registry.demo_data",
                mission=mission,
                object_type="registry.defender",
                reason=(
                    f"synthetic demo data: {options['defenders']} defenders, "
                    f"{options['organisations']} organisations"
                ),
            )
        self.stdout.write(
            f"Added {options['defenders']} invented defenders and "
            f"{options['organisations']} organisations to the demo mission."
        )

    def _organisations(
        self, mission: Mission, fake: Faker, rng: random.Random, count: int
    ) -> list[Organisation]:
        made = []
        for _n in tqdm(range(count), desc="organisations", unit="row"):
            word = rng.choice(ORGANISATION_WORDS)
            name = f"{fake.last_name()} {word} {fake.unique.random_int(1, 999)}"
            made.append(
                services.create_organisation(
                    mission=mission,
                    actor=None,
                    audit=False,
                    allow_duplicates=True,
                    name=name,
                    kind=rng.choice(OrganisationKind.values),
                    region=rng.choice(REGIONS),
                    work_focus=rng.sample(WORK_FOCUS.codes, k=rng.randint(1, 3)),
                    channels=[services.ChannelInput("email", fake.unique.company_email())],
                )
            )
        return made

    def _defenders(
        self,
        mission: Mission,
        fake: Faker,
        rng: random.Random,
        count: int,
        organisations: list[Organisation],
    ) -> None:
        today = timezone.localdate()
        for _n in tqdm(range(count), desc="defenders", unit="row"):
            channels = [services.ChannelInput(rng.choice(["signal", "whatsapp"]), _phone(rng))]
            if rng.random() < 0.5:
                channels.append(services.ChannelInput("email", fake.unique.free_email()))
            if rng.random() < 0.2:
                channels.append(
                    services.ChannelInput("intermediary", f"Through {fake.first_name()}")
                )
            defender = services.create_defender(
                mission=mission,
                actor=None,
                audit=False,
                allow_duplicates=True,
                name=fake.name(),
                region=rng.choice(REGIONS),
                place=fake.city(),
                actor_type=rng.choice(ACTOR_TYPES.codes),
                work_focus=rng.sample(WORK_FOCUS.codes, k=rng.randint(1, 3)),
                visibility=rng.choice(Visibility.values),
                channels=channels,
            )
            Defender.objects.filter(pk=defender.pk).update(
                risk_level=rng.choice(["", "low", "medium", "high", "critical"])
            )
            if organisations and rng.random() < 0.6:
                services.add_affiliation(
                    defender=defender,
                    organisation=rng.choice(organisations),
                    actor=None,
                    role=rng.choice(["member", "coordinator", "lawyer", "founder", ""]),
                )
            given = today - datetime.timedelta(days=rng.randint(0, 700))
            services.record_consent(
                entry=defender,
                actor=None,
                scope="keep_contact",
                channel="in_person",
                given_on=given,
            )
            if self.reporting_rng.random() < 0.75:
                services.record_consent(
                    entry=defender,
                    actor=None,
                    scope="deidentified_reporting",
                    channel="in_person",
                    given_on=given,
                )
            if rng.random() < 0.3:
                services.record_consent(
                    entry=defender,
                    actor=None,
                    scope=rng.choice(["raise_named", "raise_unnamed", "public_statement"]),
                    channel="signal",
                    given_on=given,
                    expires_on=today + datetime.timedelta(days=rng.randint(1, 365)),
                )
