"""``manage.py demo_cases``: give the demo mission realistic cases in every state, once.

Run after ``demo_data`` by ``make run``. Three invented officers join the demo mission (they
have no usable password: they exist to own cases and to be handed cases over); about forty
cases about the demo registry's defenders move through the lifecycle by the normal services,
with incidents, assessments, actions, contacts and notes, so the desk has overdue follow-ups,
reviews due, deadlines near and high-risk defenders gone quiet. Two portal requests wait in
the inbox and a third has become a case. Running it again changes nothing.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from haven.accounts.models import Membership, Role, User
from haven.audit.services import record
from haven.cases import services
from haven.cases.models import Case, CaseStatus
from haven.core.models import Mission
from haven.core.vocab.threats import PERPETRATOR_TYPES, THREAT_TYPES
from haven.crypto.cache import key_scope
from haven.intake import services as intake
from haven.registry import consent
from haven.registry import services as registry
from haven.registry.models import Defender

OFFICERS = [
    ("amani.wekesa", "Amani", "Wekesa"),
    ("claire.dubois", "Claire", "Dubois"),
    ("diego.ramos", "Diego", "Ramos"),
]
# How many demo cases end in each state.
PLAN = {
    CaseStatus.RECEIVED: 3,
    CaseStatus.SCREENING: 3,
    CaseStatus.VERIFYING: 3,
    CaseStatus.RISK_ASSESSED: 4,
    CaseStatus.ACTION_PLANNED: 4,
    CaseStatus.ACTIVE: 8,
    CaseStatus.MONITORING: 5,
    CaseStatus.DORMANT: 3,
    CaseStatus.CLOSED: 6,
}
TITLES = [
    "Threats after the land hearing",
    "Arrest at the community meeting",
    "Smear campaign on social media",
    "Office raided, laptops taken",
    "Summons over the mining report",
    "Followed home after the march",
    "Union leader dismissed",
    "Radio station licence withdrawn",
    "Phone infected with spyware",
    "Family visited by police",
    "Travel ban before the UN session",
    "Eviction of the community",
]
THREATS = [
    "Police visits to the family",
    "Anonymous calls at night",
    "Named in a ministry statement",
]
VULNERABILITIES = ["Lives alone far from town", "No lawyer yet", "Uses a shared phone"]
CAPACITIES = ["Strong local network", "Known to the media", "Legal aid clinic nearby"]
CLOSURES = ["resolved", "referred", "consent_withdrawn", "out_of_scope", "relocated", "resolved"]
REQUESTS = [
    {
        "kind": "help",
        "description": "Men came to our office asking for the list of members.",
        "name": "Grace Achieng",
        "work": "Women's land rights in Kisumu",
        "at_risk": "me",
        "help_wanted": ["physical_security"],
        "consent": ["keep_contact"],
    },
    {
        "kind": "incident",
        "description": "Our reporter was beaten outside the court.",
        "name": "Coast Voices radio",
        "at_risk": "organisation",
        "help_wanted": ["legal_support"],
        "consent": ["keep_contact", "raise_named"],
    },
    {
        "kind": "help",
        "description": "I am summoned next week for my report on the mine.",
        "name": "Peter Lokol",
        "work": "Environmental monitoring in Turkana",
        "at_risk": "me",
        "help_wanted": ["monitoring_advocacy"],
        "consent": ["keep_contact"],
    },
]


class Command(BaseCommand):
    help = "Give the demo mission realistic cases in every state (once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        mission = Mission.objects.filter(slug="demo").first()
        if mission is None:
            raise CommandError("There is no demo mission (short name “demo”): run first_start.")
        admin = (
            User.objects.filter(memberships__mission=mission, memberships__role=Role.ADMIN)
            .order_by("pk")
            .first()
        )
        defenders = list(Defender.objects.filter(mission=mission).order_by("pk")[:120])
        if admin is None or len(defenders) < sum(PLAN.values()):
            raise CommandError("Run demo_data first: the demo cases are about its defenders.")
        rng = random.Random(options["seed"])  # noqa: S311  (invented data, repeatable on purpose)
        # Response times come from a stream of their own, so the rest of the demo is unchanged.
        self.timing_rng = random.Random(options["seed"] + 1)  # noqa: S311
        if Case.objects.filter(mission=mission).exists():
            self.stdout.write("The demo mission already has cases; nothing to do.")
            return
        with key_scope(), transaction.atomic():
            officers = [admin, *self._officers(mission)]
            plan = [status for status, count in PLAN.items() for _n in range(count)]
            rng.shuffle(plan)
            for number, status in enumerate(tqdm(plan, desc="cases", unit="case")):
                self._case(mission, admin, officers, defenders[number], status, rng)
            self._requests(mission, admin)
            record(
                action="cases.demo_data",
                mission=mission,
                object_type="cases.case",
                reason=f"synthetic demo data: {len(plan)} cases",
            )
        self.stdout.write(f"Added {sum(PLAN.values())} invented cases to the demo mission.")

    def _officers(self, mission: Mission) -> list[User]:
        made = []
        for username, first, last in OFFICERS:
            user, _created = User.objects.get_or_create(
                username=username, defaults={"first_name": first, "last_name": last}
            )
            user.set_unusable_password()
            user.save()
            Membership.objects.get_or_create(
                user=user, mission=mission, defaults={"role": Role.OFFICER}
            )
            made.append(user)
        Membership.objects.filter(user=made[2], mission=mission).update(sections=",consular,")
        return made

    def _case(
        self,
        mission: Mission,
        admin: User,
        officers: list[User],
        defender: Defender,
        status: str,
        rng: random.Random,
    ) -> None:
        today = timezone.localdate()
        owner = rng.choice(officers)
        age = rng.randint(1, 3) if status == CaseStatus.RECEIVED else rng.randint(5, 300)
        case = services.open_case(
            mission=mission,
            actor=admin,
            owner=owner,
            defender=defender,
            title=rng.choice(TITLES),
            summary="Invented for the demonstration. " + rng.choice(THREATS) + ".",
            urgency=rng.choice(["critical", "high", "medium", "medium", "low"]),
            restricted=rng.random() < 0.08,
            sections=["consular"] if rng.random() < 0.1 else [],
        )
        if case.restricted and owner != admin:
            services.add_team_member(case=case, actor=admin, user=admin)
        opened = timezone.now() - datetime.timedelta(days=age, hours=rng.randint(0, 20))
        Case.objects.filter(pk=case.pk).update(
            opened_at=opened,
            response_due_at=opened + (case.response_due_at - case.opened_at),
        )
        case.refresh_from_db()
        if status == CaseStatus.CLOSED:
            services.move_case(case=case, actor=owner, to="closed", reason=rng.choice(CLOSURES))
            return
        if status == CaseStatus.RECEIVED:
            return
        services.move_case(case=case, actor=owner, to="screening")
        # The first call: mostly within the response deadline, sometimes late, as the
        # dashboards should show. Recorded today, it happened back then.
        deadline = case.response_due_at - case.opened_at
        late = self.timing_rng.random() < 0.2
        answered = case.opened_at + deadline * self.timing_rng.uniform(0.1, 2 if late else 0.9)
        answered = min(answered, timezone.now())
        first_call = timezone.localdate(answered)
        services.record_follow_up(
            case=case,
            actor=owner,
            contacted_on=first_call,
            method="call",
            summary="Invented first call.",
            next_contact_on=first_call + datetime.timedelta(days=rng.choice([14, 21, 30])),
        )
        case.responded_at = answered
        Case.objects.filter(pk=case.pk).update(responded_at=answered)
        if status == CaseStatus.SCREENING:
            return
        services.move_case(case=case, actor=owner, to="verifying")
        services.record_incident(
            case=case,
            actor=owner,
            incident_type=rng.choice(THREAT_TYPES.codes),
            occurred_on=today - datetime.timedelta(days=rng.randint(age, age + 30)),
            description="Invented incident for the demonstration.",
            perpetrator_type=rng.choice(PERPETRATOR_TYPES.codes),
            source_type=rng.choice(["victim", "family", "witness", "colleague"]),
            reliability=rng.choice(["high", "usual", "fair", "unknown"]),
            verification=rng.choice(["confirmed", "likely", "possible"]),
            specific_threat=rng.random() < 0.25,
        )
        case.refresh_from_db()
        if case.needs_second_officer:
            services.assign(case=case, actor=owner, second_officer=self._other(officers, owner))
        if status == CaseStatus.VERIFYING:
            return
        level = rng.choice(["low", "medium", "medium", "high", "critical"])
        services.record_assessment(
            case=case,
            actor=owner,
            level=level,
            rationale="Invented assessment for the demonstration.",
            threats=rng.sample(THREATS, 2),
            vulnerabilities=rng.sample(VULNERABILITIES, 1),
            capacities=rng.sample(CAPACITIES, 2),
            imminent=level == "critical" and rng.random() < 0.5,
            next_review_on=today + datetime.timedelta(days=rng.randint(1, 30)),
            second_officer=None if case.second_officer else self._other(officers, owner),
        )
        if status == CaseStatus.RISK_ASSESSED:
            return
        action_type = rng.choice(["demarche_unnamed", "capacity_building", "digital_security"])
        if consent.allows(defender, "raise_named"):
            action_type = "demarche_named"
        if action_type == "digital_security":
            registry.record_consent(
                entry=defender,
                actor=owner,
                scope="refer_named",
                channel="signal",
                given_on=today - datetime.timedelta(days=age),
                detail="A digital-security helpline",
            )
        if action_type == "demarche_unnamed":
            registry.record_consent(
                entry=defender,
                actor=owner,
                scope="raise_unnamed",
                channel="in_person",
                given_on=today - datetime.timedelta(days=age),
            )
        action = services.plan_action(
            case=case,
            actor=owner,
            action_type=action_type,
            due_on=today + datetime.timedelta(days=rng.randint(-5, 20)),
            reprisal_check="Invented check: family informed, no public mention.",
        )
        if status == CaseStatus.ACTION_PLANNED:
            return
        done = rng.random() < 0.5
        services.update_action(
            action=action,
            actor=owner,
            changes={
                "status": "done",
                "outcome": "Invented outcome.",
                "host_response": rng.choice(["pledged", "denied", "none", "favourable"]),
                "defender_told": rng.random() < 0.7,
            }
            if done
            else {"status": "in_progress"},
        )
        last = today - datetime.timedelta(days=rng.randint(1, 40))
        services.record_follow_up(
            case=case,
            actor=owner,
            contacted_on=last,
            method=rng.choice(["call", "message", "in_person"]),
            summary="Invented check-in.",
            next_contact_on=last + datetime.timedelta(days=rng.choice([7, 14, 21, 30])),
        )
        services.add_note(case=case, actor=owner, text="Invented note: prefers Signal calls.")
        if status in {CaseStatus.MONITORING, CaseStatus.DORMANT}:
            services.move_case(case=case, actor=owner, to=status)

    @staticmethod
    def _other(officers: list[User], owner: User) -> User:
        return next(user for user in officers if user != owner)

    def _requests(self, mission: Mission, admin: User) -> None:
        made = []
        for answers in REQUESTS:
            submission, _receipt = intake.submit(mission=mission, answers=answers, language="en")
            made.append(submission)
        services.open_case_from_submission(submission=made[-1], actor=admin)
