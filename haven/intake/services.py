"""Everything that happens to a request: submitted on the portal, read with its receipt,
triaged, answered, linked to a defender, discarded.

The portal side (``submit``, ``open_receipt``, ``add_information``, ``request_deletion``)
needs only public keys and writes no audit event with a time (times of visits are metadata,
SECURITY.md). The workspace side opens a request's key with the intake private key (under the
KEK) and records who read or changed what.
"""

from __future__ import annotations

import datetime
import itertools
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from haven.accounts.models import User
from haven.audit.services import record, record_read
from haven.core.choices import Urgency
from haven.core.models import Mission
from haven.core.vocab.assistance import ASSISTANCE
from haven.crypto.commits import keys_first
from haven.crypto.models import IntakeKey
from haven.crypto.receipts import (
    ReceiptKeys,
    derive,
    new_passphrase,
    open_with_receipt,
    seal_to_receipt,
)
from haven.crypto.sealing import open_sealed_with, seal
from haven.crypto.streams import FileSealer, iter_decrypted_with
from haven.crypto.submission_keys import (
    new_submission_key,
    shred_submission_key,
    submission_keypair,
)
from haven.intake import attachments
from haven.intake.models import (
    Attachment,
    Message,
    OriginalReason,
    PortalText,
    Submission,
    SubmissionKind,
    SubmissionStatus,
)
from haven.registry.models import Defender
from haven.registry.services import create_defender

MAX_MESSAGE = 20_000
RECEIPT_NOT_FOUND = gettext_lazy(
    "These words do not open any request. Check each word and their order, then try again."
)


class IntakeError(Exception):
    """A request could not be handled; the message says why and what to do."""


class AttachmentRefused(IntakeError):
    """One of the files cannot be accepted; the message names it by its number."""


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
    """Seal to the request's own key: the mission opens it; shredding the key closes it."""
    return seal(submission.public_key, data, context=purpose + submission.uid.bytes)


def _keypair(submission: Submission) -> tuple[bytes, bytes]:
    if submission.key_id is None:
        raise IntakeError(_("This request has no key of its own and cannot be opened."))
    return submission_keypair(submission.mission, submission.key_id)


def submit(
    *,
    mission: Mission,
    answers: dict[str, Any],
    language: str,
    uploads: list[UploadedFile] | None = None,
) -> tuple[Submission, str]:
    """Store a request and its files sealed to the mission; returns it and its receipt.

    Nothing is returned, and so no receipt shown, unless every file is synced to disk and the
    transaction commits; on any failure the files already written are removed.
    """
    uploads = uploads or []
    if len(uploads) > settings.HAVEN_ATTACHMENTS_MAX:
        raise AttachmentRefused(
            _("Send at most %(count)d files with one request.")
            % {"count": settings.HAVEN_ATTACHMENTS_MAX}
        )
    kind = answers.get("kind", "")
    if kind not in SubmissionKind.values:
        raise IntakeError(_("Choose what kind of request this is."))
    help_wanted = list(answers.get("help_wanted", []))
    ASSISTANCE.validate_list(help_wanted)
    # The receipt's memory-hard stretching happens before the transaction: on SQLite the
    # transaction holds the one write lock, and other senders would queue behind it.
    passphrase = new_passphrase()
    receipt = derive(passphrase, mission_id=mission.pk)
    written: list[Path] = []
    try:
        # The request's key (key store) commits first, then its rows: a crash in between
        # leaves an unused key (removed by the orphan check), never a request without its key.
        with keys_first():
            submission = _submit(
                mission=mission,
                answers=answers,
                language=language,
                kind=kind,
                suggested_urgency=suggest_urgency(kind, help_wanted),
                receipt=receipt,
            )
            written = _attach(submission, uploads)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return submission, passphrase


def _submit(
    *,
    mission: Mission,
    answers: dict[str, Any],
    language: str,
    kind: str,
    suggested_urgency: str,
    receipt: ReceiptKeys,
) -> Submission:
    try:
        submission_key = new_submission_key(mission)
    except IntakeKey.DoesNotExist:
        raise IntakeError(
            _("This mission cannot receive requests here yet. Use its contact points above.")
        ) from None
    submission = Submission(
        mission=mission,
        uid=uuid.uuid4(),
        received_on=timezone.localdate(),
        kind=kind,
        suggested_urgency=suggested_urgency,
        receipt_lookup=receipt.lookup,
        receipt_public_key=receipt.public_key,
        key_id=submission_key.id,
        public_key=bytes(submission_key.public_key),
    )
    payload = {**answers, "language": language, "submitted_at": timezone.now().isoformat()}
    submission.sealed = _seal_for_mission(
        submission, json.dumps(payload, default=str).encode("utf-8"), b"submission"
    )
    submission.save(force_insert=True)
    return submission


# -- attachments


def attachment_path(attachment: Attachment, *, original: bool = False) -> Path:
    name = f"{attachment.uid}.original.hvnf" if original else f"{attachment.uid}.hvnf"
    return Path(settings.HAVEN_MEDIA_DIR) / "intake" / name


def _start_of_day() -> float:
    today = timezone.localdate()
    return datetime.datetime(today.year, today.month, today.day, tzinfo=datetime.UTC).timestamp()


def store_attachment_file(
    attachment: Attachment, pieces: Iterable[bytes], public_key: bytes, *, original: bool = False
) -> None:
    """Seal ``pieces`` into the attachment's file: 0600, synced, its times set to the day.

    A file that cannot be written whole (a full disk, a refused piece) is removed before the
    error goes on: the caller only knows of files this function returned from."""
    path = attachment_path(attachment, original=original)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            sealer = FileSealer(
                handle, public_key=public_key, context=attachment_file_context(attachment, original)
            )
            for piece in pieces:
                sealer.write(piece)
            sealer.close()
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    day = _start_of_day()
    os.utime(path, (day, day))


def attachment_file_context(attachment: Attachment, original: bool) -> bytes:
    return (b"original" if original else b"attachment") + attachment.uid.bytes


@dataclass
class _Prepared:
    kind: str
    pieces: Iterable[bytes]
    original: bytes | None = None  # the file as sent, when it was cleaned


def _prepare(upload: UploadedFile) -> _Prepared:
    """The kind of an upload and its (sanitised) content; ``IntakeError`` if refused."""
    chunks = iter(upload.chunks())
    head = next(chunks, b"")
    try:
        kind = attachments.detect(head)
        if kind in attachments.SANITISED:
            data = head + b"".join(chunks)
            return _Prepared(kind, [attachments.sanitise(kind, data)], data)
    except attachments.Refused as error:
        raise IntakeError(str(error)) from None
    return _Prepared(kind, itertools.chain([head], chunks))


def _attach(submission: Submission, uploads: list[UploadedFile]) -> list[Path]:
    """Sanitise and seal every upload; returns the files written (for clean-up on failure)."""
    written: list[Path] = []
    public_key = bytes(submission.public_key)
    try:
        for number, upload in enumerate(uploads, start=1):
            try:
                prepared = _prepare(upload)
            except IntakeError as error:
                raise AttachmentRefused(
                    _("File %(number)d: %(problem)s") % {"number": number, "problem": error}
                ) from None
            attachment = Attachment(
                submission=submission,
                kind=prepared.kind,
                sanitised=prepared.original is not None,
                size=0,
            )
            store_attachment_file(attachment, _counting(prepared.pieces, attachment), public_key)
            written.append(attachment_path(attachment))
            if prepared.original is not None and submission.mission.keep_originals:
                store_attachment_file(attachment, [prepared.original], public_key, original=True)
                written.append(attachment_path(attachment, original=True))
                attachment.has_original = True
            attachment.save()
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return written


def add_file(*, submission: Submission, upload: UploadedFile) -> Attachment:
    """Attach one more file to a request (sent later by the person)."""
    with transaction.atomic():
        written = _attach(submission, [upload])
        try:
            return submission.attachments.latest("pk")
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _counting(pieces: Iterable[bytes], attachment: Attachment) -> Iterator[bytes]:
    for piece in pieces:
        attachment.size += len(piece)
        yield piece


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


def add_information(
    *, opened: Opened, text: str, uploads: list[UploadedFile] | None = None
) -> Message:
    """The person adds to their request (a message, and files if any); a closed request is
    reviewed again."""
    written: list[Path] = []
    try:
        with transaction.atomic():
            message = _add_information(opened, text)
            written = _attach(opened.submission, uploads or [])
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return message


def _add_information(opened: Opened, text: str) -> Message:
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
    data = open_sealed_with(
        _keypair(submission),
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
    keypair = _keypair(submission)
    return [
        (
            message,
            open_sealed_with(
                keypair,
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


def discard(*, submission: Submission, actor: User | None) -> None:
    """Delete a request (spam, or the person asked for it) with its messages and files;
    audited."""
    paths = [
        attachment_path(attachment, original=original)
        for attachment in submission.attachments.all()
        for original in (False, True)
    ]
    # The key goes first, as in every shredding: a crash before the rows are deleted leaves
    # them unreadable, never the key of a request that is gone.
    with keys_first():
        record(
            action="intake.discarded",
            actor=actor,
            mission=submission.mission,
            obj=submission,
            fields=["sealed", "messages"],
            reason="deletion requested" if submission.deletion_requested_on else "discarded",
        )
        if submission.key_id is not None:
            shred_submission_key(submission.key_id)
        submission.delete()
        transaction.on_commit(lambda: _remove(paths))


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


def attachment_download(
    *, attachment: Attachment, actor: User, original_reason: str = ""
) -> Iterator[bytes]:
    """The decrypted content of a file, chunk by chunk; the read is logged. The original of
    a cleaned file needs a reason (an ``OriginalReason`` code), which the log keeps."""
    submission = attachment.submission
    original = bool(original_reason)
    if original:
        if original_reason not in OriginalReason.values:
            raise IntakeError(_("Say why the original is needed."))
        if not attachment.has_original:
            raise IntakeError(_("Only the cleaned copy of this file was kept."))
        record(
            action="intake.original_opened",
            actor=actor,
            mission=submission.mission,
            obj=attachment,
            fields=["original"],
            reason=original_reason,
        )
    else:
        record_read(actor=actor, mission=submission.mission, obj=attachment, fields=["content"])
    public_key, private_key = _keypair(submission)
    handle = attachment_path(attachment, original=original).open("rb")

    def chunks() -> Iterator[bytes]:
        with handle:
            yield from iter_decrypted_with(
                handle,
                public_key=public_key,
                private_key=private_key,
                context=attachment_file_context(attachment, original),
                what=_("File %(id)s") % {"id": attachment.pk},
            )

    return chunks()


DELETION_GRACE_DAYS = 14


def purge_unconfirmed_deletions(*, today: datetime.date | None = None) -> int:
    """Delete the requests whose person asked for deletion 14 days ago or more and that no
    officer has deleted yet; audited per request. Returns how many."""
    today = today or timezone.localdate()
    due = Submission.objects.filter(
        deletion_requested_on__lte=today - datetime.timedelta(days=DELETION_GRACE_DAYS)
    )
    count = 0
    for submission in due.select_related("mission"):
        discard(submission=submission, actor=None)
        count += 1
    return count


def create_defender_from(*, submission: Submission, actor: User) -> Defender:
    """Register the person the request is about and link the request to them.

    Refuses with ``PossibleDuplicates`` (from the registry) when the name is already known:
    the officer links the request to that record instead.
    """
    answers = open_submission(submission=submission, actor=actor)
    name = str(answers.get("name") or "").strip() or _("Person from request %(id)s") % {
        "id": submission.pk
    }
    with transaction.atomic():
        defender = create_defender(
            mission=submission.mission,
            actor=actor,
            name=name[:200],
            notes=_("From the portal request of %(date)s.")
            % {"date": submission.received_on.isoformat()},
        )
        link_defender(submission=submission, defender=defender, actor=actor)
    return defender
