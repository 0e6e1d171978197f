"""Fixtures of the crypto tests: keys in a temporary directory, never in the repository's var/."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from haven.crypto.datakeys import new_data_key
from haven.crypto.models import DataKey
from tests.testapp.models import Subject


@pytest.fixture(autouse=True)
def key_dir(settings: Any, tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    settings.HAVEN_KEY_PROVIDER = "file"
    settings.HAVEN_KEY_DIR = directory
    return directory


@pytest.fixture
def data_key(db: Any) -> DataKey:
    return new_data_key()


def make_subject(mission: Any, **fields: Any) -> Subject:
    fields.setdefault("data_key", new_data_key())
    return Subject.objects.create(mission=mission, **fields)


def read_column(model: Any, field: str, pk: Any) -> Any:
    """The column exactly as the database holds it, read with a raw cursor."""
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model._meta.get_field(field).column)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [_pk(model, pk)])
        return cursor.fetchone()[0]


def write_column(model: Any, field: str, pk: Any, value: Any) -> None:
    """Change one column behind the ORM's back, as an attacker with the database would."""
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model._meta.get_field(field).column)
    if isinstance(value, uuid.UUID):
        value = DataKey._meta.pk.get_db_prep_value(value, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, _pk(model, pk)])


def _pk(model: Any, pk: Any) -> Any:
    return model._meta.pk.get_db_prep_value(pk, connection)
