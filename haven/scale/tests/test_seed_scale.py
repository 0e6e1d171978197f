"""The scale generator, at the tiny size: what it makes, how it is encrypted, that it resumes
and that it refuses an instance holding real missions. Correctness only, no timings."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from haven.accounts.models import Membership
from haven.cases import services as cases
from haven.cases.models import (
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
from haven.crypto.cache import key_scope
from haven.crypto.fields import EncryptedField
from haven.intake import services as intake
from haven.intake.models import Message, Submission
from haven.monitoring.models import Detention, Hearing
from haven.referrals.models import Referral
from haven.registry.models import (
    Affiliation,
    ConsentRecord,
    ContactChannel,
    Defender,
    Organisation,
)
from haven.scale.generator import PRESETS
from haven.scale.models import GeneratedMission
from tests import factories

TINY = PRESETS["tiny"]
ROW_MODELS = [Incident, RiskAssessment, Action, FollowUp, Note]
ENCRYPTED_MODELS = [
    Defender,
    Organisation,
    ContactChannel,
    ConsentRecord,
    Affiliation,
    Case,
    *ROW_MODELS,
]
# In smaller proportions than the rows: at the tiny size some may have none.
COURT_MODELS = [Hearing, Detention, Referral]


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_scale", "--preset", "tiny", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def totals() -> dict[str, int]:
    counts = {
        model.__name__: model.objects.count()
        for model in [*ENCRYPTED_MODELS, *COURT_MODELS, StatusChange, Submission, Message]
    }
    counts["Mission"] = Mission.objects.count()
    counts["Membership"] = Membership.objects.count()
    return counts


def test_tiny_preset_makes_the_asked_sizes_with_consistent_plain_columns(db: Any) -> None:
    seed()
    assert Mission.objects.count() == TINY.missions == GeneratedMission.objects.count()
    assert Defender.objects.count() == TINY.defenders
    assert Organisation.objects.count() == TINY.organisations
    assert Case.objects.count() == TINY.cases
    assert sum(model.objects.count() for model in ROW_MODELS) + Message.objects.count() == (
        TINY.rows
    )
    assert Message.objects.exists()
    assert Submission.objects.count() == Case.objects.filter(submission__isnull=False).count()
    for mission in Mission.objects.all():
        roles = set(Membership.objects.filter(mission=mission).values_list("role", flat=True))
        assert roles == {"admin", "officer", "viewer"}
        numbers = list(Case.objects.filter(mission=mission).values_list("number", flat=True))
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    assert ContactChannel.objects.count() == TINY.defenders
    assert ConsentRecord.objects.filter(scope="keep_contact").count() == TINY.defenders
    assert ConsentRecord.objects.filter(scope="deidentified_reporting").count() > TINY.defenders / 2
    for case in Case.objects.all():
        # A case's plain columns agree with its rows, as the services would keep them.
        follow_ups = list(case.followups.order_by("contacted_on", "created_at"))
        if follow_ups:
            assert case.last_contact_on == max(row.contacted_on for row in follow_ups)
        else:
            assert case.last_contact_on is None
        assessments = list(case.riskassessments.order_by("created_at"))
        if assessments:
            assert case.risk_level == assessments[-1].level
        assert case.owner.memberships.get(mission=case.mission_id).role in {"admin", "officer"}
        assert (case.closure_reason != "") == (case.status == CaseStatus.CLOSED)
        if case.status == CaseStatus.CLOSED:
            assert case.next_contact_on is None and case.review_due_on is None
        assert case.opened_at <= case.status_changed_at
        assert all(row.created_at >= case.opened_at for row in follow_ups)
    opened = [case.opened_at for case in Case.objects.all()]
    assert (max(opened) - min(opened)).days > 365  # spread over years, not stamped now


def test_every_encrypted_field_opens_through_the_orm(db: Any) -> None:
    seed()
    assert sum(model.objects.count() for model in COURT_MODELS) > 0
    with key_scope():
        for model in [*ENCRYPTED_MODELS, *COURT_MODELS]:
            rows = list(model.objects.order_by("pk")[:15])
            assert rows or model in COURT_MODELS, model
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]
            for row in rows:
                for field in fields:
                    value = getattr(row, field.attname)
                    assert value is None or isinstance(value, str | list | dict)
    names = [str(defender.name) for defender in Defender.objects.all()[:5]]
    assert all(" " in name for name in names)


def test_portal_requests_and_messages_open_as_the_portal_sealed_them(db: Any) -> None:
    seed()
    submission = Submission.objects.filter(messages__isnull=False).first()
    assert submission is not None
    case = submission.cases.get()
    with key_scope():
        answers = intake.open_submission(submission=submission, actor=case.owner)
        conversation = intake.conversation_for_mission(submission)
    assert answers["kind"] == submission.kind and answers["description"]
    assert conversation and all(text for _message, text in conversation)
    for message, text in conversation:
        # Sealed for the person too: a sealed box of the same text (48 bytes of overhead).
        assert len(bytes(message.sealed_for_person)) == len(text.encode("utf-8")) + 48
        assert text.encode("utf-8") not in bytes(message.sealed_for_person)


def _blob(model: Any, field: str, pk: int) -> bytes:
    stored = model.objects.filter(pk=pk).values_list(field, flat=True).get()
    return base64.b64decode(stored.token)


def test_bulk_ciphertext_has_the_format_the_services_write(db: Any) -> None:
    seed()
    note = Note.objects.select_related("case__owner").first()
    assert note is not None
    case = note.case
    with key_scope():
        written = cases.add_note(case=case, actor=case.owner, text=str(note.text))
        assert str(Note.objects.get(pk=written.pk).text) == str(note.text)
    generated, normal = _blob(Note, "text", note.pk), _blob(Note, "text", written.pk)
    # Same format byte, same key id (the case's), same padded length; a fresh nonce each.
    assert generated[0] == normal[0] == 1
    assert generated[1:17] == normal[1:17] == case.data_key_id.bytes
    assert len(generated) == len(normal) and generated != normal
    assert (len(generated) - 1 - 16 - 24 - 16) % 32 == 0  # header, nonce, tag; padded body
    # A blind index computed in bulk finds the defender, as the registry search does.
    from haven.crypto.blindindex import blind_index

    defender = Defender.objects.first()
    assert defender is not None
    assert Defender.objects.filter(name_index=blind_index(str(defender.name), "name")).exists()
    channel = ContactChannel.objects.exclude(channel_type="email").first()
    assert channel is not None
    assert ContactChannel.objects.filter(lookup=blind_index(str(channel.value), "phone")).exists()


def test_rerun_adds_nothing_and_says_it_is_complete(db: Any) -> None:
    seed()
    before = totals()
    assert "Already complete" in seed()
    assert totals() == before


def test_interrupted_run_resumes_to_the_same_totals(transactional_db: Any) -> None:
    seed()
    full = totals()
    names = sorted(str(defender.name) for defender in Defender.objects.all())
    # An instance built in two runs (the first stopped after one mission) ends up the same.
    call_command("flush", interactive=False, verbosity=0)
    call_command("flush", interactive=False, verbosity=0, database="keys")
    assert "left" in seed("--limit", "1")
    assert GeneratedMission.objects.count() == 1
    assert "Resuming" in seed()
    assert totals() == full
    assert sorted(str(defender.name) for defender in Defender.objects.all()) == names


def test_refuses_an_instance_with_a_mission_it_did_not_make(db: Any) -> None:
    real = factories.make_mission()
    with pytest.raises(CommandError, match="did not make"):
        seed()
    assert Defender.objects.count() == 0 and Case.objects.count() == 0
    seed("--force")
    assert Defender.objects.count() == TINY.defenders
    assert not Defender.objects.filter(mission=real).exists()


def test_refuses_to_resume_with_another_plan(db: Any) -> None:
    seed("--limit", "1")
    with pytest.raises(CommandError, match="other sizes or another seed"):
        seed("--seed", "7")


def test_generated_cases_show_on_the_pages_their_owner_uses(db: Any) -> None:
    from django.urls import reverse
    from django_otp.plugins.otp_totp.models import TOTPDevice

    seed()
    case = (
        Case.objects.filter(restricted=False, followups__isnull=False)
        .exclude(status=CaseStatus.CLOSED)
        .first()
    )
    assert case is not None
    owner = case.owner
    TOTPDevice.objects.create(user=owner, name="test", confirmed=True)
    client = factories.signed_in_client(owner)
    page = client.get(reverse("cases:case", kwargs={"case_id": case.pk}))
    assert page.status_code == 200
    assert str(case.title) in page.content.decode()
    listing = client.get(reverse("cases:list"))
    assert listing.status_code == 200 and case.reference in listing.content.decode()
    assert client.get(reverse("core:desk")).status_code == 200
