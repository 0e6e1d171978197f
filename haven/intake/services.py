"""Everything that happens to a request: submitted on the portal, read with its receipt,
triaged, answered, linked to a defender, discarded.

The portal side (``submit``, ``open_receipt``, ``add_information``, ``request_deletion``)
needs only the intake public key and writes no audit event with a time (times of visits are
metadata, SECURITY.md). The workspace side opens sealed content with the intake private key
and records who read or changed what.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haven.accounts.models import User
from haven.audit.services import record, record_read
from haven.core.choices import Urgency
from haven.core.models import Mission
from haven.core.vocab.assistance import ASSISTANCE
from haven.crypto.models import IntakeKey
from haven.crypto.receipts import (
    ReceiptKeys,
    derive,
    new_passphrase,
    open_with_receipt,
    seal_to_receipt,
)
from haven.crypto.sealing import intake_public_key, open_sealed, seal
from haven.intake.models import (
    Message,
    PortalText,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)
from haven.registry.models import Defender

MAX_MESSAGE = 20_000
RECEIPT_NOT_FOUND = gettext_lazy(
    "These words do not open any request. Check each word and their order, then try again."
)


class IntakeError(Exception):
    """A request could not be handled; the message says why and what to do."""


def suggest_urgency(kind: str, help_wanted: list[str]) -> str:
    """A first guess for the inbox's order; the officer confirms or changes it."""
    if kind == SubmissionKind.CONTACT:
        return Urgency.LOW
    if any(ASSISTANCE.get(code)["urgent"] for code in help_wanted):
        return Urgency.CRITICAL
    if kind in {SubmissionKind.HELP, SubmissionKind.INCIDENT}:
        return Urgency.HIGH
    return Urgency.MEDIUM


def _seal_for_mission(submission: Submission, data: bytes, purpose: bytes) -> bytes:
    try:
        public_key = intake_public_key(submission.mission)
    except IntakeKey.DoesNotExist:
        raise IntakeError(
            _("This mission cannot receive requests here yet. Use its contact points above.")
        ) from None
    return seal(public_key, data, context=purpose + submission.uid.bytes)


@transaction.atomic
def submit(*, mission: Mission, answers: dict[str, Any], language: str) -> tuple[Submission, str]:
    """Store a request sealed to the mission; returns it and its receipt passphrase.

    Nothing is returned, and so no receipt shown, unless the transaction commits.
    """
    kind = answers.get("kind", "")
    if kind not in SubmissionKind.values:
        raise IntakeError(_("Choose what kind of request this is."))
    help_wanted = list(answers.get("help_wanted", []))
    ASSISTANCE.validate_list(help_wanted)
    passphrase = new_passphrase()
    keys = derive(passphrase, mission_id=mission.pk)
    submission = Submission(
        mission=mission,
        uid=uuid.uuid4(),
        received_on=timezone.localdate(),
        kind=kind,
        suggested_urgency=suggest_urgency(kind, help_wanted),
        receipt_lookup=keys.lookup,
        receipt_public_key=keys.public_key,
    )
    payload = {**answers, "language": language, "submitted_at": timezone.now().isoformat()}
    submission.sealed = _seal_for_mission(
        submission, json.dumps(payload, default=str).encode("utf-8"), b"submission"
    )
    submission.save(force_insert=True)
    return submission, passphrase


# -- the person, with their receipt


@dataclass(frozen=True)
class Opened:
    """A submission opened with its receipt on the portal, for one request."""

    submission: Submission
    keys: ReceiptKeys
    previously_used_on: Any


def open_receipt(*, mission: Mission, passphrase: str) -> Opened | None:
    """The submission this receipt belongs to, or None (the same answer for any wrong one)."""
    keys = derive(passphrase, mission_id=mission.pk)
    submission = Submission.objects.filter(mission=mission, receipt_lookup=keys.lookup).first()
    if submission is None:
        return None
    previous = submission.receipt_used_on
    today = timezone.localdate()
    if previous != today:
        Submission.objects.filter(pk=submission.pk).update(receipt_used_on=today)
    return Opened(submission, keys, previous)


@dataclass(frozen=True)
class Conversation:
    direction: str
    sent_on: Any
    text: str


def conversation_for_person(opened: Opened) -> list[Conversation]:
    return [
        Conversation(
            message.direction,
            message.sent_on,
            open_with_receipt(opened.keys, message.sealed_for_person).decode("utf-8"),
        )
        for message in opened.submission.messages.all()
    ]


def _message(submission: Submission, *, direction: str, text: str, author: User | None) -> Message:
    text = text.strip()
    if not text:
        raise IntakeError(_("Write a message first."))
    if len(text) > MAX_MESSAGE:
        raise IntakeError(
            _("The message is too long: at most %(limit)d characters.") % {"limit": MAX_MESSAGE}
        )
    data = text.encode("utf-8")
    message = Message(
        submission=submission,
        direction=direction,
        sent_on=timezone.localdate(),
        author=author,
        sealed_for_person=seal_to_receipt(submission.receipt_public_key, data),
    )
    message.save()
    message.sealed_for_mission = _seal_for_mission(
        submission, data, b"message" + message.pk.to_bytes(8, "big")
    )
    message.save(update_fields=["sealed_for_mission"])
    return message


@transaction.atomic
def add_information(*, opened: Opened, text: str) -> Message:
    """The person adds to their request; the inbox shows it as new again."""
    message = _message(
        opened.submission, direction=Message.Direction.FROM_DEFENDER, text=text, author=None
    )
    if opened.submission.status == SubmissionStatus.CLOSED:
        Submission.objects.filter(pk=opened.submission.pk).update(status=SubmissionStatus.REVIEWING)
    return message


def request_deletion(*, opened: Opened) -> None:
    """The person asks for everything to be deleted; an officer confirms it."""
    Submission.objects.filter(pk=opened.submission.pk).update(
        deletion_requested_on=timezone.localdate()
    )


# -- the workspace


def open_submission(*, submission: Submission, actor: User) -> dict[str, Any]:
    """What the person wrote, decrypted; the read is logged."""
    data = open_sealed(
        submission.mission,
        submission.sealed,
        context=b"submission" + submission.uid.bytes,
        what=_("Request %(id)s") % {"id": submission.pk},
    )
    record_read(actor=actor, mission=submission.mission, obj=submission, fields=["sealed"])
    if submission.status == SubmissionStatus.RECEIVED:
        submission.status = SubmissionStatus.REVIEWING
        submission.save(update_fields=["status"])
    answers: dict[str, Any] = json.loads(data)
    return answers


def conversation_for_mission(submission: Submission) -> list[tuple[Message, str]]:
    return [
        (
            message,
            open_sealed(
                submission.mission,
                message.sealed_for_mission,
                context=b"message" + message.pk.to_bytes(8, "big") + submission.uid.bytes,
                what=_("Message %(id)s") % {"id": message.pk},
            ).decode("utf-8"),
        )
        for message in submission.messages.select_related("author")
    ]


@transaction.atomic
def reply(*, submission: Submission, actor: User, text: str) -> Message:
    """Answer the person: sealed to their receipt, readable only with it."""
    message = _message(
        submission, direction=Message.Direction.FROM_MISSION, text=text, author=actor
    )
    if submission.status in {SubmissionStatus.RECEIVED, SubmissionStatus.REVIEWING}:
        submission.status = SubmissionStatus.IN_PROGRESS
        submission.save(update_fields=["status"])
    record(
        action="intake.replied",
        actor=actor,
        mission=submission.mission,
        obj=submission,
        fields=["messages"],
    )
    return message


def triage(*, submission: Submission, actor: User, status: str, urgency: str) -> list[str]:
    """Confirm the urgency and set the status the person sees."""
    if status not in SubmissionStatus.values or urgency not in Urgency.values:
        raise IntakeError(_("Choose a status and an urgency from the lists."))
    changed = [
        name
        for name, value in (("status", status), ("urgency", urgency))
        if getattr(submission, name) != value
    ]
    if changed:
        with transaction.atomic():
            submission.status, submission.urgency = status, urgency
            submission.save(update_fields=changed)
            record(
                action="intake.triaged",
                actor=actor,
                mission=submission.mission,
                obj=submission,
                fields=changed,
            )
    return changed


def link_defender(*, submission: Submission, defender: Defender, actor: User) -> None:
    """Say which defender of the registry this request is about."""
    if defender.mission_id != submission.mission_id:
        raise IntakeError(_("The defender must belong to the same mission."))
    with transaction.atomic():
        submission.defender = defender
        submission.save(update_fields=["defender"])
        record(
            action="intake.linked",
            actor=actor,
            mission=submission.mission,
            obj=submission,
            fields=["defender"],
        )


def discard(*, submission: Submission, actor: User) -> None:
    """Delete a request (spam, or the person asked for it) with its messages; audited."""
    with transaction.atomic():
        record(
            action="intake.discarded",
            actor=actor,
            mission=submission.mission,
            obj=submission,
            fields=["sealed", "messages"],
            reason="deletion requested" if submission.deletion_requested_on else "discarded",
        )
        submission.delete()


def save_portal_text(
    *, mission: Mission, actor: User, language: str, can_do: str, cannot_do: str
) -> PortalText:
    """Set what the portal says the mission can and cannot do, in one language."""
    if language not in dict(settings.LANGUAGES):
        raise IntakeError(_("Choose one of the portal's languages."))
    with transaction.atomic():
        text, _created = PortalText.objects.update_or_create(
            mission=mission,
            language=language,
            defaults={"can_do": can_do.strip(), "cannot_do": cannot_do.strip()},
        )
        record(
            action="portal.text_changed",
            actor=actor,
            mission=mission,
            obj=text,
            fields=["can_do", "cannot_do"],
        )
    return text
