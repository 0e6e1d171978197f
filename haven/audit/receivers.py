"""Audit events for what lower apps announce by signal (they cannot import the audit app)."""

from __future__ import annotations

from typing import Any, cast

from django.dispatch import receiver

from haven.audit.services import record
from haven.crypto.signals import everything_destroyed, orphaned_keys_removed, subject_shredded


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


@receiver(orphaned_keys_removed)
def audit_orphaned_keys_removed(sender: Any, counts: dict[str, int], **kwargs: Any) -> None:
    # Maintenance: keys no row used (a write that crashed between its two commits).
    record(
        action="keys.orphans_removed",
        object_type="crypto.datakey",
        fields=sorted(counts),
        reason="; ".join(f"{label}: {count}" for label, count in sorted(counts.items())),
    )


class _Confirmer:
    """Who confirmed a destruction, as the audit log keeps actors: an id and a username."""

    is_authenticated = True

    def __init__(self, pk: int | None, username: str) -> None:
        self.pk = pk
        self.username = username

    def get_username(self) -> str:
        return self.username


@receiver(everything_destroyed)
def audit_emergency_destruction(
    sender: Any,
    certificate: dict[str, Any],
    confirmed_by: list[tuple[int | None, str]],
    reason: str,
    rehearsal: bool = False,
    **kwargs: Any,
) -> None:
    # One event per person who confirmed, so each carries its own actor; the counts and the
    # state hash are in the certificate, which the object id names by its hash.
    for user_id, username in confirmed_by or [(None, "")]:
        record(
            action="emergency.rehearsed" if rehearsal else "emergency.destroyed",
            actor=cast(Any, _Confirmer(user_id, username)) if username else None,
            object_type="crypto.destruction",
            object_id=str(certificate.get("state_hash", "")),
            fields=["kek", "blind_index_key", "data_keys", "intake_keys"],
            reason=reason,
        )
