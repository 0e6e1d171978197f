"""Requests that arrive through the portal, and the messages exchanged about them.

What the person wrote is sealed, on arrival, to the request's own key (``SubmissionKey``,
whose private half is sealed to the mission's intake key; the portal cannot read it back, and
shredding that key shreds the request); replies are sealed to the public key the receipt
derives, so only the person holding the receipt reads them. In the clear: the day (never the
time) it arrived, its kind, the urgency it suggests and its status, which the inbox sorts on.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from haven.core.choices import Urgency
from haven.core.models import MissionScopedModel
from haven.registry.models import Defender

URGENCY_ORDER = [Urgency.CRITICAL, Urgency.HIGH, Urgency.MEDIUM, Urgency.LOW]


class SubmissionKind(models.TextChoices):
    HELP = "help", _("Ask for help")
    INCIDENT = "incident", _("Report a threat or an incident")
    UPDATE = "update", _("Update an earlier request")
    CONTACT = "contact", _("General contact")


class SubmissionStatus(models.TextChoices):
    """What the person sees: plain words, no internal detail."""

    RECEIVED = "received", _("Received")
    REVIEWING = "reviewing", _("Being reviewed")
    IN_PROGRESS = "in_progress", _("In progress")
    CLOSED = "closed", _("Closed")


class Submission(MissionScopedModel):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    received_on = models.DateField(_("received on"))
    kind = models.CharField(_("kind"), max_length=12, choices=SubmissionKind.choices)
    suggested_urgency = models.CharField(
        _("suggested urgency"), max_length=10, choices=Urgency.choices
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, blank=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=SubmissionStatus.choices,
        default=SubmissionStatus.RECEIVED,
    )
    # The request's own key (crypto.SubmissionKey, in the key store): everything below and
    # the files are sealed to its public half; shredding the key shreds the request.
    key_id = models.UUIDField(null=True, editable=False)
    public_key = models.BinaryField(max_length=32, default=b"")
    # JSON of everything the person wrote, with the exact time, sealed to the request's key.
    sealed = models.BinaryField()
    receipt_lookup = models.CharField(max_length=64, unique=True)
    receipt_public_key = models.BinaryField(max_length=32)
    receipt_used_on = models.DateField(null=True, blank=True)
    deletion_requested_on = models.DateField(null=True, blank=True)
    defender = models.ForeignKey(
        Defender, on_delete=models.SET_NULL, null=True, blank=True, related_name="submissions"
    )

    class Meta:
        ordering: ClassVar = ["-received_on", "-pk"]
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        indexes: ClassVar = [models.Index(fields=["mission", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.received_on:%Y-%m-%d}"

    def __repr__(self) -> str:
        return f"<Submission: pk={self.pk}>"

    @property
    def effective_urgency(self) -> str:
        return self.urgency or self.suggested_urgency


class Message(models.Model):
    """One message about a submission, sealed twice: for the person (their receipt key) and
    for the mission (the request's key), so each side can read the whole conversation."""

    class Direction(models.TextChoices):
        FROM_MISSION = "mission", _("From the mission")
        FROM_DEFENDER = "defender", _("From the person who wrote")

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    sent_on = models.DateField()
    sealed_for_person = models.BinaryField()
    sealed_for_mission = models.BinaryField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["pk"]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} · {self.sent_on:%Y-%m-%d}"

    def __repr__(self) -> str:
        return f"<Message: pk={self.pk}>"


class PortalBudget(models.TextChoices):
    """The portal's budgets, counted apart so that spending one never closes the other."""

    # Accepted, stored requests, per hour.
    SUBMISSIONS = "submissions", _("requests sent")
    # Receipt checks (each costs a memory-hard key derivation), per minute.
    RECEIPTS = "receipts", _("receipt checks")


class PortalUsage(models.Model):
    """How much of one budget a mission's portal used in one window (an hour for requests, a
    minute for receipt checks): a count, nothing about who."""

    mission = models.ForeignKey("core.Mission", on_delete=models.CASCADE, related_name="+")
    budget = models.CharField(
        max_length=12, choices=PortalBudget.choices, default=PortalBudget.SUBMISSIONS
    )
    window = models.CharField(max_length=12)  # YYYYMMDDHH or YYYYMMDDHHMM, UTC
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["mission", "budget", "window"], name="one_usage_row_per_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.budget} {self.window}: {self.count}"


class SpentFormToken(models.Model):
    """A portal form token already used (intake/tokens.py): its random nonce only, and the hour
    after which it is too old to be posted anyway and may be forgotten."""

    nonce = models.CharField(max_length=32, primary_key=True)
    forget_after = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return "spent form token"


class PortalText(models.Model):
    """What the mission can and cannot do, in one portal language, written by the mission
    (DOMAIN.md safety rule 3: do not raise expectations). Public text, stored in the clear."""

    mission = models.ForeignKey("core.Mission", on_delete=models.CASCADE, related_name="+")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    can_do = models.TextField(_("what the mission can do"), max_length=5000)
    cannot_do = models.TextField(_("what the mission cannot do"), max_length=5000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["mission", "language"], name="one_text_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.mission_id} {self.language}"


class Attachment(models.Model):
    """A file sent with a request: sanitised, sealed to the request's key, stored under a random
    name (``HAVEN_MEDIA_DIR/intake/<uid>.hvnf``). The name it had on the sender's device is
    never kept."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="attachments")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=10)
    size = models.PositiveBigIntegerField()
    sanitised = models.BooleanField(default=False)
    # The file as sent, before cleaning, when the mission keeps originals.
    has_original = models.BooleanField(default=False)

    class Meta:
        ordering: ClassVar = ["pk"]

    def __str__(self) -> str:
        return f"{self.kind} ({self.size} bytes)"

    def __repr__(self) -> str:
        return f"<Attachment: pk={self.pk}>"


class OriginalReason(models.TextChoices):
    """Why an officer opens the original of a cleaned file; a code, so the audit log can
    carry it."""

    EVIDENCE = "evidence", _("To keep or hand over as evidence")
    VERIFY = "verify", _("To check that the file is authentic")
    UNREADABLE = "unreadable", _("The cleaned copy cannot be read")
