"""The audit chain detects every kind of tampering, and PostgreSQL refuses edits outright."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from haven.audit.models import AuditEvent
from haven.audit.services import record, verify


@pytest.fixture
def chain(db: Any, django_capture_on_commit_callbacks: Any) -> list[AuditEvent]:
    with django_capture_on_commit_callbacks(execute=True):
        return [
            record(action=f"test.event{i}", object_type="thing", object_id=i, fields=["a", "b"])
            for i in range(1, 7)
        ]


def _as_attacker(sql: str, params: list[Any]) -> None:
    """Raw SQL as someone holding the database, triggers switched off on PostgreSQL."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def test_intact_chain_verifies(chain: list[AuditEvent]) -> None:
    result = verify()
    assert result.ok and result.checked == 6
    call_command("audit_verify", verbosity=0)


def test_each_event_links_to_the_previous(chain: list[AuditEvent]) -> None:
    assert chain[0].previous_hash == "0" * 64
    for before, after in itertools.pairwise(chain):
        assert after.previous_hash == before.hash
        assert after.sequence == before.sequence + 1


def test_edited_field_is_detected(chain: list[AuditEvent]) -> None:
    _as_attacker("UPDATE audit_auditevent SET action = %s WHERE sequence = 3", ["test.harmless"])
    result = verify()
    assert not result.ok and result.broken_at == 3
    with pytest.raises(CommandError, match="event 3"):
        call_command("audit_verify", verbosity=0)


def test_edited_fields_list_is_detected(chain: list[AuditEvent]) -> None:
    _as_attacker("UPDATE audit_auditevent SET fields = %s WHERE sequence = 2", ['["a"]'])
    assert verify().broken_at == 2


def test_deleted_event_is_detected(chain: list[AuditEvent]) -> None:
    _as_attacker("DELETE FROM audit_auditevent WHERE sequence = 4", [])
    result = verify()
    assert not result.ok and result.broken_at == 4 and "missing" in result.problem


def test_deleted_and_renumbered_events_are_detected(chain: list[AuditEvent]) -> None:
    _as_attacker("DELETE FROM audit_auditevent WHERE sequence = 4", [])
    # Two steps, so no row ever collides with another on the unique sequence.
    _as_attacker("UPDATE audit_auditevent SET sequence = sequence + 1000 WHERE sequence > 4", [])
    _as_attacker("UPDATE audit_auditevent SET sequence = sequence - 1001 WHERE sequence > 1000", [])
    assert verify().broken_at == 4


def test_reordered_events_are_detected(chain: list[AuditEvent]) -> None:
    _as_attacker("UPDATE audit_auditevent SET sequence = 1000 WHERE sequence = 2", [])
    _as_attacker("UPDATE audit_auditevent SET sequence = 2 WHERE sequence = 5", [])
    _as_attacker("UPDATE audit_auditevent SET sequence = 5 WHERE sequence = 1000", [])
    result = verify()
    assert not result.ok and result.broken_at == 2


def test_truncated_tail_is_detected(chain: list[AuditEvent]) -> None:
    _as_attacker("DELETE FROM audit_auditevent WHERE sequence > 3", [])
    result = verify()
    assert not result.ok and result.broken_at == 4 and "removed" in result.problem
    with pytest.raises(CommandError, match="removed from the end"):
        call_command("audit_verify", verbosity=0)


def test_rewritten_tail_is_detected(chain: list[AuditEvent]) -> None:
    # Forging a whole new tail with correct links still differs from the recorded head.
    _as_attacker("DELETE FROM audit_auditevent WHERE sequence = 6", [])
    record(action="test.forged")
    assert verify().broken_at == 6


@pytest.mark.postgres_only
def test_postgres_refuses_update_delete_and_truncate(chain: list[AuditEvent]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only")
    # The test runner switches the TRUNCATE trigger off to empty tables between tests.
    connection.cursor().execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
    for sql in (
        "UPDATE audit_auditevent SET reason = 'x'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(sql)
    assert AuditEvent.objects.count() == 6


def test_missing_head_file_is_reported(chain: list[AuditEvent], settings: Any) -> None:
    settings.HAVEN_AUDIT_HEAD_FILE.unlink()
    result = verify()
    assert not result.ok and "head file is missing" in result.problem
