"""Two-person approved exports, and the audit history a mission brings from another instance.

An ``ExportRequest`` holds no personal data: its reason is a code from a short list, never a
free sentence that could name someone, because the reason is copied into the audit log, which
is not encrypted. Every column is operational (status, dates, who acted).
"""

from __future__ import annotations

import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haven.core.models import MissionScopedModel

# How long a request waits for a second administrator, and how long an approval stays usable.
APPROVAL_WINDOW = datetime.timedelta(hours=24)


class ExportKind(models.TextChoices):
    EXIT = "exit", _("Complete exit export (every record, decrypted, with files)")


class ExportReason(models.TextChoices):
    MISSION_CLOSING = "mission_closing", _("The mission is closing or leaving Haven")
    SYSTEM_MOVE = "system_move", _("The records move to another system")
    LEGAL_OBLIGATION = "legal_obligation", _("A legal obligation to hand over the records")
    OFFLINE_COPY = "offline_copy", _("Headquarters keeps an offline copy")


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for a second administrator")
    APPROVED = "approved", _("Approved, ready to download once")
    REFUSED = "refused", _("Refused")
    DOWNLOADED = "downloaded", _("Downloaded")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


class ExportRequest(MissionScopedModel):
    """One administrator's request for an identifiable export, decided by another."""

    kind = models.CharField(_("kind"), max_length=20, choices=ExportKind.choices)
    reason = models.CharField(_("reason"), max_length=30, choices=ExportReason.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        _("status"), max_length=12, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # Until then a pending request may be approved, or an approved one downloaded.
    expires_at = models.DateTimeField()
    downloaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-requested_at", "-pk"]
        verbose_name = _("export request")
        verbose_name_plural = _("export requests")
        indexes: ClassVar = [models.Index(fields=["mission", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.pk})"

    @property
    def lapsed(self) -> bool:
        """Past its window while still waiting or approved: it can no longer be used."""
        return (
            self.status in {ExportStatus.PENDING, ExportStatus.APPROVED}
            and timezone.now() >= self.expires_at
        )


class ArchivedAuditEvent(MissionScopedModel):
    """An audit event of the mission's earlier instance, kept exactly as it was exported.

    Events cannot join this instance's chain (their sequence numbers and hashes belong to the
    other one), so they are kept beside it, unchanged, and can be checked against the chain
    head the other instance signed.
    """

    sequence = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    fields = models.JSONField(default=list)
    reason = models.TextField(blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering: ClassVar = ["sequence", "pk"]
        verbose_name = _("archived audit event")
        verbose_name_plural = _("archived audit events")

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action}"
