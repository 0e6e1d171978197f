"""Audit events for what lower apps announce by signal (they cannot import the audit app)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from haven.audit.services import record
from haven.crypto.signals import subject_shredded


@receiver(subject_shredded)
def audit_shredding(
    sender: Any,
    data_key_id: Any,
    actor: Any,
    reason: str,
    counts: dict[str, int],
    mission_id: int | None = None,
    **kwargs: Any,
) -> None:
    record(
        action="subject.shredded",
        actor=actor,
        mission=mission_id,
        object_type="crypto.datakey",
        object_id=str(data_key_id),
        fields=sorted(counts),
        reason=reason,
    )
