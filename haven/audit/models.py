"""The append-only, hash-chained audit log.

Each event carries the hash of the one before it, so editing, deleting or reordering rows
breaks the chain. Actor and mission are kept as plain ids with a name snapshot rather than
foreign keys: deleting a user or a mission must never rewrite the history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.db import models

if TYPE_CHECKING:
    from haven.core.models import Mission


class AuditEventQuerySet(models.QuerySet):
    def for_mission(self, mission: Mission) -> AuditEventQuerySet:
        """Events of the mission, and the sign-in events of its members (which have none)."""
        member_ids = list(mission.memberships.values_list("user_id", flat=True))  # type: ignore[attr-defined]
        return self.filter(
            models.Q(mission_id=mission.pk)
            | models.Q(mission_id__isnull=True, actor_id__in=member_ids)
            | models.Q(
                mission_id__isnull=True,
                object_type="accounts.user",
                object_id__in=[str(pk) for pk in member_ids],
            )
        )


class AuditEvent(models.Model):
    sequence = models.PositiveBigIntegerField(unique=True)
    occurred_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    mission_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    # Names of the fields touched, never their values.
    fields = models.JSONField(default=list)
    reason = models.TextField(blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = models.Manager.from_queryset(AuditEventQuerySet)()

    class Meta:
        ordering: ClassVar = ["-sequence"]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action}"
