"""The canary scan over everything that stores identifying data.

Every concrete model with encrypted fields needs a planter here that creates a row through
the normal code path with a unique token in each encrypted field; a model without one, or a
planter that leaves an encrypted field without its token, fails the test. Then the tokens
are searched for in the databases (data and key store), the media and log folders, and the
temporary files written meanwhile: the figure is 0 hits.
"""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from haven.crypto.datakeys import new_data_key
from haven.crypto.fields import EncryptedJSONField, EncryptedTextField
from haven.crypto.models import EncryptedModel
from haven.crypto.sealing import create_intake_key, seal
from haven.crypto.shredding import encrypted_models
from haven.crypto.streams import encrypt_stream
from tests.canary import new_token, scan

Planter = Callable[[Any, Callable[[str], str]], EncryptedModel]
PLANTERS: dict[str, Planter] = {}


def planter(label: str) -> Callable[[Planter], Planter]:
    def register(function: Planter) -> Planter:
        PLANTERS[label] = function
        return function

    return register


@planter("testapp.Subject")
def _subject(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from tests.testapp.models import Subject

    subject = Subject(mission=mission, data_key=new_data_key())
    subject.name = token("name")
    subject.nickname = token("nickname")
    subject.phone = token("phone")
    subject.email = token("email")
    subject.profile = {"place": token("profile"), "list": [token("profile-list")]}
    subject.notes = token("notes")
    subject.save()
    return subject


@planter("testapp.SubjectNote")
def _note(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from tests.testapp.models import SubjectNote

    subject = _subject(mission, token)
    return SubjectNote.objects.create(
        subject=subject, data_key=subject.data_key, body=token("body")
    )


@planter("registry.Defender")
def _defender(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from haven.registry.services import create_defender

    defender = create_defender(
        mission=mission,
        actor=None,
        allow_duplicates=True,
        name=token("name"),
        known_as=token("knownas"),
        place=token("place"),
        notes=token("notes"),
    )
    # Identity tags are vocabulary codes, which no token is: the model's own save path
    # encrypts whatever the list holds, so a token stands in for a code here.
    defender.identity_tags = [token("identitytag")]
    defender.save()
    return defender


@planter("registry.Organisation")
def _organisation(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from haven.registry.services import create_organisation

    return create_organisation(
        mission=mission,
        actor=None,
        allow_duplicates=True,
        name=token("orgname"),
        kind="informal",
        notes=token("orgnotes"),
    )


@planter("registry.ContactChannel")
def _channel(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from haven.registry.services import ChannelInput, create_defender

    defender = create_defender(
        mission=mission,
        actor=None,
        allow_duplicates=True,
        name=token("name"),
        channels=[ChannelInput("intermediary", token("channel"), token("safety"))],
    )
    return defender.channels.get()


@planter("registry.Affiliation")
def _affiliation(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from haven.registry.services import add_affiliation

    return add_affiliation(
        defender=_defender(mission, token),
        organisation=_organisation(mission, token),
        actor=None,  # type: ignore[arg-type]
        role=token("role"),
    )


@planter("registry.Relation")
def _relation(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from haven.registry.services import add_relation

    return add_relation(
        defender=_defender(mission, token),
        actor=None,  # type: ignore[arg-type]
        kind="family",
        name=token("relative"),
        details=token("relativedetails"),
    )


@planter("registry.ConsentRecord")
def _consent(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from django.utils import timezone

    from haven.registry.services import record_consent, withdraw_consent

    consent = record_consent(
        entry=_defender(mission, token),
        actor=None,
        scope="share_missions",
        channel="in_person",
        given_on=timezone.localdate(),
        given_by="family",
        given_by_name=token("giver"),
        detail=token("recipients"),
    )
    return withdraw_consent(consent=consent, actor=None, reason="other", note=token("withdrawal"))


def _case(mission: Any, token: Callable[[str], str]) -> Any:
    from haven.cases.services import open_case
    from tests.factories import make_user

    owner = make_user(mission, "officer")
    return open_case(
        mission=mission,
        actor=owner,
        title=token("casetitle"),
        summary=token("casesummary"),
        urgency="high",
        defender=_defender(mission, token),
    )


@planter("cases.Case")
def _case_planter(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    return _case(mission, token)  # type: ignore[no-any-return]


@planter("cases.Incident")
def _incident(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from django.utils import timezone

    from haven.cases.services import record_incident

    case = _case(mission, token)
    return record_incident(
        case=case,
        actor=case.owner,
        incident_type="death_threat",
        occurred_on=timezone.localdate(),
        place=token("incidentplace"),
        description=token("incidentdescription"),
        perpetrator_type="police",
        source_type="victim",
        specific_threat=True,
    )


@planter("cases.RiskAssessment")
def _assessment(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from haven.cases.services import record_assessment

    case = _case(mission, token)
    return record_assessment(
        case=case,
        actor=case.owner,
        level="medium",
        rationale=token("rationale"),
        threats=[token("threat")],
        vulnerabilities=[token("vulnerability")],
        capacities=[token("capacity")],
    )


@planter("cases.Action")
def _action(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from haven.cases.services import plan_action, update_action

    case = _case(mission, token)
    action = plan_action(
        case=case,
        actor=case.owner,
        action_type="capacity_building",
        details=token("actiondetails"),
        reprisal_check=token("reprisalcheck"),
    )
    update_action(action=action, actor=case.owner, changes={"outcome": token("outcome")})
    return action


@planter("cases.Note")
def _case_note(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from haven.cases.services import add_note

    case = _case(mission, token)
    return add_note(case=case, actor=case.owner, text=token("casenote"))


@planter("cases.FollowUp")
def _follow_up(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from django.utils import timezone

    from haven.cases.services import record_follow_up

    case = _case(mission, token)
    return record_follow_up(
        case=case,
        actor=case.owner,
        contacted_on=timezone.localdate(),
        method="call",
        summary=token("followup"),
    )


@planter("cases.Handover")
def _handover(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from haven.cases.services import HandoverMove, hand_over
    from tests.factories import make_user

    case = _case(mission, token)
    successor = make_user(mission, "officer")
    [handover] = hand_over(
        actor=case.owner, moves=[HandoverMove(case, successor, token("handovernote"))]
    )
    return handover


@planter("cases.RelocationTask")
def _relocation_task(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    import datetime

    from django.utils import timezone

    from haven.cases.relocation import complete_task, plan_relocation

    case = _case(mission, token)
    today = timezone.localdate()
    task = plan_relocation(
        case=case, actor=case.owner, departs_on=today, returns_on=today + datetime.timedelta(90)
    )[0]
    return complete_task(task=task, actor=case.owner, notes=token("relocationnotes"))


def _hearing(mission: Any, token: Callable[[str], str]) -> Any:
    import datetime

    from django.utils import timezone

    from haven.monitoring.services import schedule_hearing

    case = _case(mission, token)
    return schedule_hearing(
        case=case,
        actor=case.owner,
        court=token("court"),
        starts_at=timezone.now() - datetime.timedelta(hours=3),
        partner_observers=token("partners"),
    )


@planter("monitoring.Hearing")
def _hearing_planter(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    return _hearing(mission, token)  # type: ignore[no-any-return]


@planter("monitoring.ObservationReport")
def _observation(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from haven.monitoring.services import record_observation

    hearing = _hearing(mission, token)
    return record_observation(
        hearing=hearing,
        actor=hearing.case.owner,
        summary=token("observation"),
        access="denied",
        authorities_informed=False,
        checklist={"lawyer_access": {"assessment": "violated", "notes": token("checklist")}},
    )


def _detention(mission: Any, token: Callable[[str], str]) -> Any:
    from django.utils import timezone

    from haven.monitoring.services import record_detention

    case = _case(mission, token)
    return record_detention(
        case=case,
        actor=case.owner,
        defender=case.defender,
        detained_on=timezone.localdate(),
        acknowledged=False,
        location_disclosed=False,
        place=token("cell"),
        health_concerns=token("health"),
    )


@planter("monitoring.Detention")
def _detention_planter(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    return _detention(mission, token)  # type: ignore[no-any-return]


@planter("monitoring.DetentionVisit")
def _visit(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from django.utils import timezone

    from haven.monitoring.services import request_visit, update_visit

    detention = _detention(mission, token)
    visit = request_visit(
        detention=detention, actor=detention.case.owner, requested_on=timezone.localdate()
    )
    return update_visit(
        visit=visit,
        actor=detention.case.owner,
        status="held",
        visit_on=timezone.localdate(),
        outcome=token("visit"),
    )


@planter("monitoring.CivicEvent")
def _civic_event(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from django.utils import timezone

    from haven.monitoring.services import record_civic_event
    from tests.factories import make_user

    return record_civic_event(
        mission=mission,
        actor=make_user(mission, "officer"),
        kind="raid",
        title=token("civictitle"),
        description=token("civicdescription"),
        starts_on=timezone.localdate(),
        source_type="witness",
    )


@planter("referrals.Referral")
def _referral(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from django.utils import timezone

    from haven.referrals.models import Mechanism
    from haven.referrals.services import refer
    from haven.registry.services import record_consent

    case = _case(mission, token)
    record_consent(
        entry=case.defender,
        actor=None,
        scope="refer_named",
        channel="in_person",
        given_on=timezone.localdate(),
        detail=token("recipient"),
    )
    return refer(
        case=case,
        actor=case.owner,
        mechanism=Mechanism.objects.filter(mission=mission).first(),
        outcome=token("referral"),
    )


@planter("coordination.ReceivedBundle")
def _received_bundle(mission: Any, token: Callable[[str], str]) -> EncryptedModel:
    from tests.factories import make_mission, make_received_bundle, make_user

    # Another mission sends this one a case summary naming the defender; it is imported.
    return make_received_bundle(  # type: ignore[no-any-return]
        mission,
        make_mission(),
        actor=make_user(mission, "officer"),
        name=token("bundlename"),
        title=token("bundletitle"),
        summary=token("bundlesummary"),
    )


def _portal_conversation(mission: Any, officer: Any, token: Callable[[str], str]) -> None:
    from django.conf import settings

    """A request sent over HTTP (with canary values in its headers too), answered, read with
    its receipt and added to: everything the portal and triage store."""
    import re

    from django.test import Client

    from haven.intake import services as intake
    from haven.intake.models import Submission
    from tests.factories import portal_post

    visitor = Client(
        HTTP_USER_AGENT=token("useragent"),
        HTTP_REFERER=f"https://example.org/{token('referer')}",
        HTTP_ACCEPT_LANGUAGE="en",
        REMOTE_ADDR="198.51.100.7",
    )
    answers = {
        "kind": "help",
        "at_risk": "me",
        "name": token("requestname"),
        "work": token("work"),
        "place": token("place"),
        "description": token("description"),
        "responsible": token("responsible"),
        "steps_taken": token("steps"),
        "contact": token("contact"),
    }
    from django.core.files.uploadedfile import SimpleUploadedFile

    notes = SimpleUploadedFile("notes.txt", (token("attachment") + "\n").encode() * 500)
    answers["attachments"] = [notes]
    page = portal_post(visitor, "intake_portal:request", answers).content.decode()
    passphrase = re.search(r'<p class="secret receipt"[^>]*>([a-z ]+)</p>', page)
    assert passphrase, "the portal showed no receipt"
    assert list(settings.HAVEN_MEDIA_DIR.glob("intake/*.hvnf")), "no file was stored"
    submission = Submission.objects.filter(mission=mission).latest("pk")
    intake.open_submission(submission=submission, actor=officer)
    intake.reply(submission=submission, actor=officer, text=token("reply"))
    portal_post(
        visitor,
        "intake_portal:receipt_message",
        {"passphrase": passphrase.group(1), "text": token("followup")},
    )


def _encrypted_fields(model: type[EncryptedModel]) -> list[str]:
    return [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, EncryptedTextField | EncryptedJSONField)
    ]


def test_every_encrypted_model_has_a_planter() -> None:
    missing = [m._meta.label for m in encrypted_models() if m._meta.label not in PLANTERS]
    assert not missing, f"add a canary planter for {missing} in tests/test_canary_scan.py"


@pytest.mark.parametrize("label", sorted(PLANTERS))
def test_planters_fill_every_encrypted_field(label: str, mission: Any) -> None:
    planted: list[str] = []

    def token(field: str) -> str:
        planted.append(new_token(field.replace("-", "")))
        return planted[-1]

    row = PLANTERS[label](mission, token)
    row = type(row).objects.get(pk=row.pk)
    for name in _encrypted_fields(type(row)):
        value = str(getattr(row, name))
        assert any(t in value for t in planted), f"{label}.{name} holds no canary token"


def test_canary_scan_finds_no_identifying_value_anywhere(
    transactional_db: Any, mission: Any, officer: Any, settings: Any, tmp_path: Path
) -> None:
    tokens: list[str] = []

    def token(field: str) -> str:
        tokens.append(new_token(field.replace("-", "")))
        return tokens[-1]

    temp_before = set(Path(tempfile.gettempdir()).iterdir())
    log_file = tmp_path / "haven.log"
    handler = logging.FileHandler(log_file)
    logging.getLogger().addHandler(handler)
    stream = io.StringIO()
    console = logging.StreamHandler(stream)
    logging.getLogger().addHandler(console)
    try:
        for label in sorted(PLANTERS):
            row = PLANTERS[label](mission, token)
            type(row).objects.get(pk=row.pk)  # read back: reads go through the same paths
        _portal_conversation(mission, officer, token)
        # Sealed payloads and encrypted files, as intake will store them.
        media = tmp_path / "media"  # HAVEN_MEDIA_DIR in tests: the portal's files are here
        media.mkdir(exist_ok=True)
        intake = create_intake_key(mission)
        sealed = seal(bytes(intake.public_key), token("sealed").encode())
        (media / "sealed.bin").write_bytes(sealed)
        source = tmp_path / "upload.txt"
        source.write_text((token("file") + "\n") * 1000)
        with source.open("rb") as src, (media / "upload.enc").open("wb") as dst:
            encrypt_stream(src, dst, public_key=bytes(intake.public_key), context=b"canary")
        source.unlink()
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().removeHandler(console)
        handler.close()
    (tmp_path / "console.log").write_text(stream.getvalue())
    new_temp = [p for p in Path(tempfile.gettempdir()).iterdir() if p not in temp_before]
    folders = [media, tmp_path / "haven.log", tmp_path / "console.log", *new_temp]
    hits = scan(tokens, folders)
    assert len(tokens) >= 10
    assert hits == [], hits[:5]


def test_the_scan_sees_a_value_stored_in_the_clear(transactional_db: Any, mission: Any) -> None:
    # The same scan, on a plain column: it must find it, or its zero above means nothing.
    clear = new_token("clear")[:20]
    row = _subject(mission, lambda field: new_token(field))
    type(row).objects.filter(pk=row.pk).update(status=clear)
    assert scan([clear])


def test_after_emergency_destruction_nothing_is_found_and_nothing_decrypts(
    transactional_db: Any, mission: Any, settings: Any, tmp_path: Path
) -> None:
    from haven.crypto.cache import key_scope
    from haven.crypto.destruction import destroy_everything
    from haven.crypto.errors import DecryptionError
    from haven.crypto.keys import reload_provider

    tokens: list[str] = []

    def token(field: str) -> str:
        tokens.append(new_token(field.replace("-", "")))
        return tokens[-1]

    rows = [PLANTERS[label](mission, token) for label in sorted(PLANTERS) for _ in range(20)]
    destroy_everything(confirmed_by=[(1, "a"), (2, "b")], reason="canary")
    reload_provider()
    assert scan(tokens, [settings.HAVEN_KEY_DIR]) == []
    readable = 0
    for row in rows:
        with key_scope():
            fresh = type(row).objects.get(pk=row.pk)
            for name in _encrypted_fields(type(row)):
                try:
                    getattr(fresh, name)
                except DecryptionError:
                    continue
                readable += 1
    assert readable == 0


def test_de_identified_exports_and_dashboards_carry_no_identifying_value(
    mission: Any, officer: Any
) -> None:
    """Everything a viewer reads, and every export meant to leave the mission de-identified:
    the dashboards, the annual report input (page, CSV, JSON) and the reprisal register."""
    from django.urls import reverse

    from haven.accounts.models import Membership
    from tests.canary import variants
    from tests.factories import make_user, signed_in_client

    tokens: list[str] = []

    def token(field: str) -> str:
        tokens.append(new_token(field.replace("-", "")))
        return tokens[-1]

    for label in sorted(PLANTERS):
        for _copy in range(6):  # enough rows that counts are shown, not hidden
            PLANTERS[label](mission, token)
    _portal_conversation(mission, officer, token)
    viewer = make_user(mission, "viewer")
    Membership.objects.filter(user=officer).update(role="admin")
    pages = {
        viewer: [
            reverse("core:desk"),
            reverse("reports:dashboard"),
            reverse("reports:all_missions"),
            reverse("reports:annual"),
            reverse("reports:annual_csv"),
            reverse("reports:annual_json"),
        ],
        officer: [
            reverse("monitoring:register_csv"),
            reverse("monitoring:register_json"),
            reverse("reports:dashboard"),
        ],
    }
    bodies = []
    for user, urls in pages.items():
        client = signed_in_client(user, reauthenticated=True)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            bodies.append((url, response.content))
    found = [
        (url, name)
        for url, body in bodies
        for planted in tokens
        for name, variant in variants(planted).items()
        if variant in body
    ]
    assert len(tokens) > 100
    assert found == []
