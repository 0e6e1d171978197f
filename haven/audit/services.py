"""Writing and verifying the audit chain. ``record`` is the only writer of ``AuditEvent``.

After each commit the newest link is also written to a head file outside the database, so
removing events from the end of the table (truncation) is detected too.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from haven.audit.models import AuditEvent
from haven.crypto.digests import chain_hash

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.db.models import Model

    from haven.accounts.models import User
    from haven.core.models import Mission

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x4A11D17  # one advisory lock serialises appends across processes


def _canonical(event: AuditEvent) -> bytes:
    payload = [
        event.sequence,
        event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        event.actor_id,
        event.actor_username,
        event.mission_id,
        event.action,
        event.object_type,
        event.object_id,
        list(event.fields),
        event.reason,
    ]
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def record(
    *,
    action: str,
    actor: User | AnonymousUser | None = None,
    mission: Mission | int | None = None,
    obj: Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    fields: list[str] | tuple[str, ...] = (),
    reason: str = "",
) -> AuditEvent:
    """Append one event to the chain. Field names only: values never enter the log."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if obj.pk is not None else ""
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    actor_username = actor.get_username() if actor is not None and actor.is_authenticated else ""
    mission_id = mission if isinstance(mission, int) or mission is None else mission.pk
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
        last = AuditEvent.objects.order_by("-sequence").only("sequence", "hash").first()
        event = AuditEvent(
            sequence=(last.sequence + 1) if last else 1,
            occurred_at=timezone.now(),
            actor_id=actor_id,
            actor_username=actor_username,
            mission_id=mission_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            fields=sorted(fields),
            reason=reason,
            previous_hash=last.hash if last else GENESIS,
        )
        event.hash = chain_hash(event.previous_hash, _canonical(event))
        event.save(force_insert=True)
        transaction.on_commit(lambda: _advance_head(event.sequence, event.hash))
    return event


def record_read(
    *, actor: User, mission: Mission, obj: Model, fields: list[str] | tuple[str, ...] = ()
) -> AuditEvent:
    """Log that ``actor`` opened a sensitive record (SECURITY.md: every read is logged)."""
    return record(action="record.read", actor=actor, mission=mission, obj=obj, fields=fields)


def read_head() -> tuple[int, str] | None:
    path = settings.HAVEN_AUDIT_HEAD_FILE
    try:
        data = json.loads(path.read_text())
        return int(data["sequence"]), str(data["hash"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return (-1, "")


def _advance_head(sequence: int, digest: str) -> None:
    """Move the head file forward, never back, atomically (write and rename)."""
    path = settings.HAVEN_AUDIT_HEAD_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    # Several worker processes append; the lock keeps the head from moving backwards.
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = read_head()
        if current is not None and current[0] >= sequence:
            return
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".audit-head-")
        with os.fdopen(fd, "w") as handle:
            json.dump({"sequence": sequence, "hash": digest}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    broken_at: int | None = None
    problem: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "broken_at": self.broken_at,
            "problem": self.problem,
        }


def verify_chain(*, actor: Any, mission: Mission) -> Verification:
    """Verify the whole chain on a person's request, and log that they did."""
    result = verify()
    record(action="audit.verified", actor=actor, mission=mission)
    return result


def verify(progress: Any = None) -> Verification:
    """Walk the whole chain in sequence order and report the first broken link."""
    expected_sequence = 1
    previous = GENESIS
    checked = 0
    hashes_at: dict[int, str] = {}
    head = read_head()
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=2000):
        if event.sequence != expected_sequence:
            return Verification(
                False,
                checked,
                expected_sequence,
                f"event {expected_sequence} is missing (next found is {event.sequence})",
            )
        if event.previous_hash != previous:
            return Verification(
                False, checked, event.sequence, "does not link to the event before it"
            )
        if chain_hash(previous, _canonical(event)) != event.hash:
            return Verification(False, checked, event.sequence, "its content was changed")
        if head is not None and event.sequence == head[0]:
            hashes_at[event.sequence] = event.hash
        previous = event.hash
        expected_sequence += 1
        checked += 1
        if progress is not None:
            progress.update(1)
    if head is None and checked:
        return Verification(
            False,
            checked,
            None,
            "the chain head file is missing, so truncation cannot be ruled out",
        )
    if head is not None:
        head_sequence, head_hash = head
        if head_sequence < 0:
            return Verification(False, checked, None, "the head file is unreadable")
        if head_sequence > checked:
            return Verification(
                False,
                checked,
                checked + 1,
                f"the log ends at event {checked} but event {head_sequence} was written"
                " (events were removed from the end)",
            )
        if head_sequence and hashes_at.get(head_sequence) != head_hash:
            return Verification(
                False, checked, head_sequence, "it differs from the recorded chain head"
            )
    return Verification(True, checked)
