"""``manage.py demo_monitoring``: hearings, a detention, a relocation and a civic-space timeline
for the demo mission's cases, once (run by ``make run`` after ``demo_cases``).

Hearings coming up with observers, one held with its observation report, one postponed twice
(the pattern shows on its case); a detention at an undisclosed place with its visit history; a
relocation under way; seven civic-space events, the reprisals linked to cases. All invented,
all through the normal services.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from haven.accounts.models import Role, User
from haven.audit.services import record
from haven.cases import relocation
from haven.cases.models import Case, CaseStatus
from haven.core.models import Mission
from haven.crypto.cache import key_scope
from haven.monitoring import services as monitoring
from haven.monitoring.models import Hearing

COURTS = ["Kisumu High Court", "Nairobi Magistrates' Court", "Court-martial, Lang'ata"]
CIVIC_EVENTS = [
    ("restrictive_law", "Invented: NGO funding bill passes second reading", 150, ""),
    ("shutdown", "Invented: mobile data cut during the by-election", 95, "Turkana"),
    ("raid", "Invented: offices of a land-rights group searched", 60, "Kisumu"),
    ("assembly_ban", "Invented: march on the county offices banned", 41, "Nakuru"),
    ("reprisal", "Invented: lawyer's licence suspended after a hearing", 30, "Nairobi"),
    ("un_reprisal", "Invented: activist questioned after a UN session", 12, "Nairobi"),
    ("transnational", "Invented: exiled journalist's family visited", 7, "Mombasa"),
]


class Command(BaseCommand):
    help = "Give the demo mission hearings, a detention and a civic-space timeline (once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        mission = Mission.objects.filter(slug="demo").first()
        if mission is None:
            raise CommandError("There is no demo mission (short name “demo”): run first_start.")
        if Hearing.objects.filter(mission=mission).exists():
            self.stdout.write("The demo mission already has hearings; nothing to do.")
            return
        open_cases = list(
            Case.objects.filter(mission=mission, restricted=False, defender__isnull=False)
            .exclude(status=CaseStatus.CLOSED)
            .order_by("number")
        )
        admin = (
            User.objects.filter(memberships__mission=mission, memberships__role=Role.ADMIN)
            .order_by("pk")
            .first()
        )
        if admin is None or len(open_cases) < 6:
            raise CommandError("Run demo_cases first: hearings belong to its cases.")
        rng = random.Random(options["seed"])  # noqa: S311  (invented data, repeatable on purpose)
        with key_scope(), transaction.atomic():
            self._hearings(open_cases, admin, rng)
            self._detention(open_cases[1])
            relocated = open_cases[2]
            today = timezone.localdate()
            relocation.plan_relocation(
                case=relocated,
                actor=relocated.owner,
                departs_on=today - datetime.timedelta(days=10),
                returns_on=today + datetime.timedelta(days=80),
            )
            self._civic_space(mission, admin, open_cases, rng)
            record(
                action="monitoring.demo_data",
                mission=mission,
                object_type="monitoring.hearing",
                reason="synthetic demo data: hearings, detention, relocation, civic space",
            )
        self.stdout.write("Added hearings, a detention, a relocation and civic-space events.")

    def _hearings(self, open_cases: list[Case], admin: User, rng: random.Random) -> None:
        now = timezone.now()
        for days in (2, 9, 23):
            monitoring.schedule_hearing(
                case=rng.choice(open_cases[:6]),
                actor=admin,
                court=rng.choice(COURTS),
                starts_at=now + datetime.timedelta(days=days, hours=rng.randint(0, 6)),
                observers=[admin],
                partner_observers="Invented partner mission",
            )
        trial = open_cases[0]
        held = monitoring.schedule_hearing(
            case=trial,
            actor=trial.owner,
            court=COURTS[0],
            observers=[admin],
            starts_at=now - datetime.timedelta(days=40),
        )
        monitoring.record_observation(
            hearing=held,
            actor=trial.owner,
            access="partial",
            authorities_informed=True,
            summary="Invented report: the defence could not call its witnesses.",
            checklist={
                "witnesses": {"assessment": "violated", "notes": "Two sent away."},
                "public_hearing": {"assessment": "respected", "notes": ""},
            },
        )
        first = monitoring.schedule_hearing(
            case=trial,
            actor=trial.owner,
            court=COURTS[0],
            starts_at=now - datetime.timedelta(days=20),
        )
        second = monitoring.postpone_hearing(
            hearing=first, actor=trial.owner, new_start=now - datetime.timedelta(days=5)
        )
        if second is not None:
            monitoring.postpone_hearing(
                hearing=second, actor=trial.owner, new_start=now + datetime.timedelta(days=16)
            )

    def _detention(self, case: Case) -> None:
        today = timezone.localdate()
        assert case.defender is not None
        detention = monitoring.record_detention(
            case=case,
            actor=case.owner,
            defender=case.defender,
            detained_on=today - datetime.timedelta(days=18),
            acknowledged=True,
            location_disclosed=False,
            place="Invented: an unnamed police post",
            lawyer_contact=True,
            counsel="chosen",
            health_concerns="Invented: needs daily medication.",
        )
        for weeks, status in ((2, "denied"), (1, "held")):
            visit = monitoring.request_visit(
                detention=detention,
                actor=case.owner,
                requested_on=today - datetime.timedelta(weeks=weeks),
            )
            monitoring.update_visit(
                visit=visit,
                actor=case.owner,
                status=status,
                visit_on=today - datetime.timedelta(days=5) if status == "held" else None,
                outcome="Invented outcome of the visit request.",
            )

    def _civic_space(
        self, mission: Mission, admin: User, open_cases: list[Case], rng: random.Random
    ) -> None:
        today = timezone.localdate()
        for kind, title, days, region in CIVIC_EVENTS:
            monitoring.record_civic_event(
                mission=mission,
                actor=admin,
                kind=kind,
                title=title,
                starts_on=today - datetime.timedelta(days=days),
                region=region,
                source_type=rng.choice(["media", "colleague", "partner", "official"]),
                reliability=rng.choice(["high", "usual", "fair"]),
                description="Invented for the demonstration.",
                cases_linked=[rng.choice(open_cases)]
                if kind in {"reprisal", "un_reprisal"}
                else [],
            )
