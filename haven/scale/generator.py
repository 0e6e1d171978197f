"""Invented missions at a global size: staff, defenders, organisations, cases and their rows.

Everything is synthetic. Every identifying value goes through the encrypted fields' own
``pre_save`` (``bulk_create`` calls it for each row), under data keys made by
``new_data_keys``, so the stored ciphertext is exactly what the services write; blind indexes
are computed by their fields or by ``blind_index``, as the services do.

Work is done one mission at a time: a mission, with everything it holds and its
``GeneratedMission`` marker, is written in one transaction on each database, so an
interrupted run leaves whole missions only, and the next run continues with the first
mission that has no marker. Each mission's content comes from its own random stream (seed
and mission number), so what a resumed run makes does not depend on where it stopped.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime
import itertools
import json
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connections, models
from django.test.utils import override_settings
from django.utils import timezone
from django.utils.translation import gettext as _

from haven.accounts.models import Membership, Role, User
from haven.audit.services import record
from haven.cases.management.commands.demo_cases import TITLES as DEMO_TITLES
from haven.cases.models import (
    AWAITING_RESPONSE,
    Action,
    Case,
    CaseStatus,
    FollowUp,
    Incident,
    Note,
    RiskAssessment,
    StatusChange,
)
from haven.core.models import Mission
from haven.core.vocab.actor_types import ACTOR_TYPES
from haven.core.vocab.identity_tags import IDENTITY_TAGS
from haven.core.vocab.mission_actions import MISSION_ACTIONS
from haven.core.vocab.threats import PERPETRATOR_TYPES, THREAT_TYPES
from haven.core.vocab.work_focus import WORK_FOCUS
from haven.crypto.blindindex import blind_index
from haven.crypto.cache import key_scope
from haven.crypto.commits import keys_first
from haven.crypto.datakeys import new_data_keys
from haven.crypto.receipts import derive, new_passphrase, seal_to_receipt
from haven.crypto.sealing import seal
from haven.crypto.submission_keys import new_submission_key
from haven.intake.models import Message, Submission, SubmissionStatus
from haven.monitoring.models import Detention, Hearing
from haven.referrals.models import Mechanism, Referral
from haven.registry.models import (
    Affiliation,
    ConsentRecord,
    ContactChannel,
    Defender,
    Organisation,
    OrganisationKind,
    Visibility,
)
from haven.scale.models import GeneratedMission

YEARS = 5
SLUG_PREFIX = "scale-"


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Totals over all missions; ``rows`` counts incidents, assessments, actions, follow-ups,
    notes and portal messages together."""

    missions: int
    defenders: int
    organisations: int
    cases: int
    rows: int

    def share(self, name: str, index: int) -> int:
        """Mission ``index``'s share of the total ``name``: even, the remainder to the first."""
        total: int = getattr(self, name)
        return total // self.missions + (1 if index < total % self.missions else 0)


PRESETS = {
    "global": Sizes(200, 100_000, 20_000, 250_000, 2_500_000),
    "quick": Sizes(20, 10_000, 2_000, 25_000, 250_000),
    "tiny": Sizes(2, 40, 10, 50, 500),
}

# How the per-case rows divide between kinds (weights). Messages go only to the cases that
# came through the portal (PORTAL_SHARE of them), in the conversation about their request.
ROW_MIX = {
    "incident": 20,
    "assessment": 10,
    "action": 15,
    "follow_up": 32,
    "note": 18,
    "message": 5,
}
PORTAL_SHARE = 0.2
COUNTRIES = ["KE", "UG", "CO", "GT", "MX", "BR", "PH", "BD", "TN", "SN", "CD", "ZW", "HN", "NI"]
ORGANISATION_WORDS = ["Network", "Alliance", "Collective", "Watch", "Centre", "Forum", "Voices"]
# The demo's case titles, and a few more.
EVENTS = [*DEMO_TITLES, "Charged with defamation", "Bank accounts frozen"]
DETAILS = [
    "Two men waited outside the office until late.",
    "The calls came from withheld numbers, always at night.",
    "A neighbour saw an unmarked car parked for three days.",
    "The summons gives no reason and no lawyer was allowed.",
    "Posts name the family and the children's school.",
    "The police took the laptops and no receipt was given.",
    "Colleagues were questioned about the report's sources.",
    "The landlord was told to end the lease of the office.",
    "Messages on the group chat were read out at the station.",
    "The hearing was moved twice without notice.",
]
THREATS = [
    "Police visits to the family",
    "Anonymous calls at night",
    "Named in a ministry statement",
    "Surveillance of the office",
    "Pending criminal charges",
]
VULNERABILITIES = ["Lives alone far from town", "No lawyer yet", "Uses a shared phone"]
CAPACITIES = ["Strong local network", "Known to the media", "Legal aid clinic nearby"]
CHECK_INS = [
    "Safe at home, no new incidents.",
    "Worried about the next hearing; asked for an observer.",
    "Moved to a relative's house for a few days.",
    "Lawyer found through the bar association.",
    "Phone replaced; now uses Signal only.",
]
MESSAGES_FROM_PERSON = [
    "They came back last night and asked for my brother.",
    "Thank you. I can talk on Thursday after work.",
    "The hearing is now on the 14th.",
    "I changed my number; please use this portal.",
]
MESSAGES_FROM_MISSION = [
    "We received your request and an officer will contact you.",
    "Can we call you tomorrow? Tell us a safe time.",
    "We have raised your situation with our partners.",
    "Please tell us if anything changes.",
]
NOTES = [
    "Prefers calls after 6 pm.",
    "Do not mention the case at the workplace.",
    "Partner NGO follows the legal side.",
    "Asked for the mission's contact card.",
    "Interpreter needed for meetings.",
]
CLOSURES = ["resolved", "resolved", "referred", "consent_withdrawn", "out_of_scope", "relocated"]
LIFECYCLE = list(CaseStatus.values)


@dataclasses.dataclass
class Pools:
    """Names and places from Faker, made once: Faker is too slow for millions of rows."""

    first_names: list[str]
    last_names: list[str]
    places: list[str]
    emails: list[str]

    @classmethod
    def make(cls, seed: int, size: int = 2000) -> Pools:
        from faker import Faker

        fake = Faker(["en_GB", "fr_FR", "es_ES", "pt_BR", "sw"])
        fake.seed_instance(seed)
        return cls(
            first_names=[fake.first_name() for _n in range(size)],
            last_names=[fake.last_name() for _n in range(size)],
            places=[fake.city() for _n in range(size // 4)],
            emails=[fake.free_email_domain() for _n in range(50)],
        )


class RefusedInstance(Exception):
    """The instance holds data the generator did not make, or was generated differently."""


def plan_of(sizes: Sizes, seed: int) -> dict[str, Any]:
    return {"seed": seed, **dataclasses.asdict(sizes)}


def check_instance(sizes: Sizes, seed: int, *, force: bool) -> None:
    """Refuse an instance with missions the generator did not make (unless ``force``), and
    one generated with another plan (a resumed run must follow the same one)."""
    generated = GeneratedMission.objects.values_list("mission_id", flat=True)
    others = Mission.objects.exclude(pk__in=generated).count()
    if others and not force:
        raise RefusedInstance(
            _(
                "This instance holds %(count)s mission(s) the generator did not make. It only "
                "adds invented people and cases, and they must never mix with a real mission's "
                "records. Run it on an empty instance, or add --force if this one is a test "
                "instance whose data you do not need."
            )
            % {"count": others}
        )
    plan = plan_of(sizes, seed)
    earlier = GeneratedMission.objects.exclude(plan=plan).first()
    if earlier is not None:
        raise RefusedInstance(
            _(
                "This instance was generated with other sizes or another seed (%(plan)s). Run "
                "again with the same options to finish it, or start from an empty instance."
            )
            % {"plan": ", ".join(f"{key} {value}" for key, value in earlier.plan.items())}
        )


def missing_missions(sizes: Sizes) -> list[int]:
    done = set(GeneratedMission.objects.values_list("index", flat=True))
    return [index for index in range(sizes.missions) if index not in done]


@contextmanager
def dates_as_given(*model_list: type[models.Model]) -> Iterator[None]:
    """Let the generator write created/updated dates itself (spread over five years) instead
    of ``auto_now``/``auto_now_add`` stamping every row with this minute."""
    changed = []
    for model in model_list:
        for field in model._meta.concrete_fields:
            if isinstance(field, models.DateField) and (field.auto_now or field.auto_now_add):
                changed.append((field, field.auto_now, field.auto_now_add))
                field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in changed:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


@contextmanager
def fast_sqlite() -> Iterator[None]:
    """On SQLite, ``synchronous=NORMAL`` for the generator's own connections only.

    With WAL this cannot corrupt the database; a power cut may lose the last missions, which
    the next run makes again. Real instances keep ``synchronous=FULL``: the setting ends here.
    """
    # Inside a transaction (a test's) SQLite cannot change it, and need not.
    sqlite = [
        connection
        for connection in connections.all()
        if connection.vendor == "sqlite" and not connection.in_atomic_block
    ]
    for connection in sqlite:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=NORMAL")
    try:
        yield
    finally:
        for connection in sqlite:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=FULL")


GENERATED_MODELS: tuple[type[models.Model], ...] = (
    Defender,
    Organisation,
    ConsentRecord,
    Case,
    StatusChange,
    Incident,
    RiskAssessment,
    Action,
    FollowUp,
    Note,
    Hearing,
    Detention,
    Referral,
)

Progress = Callable[[str, int], None]


def generate(
    *,
    sizes: Sizes,
    seed: int,
    batch: int = 2000,
    limit: int | None = None,
    progress: Progress | None = None,
) -> int:
    """Make the missions that have no marker yet (at most ``limit`` of them); return how many.

    ``check_instance`` must have passed. ``progress(stage, count)`` hears of each batch, and
    ``progress("missions", 1)`` of each mission committed.
    """
    pools = Pools.make(seed)
    plan = plan_of(sizes, seed)
    pending = missing_missions(sizes)[: limit if limit is not None else None]
    # Receipts are derived at the lowest Argon2id cost (the test suite's): the lookup and keys
    # have the real format, and no one will ever type these passphrases, which are dropped.
    cheap_receipts = override_settings(
        HAVEN_RECEIPT_KDF_OPSLIMIT=1, HAVEN_RECEIPT_KDF_MEMLIMIT=8192
    )
    with dates_as_given(*GENERATED_MODELS), fast_sqlite(), cheap_receipts:
        for index in pending:
            with keys_first(), key_scope():
                MissionMaker(sizes, seed, index, pools, batch, progress).make()
                mission_id = Mission.objects.get(slug=mission_slug(index)).pk
                GeneratedMission.objects.create(mission_id=mission_id, index=index, plan=plan)
            if progress is not None:
                progress("missions", 1)
    return len(pending)


def mission_slug(index: int) -> str:
    return f"{SLUG_PREFIX}{index + 1:04d}"


def _text(rng: random.Random, *pools: list[str]) -> str:
    return " ".join(rng.choice(pool) for pool in pools)


class MissionMaker:
    """One mission's content, planned in Python first (so the plain columns the pages read
    agree with the rows), then inserted in batches."""

    def __init__(
        self,
        sizes: Sizes,
        seed: int,
        index: int,
        pools: Pools,
        batch: int,
        progress: Progress | None,
    ) -> None:
        self.sizes = sizes
        self.index = index
        self.pools = pools
        self.batch = batch
        self.progress = progress
        self.rng = random.Random(f"haven-scale-{seed}-{index}")  # noqa: S311  (invented data)
        # A stream of its own for hearings, detentions and referrals, so that adding them
        # left the rest of a mission's content as it was.
        self.court_rng = random.Random(f"haven-scale-{seed}-{index}-courts")  # noqa: S311
        self.now = timezone.now()
        self.today = timezone.localdate()

    # -- helpers

    def _insert(self, stage: str, rows: list[Any]) -> list[Any]:
        made: list[Any] = []
        for start in range(0, len(rows), self.batch):
            chunk = rows[start : start + self.batch]
            made.extend(type(chunk[0]).objects.bulk_create(chunk))
            if self.progress is not None:
                self.progress(stage, len(chunk))
        return made

    def _past(self, max_days: int) -> datetime.datetime:
        return self.now - datetime.timedelta(
            days=self.rng.randint(0, max_days), seconds=self.rng.randint(0, 86_399)
        )

    def _person(self) -> str:
        return f"{self.rng.choice(self.pools.first_names)} {self.rng.choice(self.pools.last_names)}"

    # -- the mission

    def make(self) -> None:
        rng = self.rng
        country = rng.choice(COUNTRIES)
        self.regions = rng.sample(self.pools.places, k=min(12, len(self.pools.places)))
        self.mission = Mission.objects.create(
            name=f"Invented mission {self.index + 1}",
            slug=mission_slug(self.index),
            country=country,
            capital_region=self.regions[0],
        )
        self.country = country
        self._staff()
        n_cases = self.sizes.share("cases", self.index)
        n_defenders = self.sizes.share("defenders", self.index)
        n_organisations = self.sizes.share("organisations", self.index)
        keys = new_data_keys(n_defenders + n_organisations + n_cases)
        case_plans = self._plan_cases(n_cases, n_defenders, n_organisations)
        organisations = self._organisations(n_organisations, keys[:n_organisations])
        defenders = self._defenders(
            n_defenders, keys[n_organisations : n_organisations + n_defenders], organisations
        )
        self._cases(case_plans, keys[n_organisations + n_defenders :], defenders, organisations)
        record(
            action="scale.generated",
            mission=self.mission,
            object_type="core.mission",
            object_id=self.mission.pk,
            reason=(
                f"synthetic data: {n_defenders} defenders, {n_organisations} organisations, "
                f"{n_cases} cases"
            ),
        )

    def _staff(self) -> None:
        n_cases = self.sizes.share("cases", self.index)
        # One unusable password for all: no Argon2 per invented user, and no one can sign in.
        password = make_password(None)
        prefix = mission_slug(self.index)
        people: list[tuple[str, str]] = [("admin", f"{prefix}-admin-{n}") for n in (1, 2)]
        people += [
            ("officer", f"{prefix}-officer-{n}") for n in range(1, max(2, n_cases // 200) + 1)
        ]
        people.append(("viewer", f"{prefix}-viewer"))
        users = User.objects.bulk_create(
            [
                User(
                    username=username,
                    first_name=self.rng.choice(self.pools.first_names),
                    last_name=self.rng.choice(self.pools.last_names),
                    password=password,
                    must_change_password=False,
                )
                for _role, username in people
            ]
        )
        Membership.objects.bulk_create(
            [
                Membership(user=user, mission=self.mission, role=Role(role))
                for (role, _username), user in zip(people, users, strict=True)
            ]
        )
        self.casework = [
            user for (role, _u), user in zip(people, users, strict=True) if role != "viewer"
        ]

    # -- planning

    def _plan_cases(
        self, n_cases: int, n_defenders: int, n_organisations: int
    ) -> list[dict[str, Any]]:
        rng = self.rng
        plans = []
        for number in range(1, n_cases + 1):
            # More recent cases than old ones: the mission's caseload grows.
            age = int(YEARS * 365 * (rng.random() ** 1.4))
            status = self._status(age)
            urgency = rng.choices(["critical", "high", "medium", "low"], [5, 20, 50, 25])[0]
            opened = self._past(0) - datetime.timedelta(days=age, hours=rng.randint(0, 20))
            hours = self.mission.response_hours(urgency)
            due = opened + datetime.timedelta(hours=hours)
            responded = None
            if status not in AWAITING_RESPONSE:
                late = rng.random() < 0.12
                share = 1 + rng.random() * 2 if late else rng.random() * 0.95
                responded = opened + datetime.timedelta(hours=hours * share)
            if status == CaseStatus.CLOSED:
                span = rng.randint(min(age, 20), max(min(age, 20), min(age, 400)))
            else:
                span = rng.randint(0, age)
            changed = min(opened + datetime.timedelta(days=span), self.now)
            subject_is_defender = n_organisations == 0 or (n_defenders and rng.random() < 0.85)
            plans.append(
                {
                    "number": number,
                    "status": status,
                    "urgency": urgency,
                    "opened": opened,
                    "due": due,
                    "responded": responded,
                    "changed": changed,
                    "defender": rng.randrange(n_defenders) if subject_is_defender else None,
                    "organisation": None if subject_is_defender else rng.randrange(n_organisations),
                    "owner": rng.choice(self.casework),
                    "restricted": rng.random() < 0.03,
                    "portal": rng.random() < PORTAL_SHARE,
                    "rows": [],
                }
            )
        self._plan_rows(plans)
        return plans

    def _status(self, age: int) -> str:
        if age < 3:
            weights = [60, 20, 10, 5, 5, 0, 0, 0, 0]
        elif age < 90:
            weights = [4, 8, 8, 12, 15, 33, 8, 2, 10]
        elif age < 365:
            weights = [0, 1, 2, 5, 5, 22, 15, 10, 40]
        else:
            weights = [0, 0, 0, 0, 1, 3, 4, 7, 85]
        return self.rng.choices(LIFECYCLE, weights)[0]

    def _plan_rows(self, plans: list[dict[str, Any]]) -> None:
        """Spread the mission's rows over its cases (older, worked cases get more), and pick
        each row's kind and date within the case's life."""
        rng = self.rng
        n_rows = self.sizes.share("rows", self.index)
        if not plans or not n_rows:
            return
        weights = [
            0.3
            if plan["status"] in AWAITING_RESPONSE
            else 1.0 + min((self.now - plan["opened"]).days, 365) / 365
            for plan in plans
        ]
        cumulative = list(itertools.accumulate(weights))
        portal = [plan for plan in plans if plan["portal"]]
        portal_cumulative = list(
            itertools.accumulate(
                w for w, plan in zip(weights, plans, strict=True) if plan["portal"]
            )
        )
        kinds = list(ROW_MIX)
        kind_cumulative = list(itertools.accumulate(ROW_MIX.values()))
        for _n in range(n_rows):
            kind = kinds[bisect.bisect(kind_cumulative, rng.random() * kind_cumulative[-1])]
            if kind == "message" and not portal:
                kind = "note"
            if kind == "message":
                plan = portal[
                    bisect.bisect(portal_cumulative, rng.random() * portal_cumulative[-1])
                ]
            else:
                plan = plans[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            opened, end = plan["opened"], plan["changed"]
            if plan["status"] != CaseStatus.CLOSED:
                end = self.now
            seconds = max(int((end - opened).total_seconds()), 1)
            plan["rows"].append((kind, opened + datetime.timedelta(seconds=rng.randrange(seconds))))
        for plan in plans:
            plan["rows"].sort(key=lambda row: row[1])

    # -- registry

    def _organisations(self, count: int, keys: list[Any]) -> list[Organisation]:
        rng = self.rng
        rows = []
        for data_key in keys[:count]:
            created = self._past(YEARS * 365)
            rows.append(
                Organisation(
                    mission_id=self.mission.pk,
                    data_key_id=data_key.pk,
                    name=f"{rng.choice(self.pools.last_names)} {rng.choice(ORGANISATION_WORDS)}",
                    country=self.country,
                    region=rng.choice(self.regions),
                    work_focus=rng.sample(WORK_FOCUS.codes, k=rng.randint(1, 3)),  # type: ignore[misc]
                    visibility=rng.choice(Visibility.values),
                    kind=rng.choice(OrganisationKind.values),
                    notes="" if rng.random() < 0.7 else rng.choice(NOTES),
                    created_at=created,
                    updated_at=created,
                )
            )
        return self._insert("organisations", rows)

    def _defenders(
        self, count: int, keys: list[Any], organisations: list[Organisation]
    ) -> list[Defender]:
        rng = self.rng
        rows = []
        for data_key in keys[:count]:
            created = self._past(YEARS * 365)
            tags = rng.sample(IDENTITY_TAGS.codes, k=1) if rng.random() < 0.3 else []
            rows.append(
                Defender(
                    mission_id=self.mission.pk,
                    data_key_id=data_key.pk,
                    name=self._person(),
                    known_as="" if rng.random() < 0.85 else self._person(),
                    place=rng.choice(self.pools.places),
                    country=self.country,
                    region=rng.choice(self.regions),
                    actor_type=rng.choice(ACTOR_TYPES.codes),
                    work_focus=rng.sample(WORK_FOCUS.codes, k=rng.randint(1, 3)),  # type: ignore[misc]
                    visibility=rng.choice(Visibility.values),
                    identity_tags=tags,
                    notes="" if rng.random() < 0.7 else rng.choice(NOTES),
                    created_at=created,
                    updated_at=created,
                )
            )
        return rows

    def _insert_defenders(
        self, defenders: list[Defender], organisations: list[Organisation]
    ) -> None:
        rng = self.rng
        self._insert("defenders", defenders)
        channels, consents, affiliations = [], [], []
        for defender in defenders:
            kind = rng.choice(["signal", "whatsapp", "phone", "email"])
            if kind == "email":
                first, last = str(defender.name).split(" ", 1)
                value = f"{first}.{last}{rng.randint(1, 99)}@{rng.choice(self.pools.emails)}"
                value = value.lower().replace(" ", "")
            else:
                value = (
                    f"+{rng.randint(20, 260)} 7{rng.randint(10, 99)} "
                    f"{rng.randint(100, 999)} {rng.randint(100, 999)}"
                )
            channels.append(
                ContactChannel(
                    mission_id=self.mission.pk,
                    data_key_id=defender.data_key_id,
                    defender_id=defender.pk,
                    channel_type=kind,
                    value=value,
                    preferred=True,
                    lookup=blind_index(value, "email" if kind == "email" else "phone"),
                )
            )
            given = defender.created_at.date()
            consents.append(self._consent(defender, "keep_contact", given))
            if rng.random() < 0.75:
                consents.append(self._consent(defender, "deidentified_reporting", given))
            if rng.random() < 0.03:
                consents.append(
                    self._consent(defender, "share_missions", given, detail="Like-minded missions")
                )
            if organisations and rng.random() < 0.4:
                affiliations.append(
                    Affiliation(
                        mission_id=self.mission.pk,
                        data_key_id=defender.data_key_id,
                        defender_id=defender.pk,
                        organisation_id=rng.choice(organisations).pk,
                        role=rng.choice(["member", "coordinator", "lawyer", "founder", ""]),
                        started_on=given,
                    )
                )
        self._insert("channels", channels)
        self._insert("consents", consents)
        if affiliations:
            self._insert("affiliations", affiliations)

    def _consent(
        self, defender: Defender, scope: str, given: datetime.date, detail: str = ""
    ) -> ConsentRecord:
        expires = None
        if scope == "share_missions":
            expires = given + datetime.timedelta(days=self.rng.randint(180, 3 * 365))
        return ConsentRecord(
            mission_id=self.mission.pk,
            data_key_id=defender.data_key_id,
            defender_id=defender.pk,
            scope=scope,
            channel=self.rng.choice(["in_person", "signal", "phone"]),
            given_on=given,
            expires_on=expires,
            detail=detail,
            created_at=defender.created_at,
        )

    # -- cases

    def _cases(
        self,
        plans: list[dict[str, Any]],
        keys: list[Any],
        defenders: list[Defender],
        organisations: list[Organisation],
    ) -> None:
        rows_by_case = [self._case_rows(plan) for plan in plans]
        # The defender's current risk is the one of their latest assessed case.
        for plan in sorted(plans, key=lambda plan: plan["opened"]):
            if plan["defender"] is not None and plan["risk"]:
                defenders[plan["defender"]].risk_level = plan["risk"]
        self._insert_defenders(defenders, organisations)
        submissions = self._submissions(plans, defenders)
        cases = []
        for plan, data_key in zip(plans, keys, strict=True):
            cases.append(self._case(plan, data_key, defenders, organisations))
            submission = submissions.get(plan["number"])
            cases[-1].submission_id = None if submission is None else submission.pk
        cases = self._insert("cases", cases)
        changes: list[StatusChange] = []
        by_model: dict[type[models.Model], list[Any]] = {}
        for case, plan, rows in zip(cases, plans, rows_by_case, strict=True):
            changes.extend(self._status_changes(case, plan))
            for row in rows:
                if isinstance(row, Message):
                    row.submission = submissions[plan["number"]]
                    by_model.setdefault(Message, []).append(row)
                    continue
                row.case_id = case.pk
                row.data_key_id = case.data_key_id
                by_model.setdefault(type(row), []).append(row)
        self._insert("status changes", changes)
        messages = by_model.pop(Message, [])
        for model, rows in by_model.items():
            self._insert(str(model._meta.verbose_name_plural), rows)
        if messages:
            self._insert_messages(messages)
        self._hearings_detentions_referrals(cases, plans, defenders)

    def _case(
        self,
        plan: dict[str, Any],
        data_key: Any,
        defenders: list[Defender],
        organisations: list[Organisation],
    ) -> Case:
        rng = self.rng
        status = plan["status"]
        second = None
        if plan["risk"] in {"high", "critical"} and len(self.casework) > 1:
            second = rng.choice([user for user in self.casework if user != plan["owner"]])
        is_open = status != CaseStatus.CLOSED
        return Case(
            mission_id=self.mission.pk,
            data_key_id=data_key.pk,
            number=plan["number"],
            title=rng.choice(EVENTS),
            summary=_text(rng, DETAILS, THREATS),
            defender_id=None if plan["defender"] is None else defenders[plan["defender"]].pk,
            organisation_id=None
            if plan["organisation"] is None
            else organisations[plan["organisation"]].pk,
            urgency=plan["urgency"],
            status=status,
            status_changed_at=plan["changed"],
            closure_reason="" if is_open else rng.choice(CLOSURES),
            opened_at=plan["opened"],
            response_due_at=plan["due"],
            responded_at=plan["responded"],
            risk_level=plan["risk"],
            imminent=plan["imminent"] and is_open,
            review_due_on=plan["review_due"] if is_open else None,
            next_contact_on=plan["next_contact"] if is_open else None,
            last_contact_on=plan["last_contact"],
            owner_id=plan["owner"].pk,
            second_officer_id=None if second is None else second.pk,
            restricted=plan["restricted"],
            sections=["consular"] if rng.random() < 0.05 else [],  # type: ignore[misc]
            updated_at=max(plan["changed"], plan["opened"]),
        )

    def _submissions(
        self, plans: list[dict[str, Any]], defenders: list[Defender]
    ) -> dict[int, Submission]:
        """The portal requests the portal cases came from, sealed as the portal seals them:
        to a key of their own (in the key store), with a receipt keypair for the replies."""
        rng = self.rng
        made: dict[int, Submission] = {}
        for plan in plans:
            if not plan["portal"]:
                continue
            submission_key = new_submission_key(self.mission)
            receipt = derive(new_passphrase(), mission_id=self.mission.pk)
            submission = Submission(
                mission_id=self.mission.pk,
                received_on=plan["opened"].date(),
                kind=rng.choice(["help", "incident"]),
                suggested_urgency=plan["urgency"],
                urgency=plan["urgency"],
                status=SubmissionStatus.CLOSED
                if plan["status"] == CaseStatus.CLOSED
                else SubmissionStatus.IN_PROGRESS,
                key_id=submission_key.id,
                public_key=bytes(submission_key.public_key),
                receipt_lookup=receipt.lookup,
                receipt_public_key=receipt.public_key,
                defender_id=None if plan["defender"] is None else defenders[plan["defender"]].pk,
            )
            answers = {
                "kind": submission.kind,
                "description": rng.choice(DETAILS),
                "at_risk": "me",
                "help_wanted": [],
                "consent": ["keep_contact"],
                "language": "en",
                "submitted_at": plan["opened"].isoformat(),
            }
            submission.sealed = seal(
                submission.public_key,
                json.dumps(answers).encode("utf-8"),
                context=b"submission" + submission.uid.bytes,
            )
            made[plan["number"]] = submission
        if made:
            self._insert("requests", list(made.values()))
        return made

    def _insert_messages(self, messages: list[Message]) -> None:
        """Seal each message for the person (their receipt key) and for the mission (the
        request's key, bound to the message's id, so sealed once the id is known)."""
        for message in messages:
            text = bytes(message.sealed_for_mission)
            message.sealed_for_person = seal_to_receipt(message.submission.receipt_public_key, text)
        self._insert("messages", messages)
        for message in messages:
            submission = message.submission
            message.sealed_for_mission = seal(
                submission.public_key,
                bytes(message.sealed_for_mission),
                context=b"message" + message.pk.to_bytes(8, "big") + submission.uid.bytes,
            )
        Message.objects.bulk_update(messages, ["sealed_for_mission"], batch_size=self.batch)

    def _hearings_detentions_referrals(
        self, cases: list[Case], plans: list[dict[str, Any]], defenders: list[Defender]
    ) -> None:
        """Fewer than the other rows: court dates for about one case in twenty-five, a
        detention for one defender's case in fifty, referrals to the mission's directory for
        one case in twenty."""
        rng = self.court_rng
        mechanisms = list(
            Mechanism.objects.filter(mission_id=self.mission.pk).values_list("pk", flat=True)
        )
        hearings: list[Hearing] = []
        detentions: list[Detention] = []
        referrals: list[Referral] = []
        for case, plan in zip(cases, plans, strict=True):
            if plan["status"] in AWAITING_RESPONSE:
                continue
            opened, end = plan["opened"], plan["changed"]
            is_open = plan["status"] != CaseStatus.CLOSED
            if is_open:
                end = self.now
            span = max(int((end - opened).total_seconds()), 1)

            def moment() -> datetime.datetime:
                return opened + datetime.timedelta(seconds=rng.randrange(span))  # noqa: B023

            common = {
                "mission_id": self.mission.pk,
                "case_id": case.pk,
                "data_key_id": case.data_key_id,
                "recorded_by_id": plan["owner"].pk,
            }
            if rng.random() < 0.04:
                recorded = moment()
                if is_open and rng.random() < 0.4:
                    starts = self.now + datetime.timedelta(days=rng.randint(1, 60))
                    status = "scheduled"
                else:
                    starts = recorded + datetime.timedelta(days=rng.randint(1, 60))
                    starts = min(starts, self.now - datetime.timedelta(hours=1))
                    status = rng.choices(["held", "postponed", "cancelled"], [80, 12, 8])[0]
                hearings.append(
                    Hearing(
                        **common,
                        created_at=recorded,
                        court=f"{rng.choice(self.pools.places)} court, room {rng.randint(1, 9)}",
                        tribunal=rng.choices(["civilian", "military", "special"], [85, 5, 10])[0],
                        starts_at=starts.replace(hour=9, minute=30, second=0, microsecond=0),
                        status=status,
                        partner_observers="" if rng.random() < 0.6 else "Like-minded mission",
                    )
                )
            if plan["defender"] is not None and rng.random() < 0.02:
                detained = moment()
                released = None
                if not is_open or rng.random() < 0.6:
                    released = min(
                        detained.date() + datetime.timedelta(days=rng.randint(1, 120)),
                        self.today,
                    )
                detentions.append(
                    Detention(
                        **common,
                        created_at=detained,
                        defender_id=defenders[plan["defender"]].pk,
                        detained_on=detained.date(),
                        released_on=released,
                        place=f"{rng.choice(self.pools.places)} police station",
                        acknowledged=rng.random() < 0.8,
                        location_disclosed=rng.random() < 0.7,
                        family_contact=rng.random() < 0.5,
                        lawyer_contact=rng.random() < 0.6,
                        counsel=rng.choice(["none", "chosen", "appointed", "denied"]),
                        health_concerns="" if rng.random() < 0.8 else "Needs daily medication.",
                    )
                )
            if mechanisms and rng.random() < 0.05:
                referred = moment()
                status = rng.choices(
                    ["sent", "accepted", "declined", "completed", "withdrawn"], [15, 20, 15, 45, 5]
                )[0]
                referrals.append(
                    Referral(
                        **common,
                        created_at=referred,
                        mechanism_id=rng.choice(mechanisms),
                        referred_on=referred.date(),
                        status=status,
                        outcome=rng.choice(CHECK_INS) if status == "completed" else "",
                    )
                )
        for stage, rows in (
            ("hearings", hearings),
            ("detentions", detentions),
            ("referrals", referrals),
        ):
            if rows:
                self._insert(stage, rows)

    def _status_changes(self, case: Case, plan: dict[str, Any]) -> list[StatusChange]:
        """The case's way through the lifecycle: some steps skipped, as real cases do."""
        rng = self.rng
        final = LIFECYCLE.index(plan["status"])
        steps = [status for status in LIFECYCLE[1:final] if rng.random() < 0.6]
        if not final:
            return []
        steps.append(plan["status"])
        changes = []
        previous = CaseStatus.RECEIVED.value
        start, end = plan["opened"], plan["changed"]
        span = max(int((end - start).total_seconds()), len(steps) + 1)
        moments = sorted(rng.randrange(span) for _step in steps[:-1])
        for status, offset in zip(steps, [*moments, span], strict=True):
            changes.append(
                StatusChange(
                    case_id=case.pk,
                    from_status=previous,
                    to_status=status,
                    reason=case.closure_reason if status == CaseStatus.CLOSED else "",
                    actor_id=plan["owner"].pk,
                    at=min(start + datetime.timedelta(seconds=offset), end),
                )
            )
            previous = status
        return changes

    def _case_rows(self, plan: dict[str, Any]) -> list[Any]:
        """The case's rows, and the plain columns of the case they imply."""
        rng = self.rng
        mission = self.mission
        owner = plan["owner"]
        is_open = plan["status"] != CaseStatus.CLOSED
        plan.update(risk="", imminent=False, review_due=None, next_contact=None, last_contact=None)
        made: list[Any] = []
        for kind, at in plan["rows"]:
            day = at.date()
            common = {"mission_id": mission.pk, "recorded_by_id": owner.pk, "created_at": at}
            if kind == "incident":
                made.append(
                    Incident(
                        **common,
                        incident_type=rng.choice(THREAT_TYPES.codes),
                        occurred_on=day - datetime.timedelta(days=rng.randint(0, 30)),
                        place=rng.choice(self.pools.places),
                        description=_text(rng, DETAILS, DETAILS),
                        perpetrator_type=rng.choice(PERPETRATOR_TYPES.codes),
                        involvement=rng.choice(["carried_out", "ordered", "suspected", "unknown"]),
                        source_type=rng.choice(["victim", "family", "witness", "colleague"]),
                        reliability=rng.choice(["high", "usual", "fair", "unknown"]),
                        verification=rng.choice(["confirmed", "likely", "possible", "unknown"]),
                        specific_threat=rng.random() < 0.2,
                    )
                )
            elif kind == "assessment":
                level = rng.choices(["low", "medium", "high", "critical"], [25, 40, 25, 10])[0]
                review = day + datetime.timedelta(days=rng.choice([7, 14, 30, 60, 90]))
                imminent = level == "critical" and rng.random() < 0.4
                made.append(
                    RiskAssessment(
                        **common,
                        threats=rng.sample(THREATS, 2),
                        vulnerabilities=rng.sample(VULNERABILITIES, 1),
                        capacities=rng.sample(CAPACITIES, 2),
                        level=level,
                        imminent=imminent,
                        rationale=_text(rng, THREATS, DETAILS),
                        next_review_on=review,
                    )
                )
                plan.update(risk=level, imminent=imminent, review_due=review)
            elif kind == "action":
                made.append(self._action(common, day, is_open))
            elif kind == "follow_up":
                following = day + datetime.timedelta(days=rng.choice([7, 14, 21, 30]))
                made.append(
                    FollowUp(
                        **common,
                        contacted_on=day,
                        method=rng.choice(["in_person", "call", "message", "portal"]),
                        summary=rng.choice(CHECK_INS),
                        next_contact_on=following,
                    )
                )
                plan.update(last_contact=day, next_contact=following)
            elif kind == "message":
                from_mission = rng.random() < 0.5
                text = rng.choice(MESSAGES_FROM_MISSION if from_mission else MESSAGES_FROM_PERSON)
                made.append(
                    Message(
                        direction=Message.Direction.FROM_MISSION
                        if from_mission
                        else Message.Direction.FROM_DEFENDER,
                        sent_on=day,
                        author_id=owner.pk if from_mission else None,
                        sealed_for_mission=text.encode("utf-8"),  # sealed once it has its id
                    )
                )
            else:
                made.append(Note(**common, text=rng.choice(NOTES)))
        if not plan["risk"] and plan["status"] not in AWAITING_RESPONSE and rng.random() < 0.5:
            plan["risk"] = rng.choice(["low", "medium"])
        return made

    def _action(self, common: dict[str, Any], day: datetime.date, is_open: bool) -> Action:
        rng = self.rng
        due = day + datetime.timedelta(days=rng.randint(3, 45))
        if is_open and due > self.today:
            status = rng.choice(["planned", "in_progress"])
        else:
            status = rng.choices(["done", "cancelled", "on_hold"], [85, 10, 5])[0]
        done = status == "done"
        return Action(
            **common,
            action_type=rng.choice(MISSION_ACTIONS.codes),
            owner_id=common["recorded_by_id"],
            due_on=due,
            status=status,
            details=rng.choice(EVENTS),
            reprisal_check="Family informed, no public mention.",
            reprisal_checked_at=common["created_at"],
            outcome=rng.choice(CHECK_INS) if done else "",
            host_response=rng.choice(["pledged", "denied", "none", "favourable"]) if done else "",
            defender_told=done and rng.random() < 0.7,
            hold_reason="consent_withdrawn" if status == "on_hold" else "",
            completed_on=min(due, self.today) if done else None,
        )
