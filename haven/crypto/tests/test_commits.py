"""Writes across the key store and the data: keys commit first, failures leave nothing behind."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from haven.crypto.commits import keys_first
from haven.crypto.datakeys import new_data_key
from haven.crypto.models import DataKey
from tests.testapp.models import Subject


class Refused(Exception):
    pass


def test_an_error_inside_the_block_leaves_neither_the_key_nor_the_rows(mission: Any) -> None:
    keys_before = DataKey.objects.count()
    with pytest.raises(Refused), keys_first():
        Subject.objects.create(mission=mission, data_key=new_data_key(), name="Jane")
        raise Refused
    assert DataKey.objects.count() == keys_before
    assert not Subject.objects.exists()


def test_a_failed_inner_block_leaves_nothing_while_the_outer_one_commits(mission: Any) -> None:
    with keys_first():
        kept = Subject.objects.create(mission=mission, data_key=new_data_key(), name="Jane")
        with pytest.raises(Refused), keys_first():
            Subject.objects.create(mission=mission, data_key=new_data_key(), name="John")
            raise Refused
    assert list(Subject.objects.values_list("pk", flat=True)) == [kept.pk]
    assert list(DataKey.objects.values_list("pk", flat=True)) == [kept.data_key_id]


def test_data_that_fails_to_commit_takes_its_new_key_with_it(transactional_db: Any) -> None:
    # A foreign key is checked when the data commits, after the key store has committed: the
    # helper must then delete the key it made, so no unused key waits for the orphan check.
    with pytest.raises(IntegrityError), keys_first():
        Subject.objects.create(mission_id=987_654, data_key=new_data_key(), name="Jane")
    assert not DataKey.objects.exists()
    assert not Subject.objects.exists()


def test_a_key_store_transaction_around_the_block_is_refused(transactional_db: Any) -> None:
    # It would make the key store commit after the data, the order that loses keys.
    with transaction.atomic(using="keys"), pytest.raises(RuntimeError), keys_first():
        pass
