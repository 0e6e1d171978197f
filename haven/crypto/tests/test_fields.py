"""Encrypted fields: round trips, what the database sees, and every way ciphertext is refused."""

from __future__ import annotations

import base64
import copy
import json
import pickle
import uuid
from typing import Any

import pytest
from django import forms
from django.core import serializers
from django.db import connection, transaction
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haven.crypto.datakeys import new_data_key
from haven.crypto.errors import DecryptionError, EncryptedFieldError, UnknownKeyVersion
from haven.crypto.models import DataKey
from haven.crypto.tests.conftest import make_subject, read_column, write_column
from haven.crypto.values import Sealed
from tests.testapp.models import Subject, SubjectNote

db_examples = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@db_examples
@given(value=st.text())
def test_text_round_trips_through_the_database(mission: Any, value: str) -> None:
    subject = make_subject(mission, name=value)
    reloaded = Subject.objects.get(pk=subject.pk)
    assert reloaded.name == value
    assert isinstance(reloaded.name, str)


@db_examples
@given(value=json_values)
def test_json_round_trips_through_the_database(mission: Any, value: Any) -> None:
    subject = make_subject(mission, profile=value)
    reloaded = Subject.objects.get(pk=subject.pk)
    assert reloaded.profile == value
    assert json.dumps(reloaded.profile) == json.dumps(value)


def test_database_holds_no_plaintext(mission: Any) -> None:
    name = "Amina Wanjiru Otieno"
    profile = {"city": "Kisumu-canary", "languages": ["sw", "en"]}
    subject = make_subject(mission, name=name, profile=profile, notes=None)
    for field, secret in (("name", name), ("profile", "Kisumu-canary")):
        stored = read_column(Subject, field, subject.pk)
        assert secret not in stored
        assert secret.lower() not in base64.b64decode(stored).decode("latin-1").lower()
    # Short values are padded: every name up to 32 bytes has the same stored length.
    other = make_subject(mission, name="Al")
    assert len(read_column(Subject, "name", other.pk)) == len(
        read_column(Subject, "name", subject.pk)
    )
    assert read_column(Subject, "notes", subject.pk) is None


def test_same_value_encrypts_differently_each_time(mission: Any) -> None:
    one = make_subject(mission, name="Same Name")
    two = make_subject(mission, name="Same Name", data_key=one.data_key)
    assert read_column(Subject, "name", one.pk) != read_column(Subject, "name", two.pk)


def _flip(token: str, position: int) -> str:
    raw = bytearray(base64.b64decode(token))
    raw[position % len(raw)] ^= 0x01
    return base64.b64encode(bytes(raw)).decode("ascii")


def _decrypt_fails(pk: int, field: str = "name") -> DecryptionError:
    with pytest.raises(DecryptionError) as failure:
        getattr(Subject.objects.get(pk=pk), field)
    return failure.value


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(position=st.integers(min_value=0, max_value=10_000))
def test_any_bit_flip_is_detected(mission: Any, position: int) -> None:
    subject = make_subject(mission, name="Jane Defender")
    write_column(
        Subject, "name", subject.pk, _flip(read_column(Subject, "name", subject.pk), position)
    )
    error = _decrypt_fails(subject.pk)
    message = str(error)
    assert "testapp.Subject.name" in message
    assert f"row {subject.pk}" in message
    assert "Jane" not in message


@pytest.mark.parametrize("keep", [0, 10, 40, 80, -1])
def test_truncated_ciphertext_is_detected(mission: Any, keep: int) -> None:
    subject = make_subject(mission, name="Jane Defender")
    stored = base64.b64decode(read_column(Subject, "name", subject.pk))
    write_column(Subject, "name", subject.pk, base64.b64encode(stored[:keep]).decode())
    _decrypt_fails(subject.pk)


def test_column_that_is_not_ciphertext_is_refused(mission: Any) -> None:
    subject = make_subject(mission, name="Jane Defender")
    write_column(Subject, "name", subject.pk, "plain text someone wrote")
    assert "known format" in str(_decrypt_fails(subject.pk))


def test_ciphertext_swapped_between_rows_of_one_subject_is_refused(mission: Any) -> None:
    one = make_subject(mission, name="First Person")
    two = make_subject(mission, name="Second Person", data_key=one.data_key)
    write_column(Subject, "name", two.pk, read_column(Subject, "name", one.pk))
    error = _decrypt_fails(two.pk)
    assert "another row or field" in str(error)
    assert "First" not in str(error)


def test_ciphertext_copied_from_another_subject_is_refused(mission: Any) -> None:
    one = make_subject(mission, name="First Person")
    two = make_subject(mission, name="Second Person")
    write_column(Subject, "name", two.pk, read_column(Subject, "name", one.pk))
    assert "another data key" in str(_decrypt_fails(two.pk))


def test_ciphertext_copied_to_another_field_of_the_row_is_refused(mission: Any) -> None:
    subject = make_subject(mission, name="Jane Defender", nickname="JD")
    write_column(Subject, "nickname", subject.pk, read_column(Subject, "name", subject.pk))
    assert "testapp.Subject.nickname" in str(_decrypt_fails(subject.pk, "nickname"))


def test_ciphertext_copied_to_another_model_is_refused(mission: Any) -> None:
    subject = make_subject(mission, name="Jane Defender")
    note = SubjectNote.objects.create(subject=subject, data_key=subject.data_key, body="x")
    write_column(SubjectNote, "uid", note.pk, subject.uid.hex)
    # Same row identity and key, different table and field: still refused.
    write_column(Subject, "uid", subject.pk, uuid.uuid4().hex)
    write_column(SubjectNote, "body", note.pk, read_column(Subject, "name", subject.pk))
    with pytest.raises(DecryptionError, match=r"testapp\.SubjectNote\.body"):
        SubjectNote.objects.get(pk=note.pk).body  # noqa: B018


def test_row_moved_to_another_data_key_is_refused(mission: Any) -> None:
    subject = make_subject(mission, name="Jane Defender")
    write_column(Subject, "data_key", subject.pk, new_data_key().pk)
    assert "another data key" in str(_decrypt_fails(subject.pk))


def test_header_relabelled_with_the_rows_key_is_refused(mission: Any) -> None:
    # A "wrong key version" that claims the right one: the AEAD still refuses it.
    one = make_subject(mission, name="First Person")
    two = make_subject(mission, name="Second Person")
    raw = bytearray(base64.b64decode(read_column(Subject, "name", one.pk)))
    raw[1:17] = two.data_key_id.bytes
    write_column(Subject, "name", two.pk, base64.b64encode(bytes(raw)).decode())
    assert "another row or field" in str(_decrypt_fails(two.pk))


def test_unknown_format_version_is_refused(mission: Any) -> None:
    subject = make_subject(mission, name="Jane Defender")
    raw = bytearray(base64.b64decode(read_column(Subject, "name", subject.pk)))
    raw[0] = 2
    write_column(Subject, "name", subject.pk, base64.b64encode(bytes(raw)).decode())
    _decrypt_fails(subject.pk)


def test_data_key_under_an_unknown_kek_version_is_refused(mission: Any) -> None:
    subject = make_subject(mission, name="Jane Defender")
    DataKey.objects.filter(pk=subject.data_key_id).update(kek_version=42)
    with pytest.raises(UnknownKeyVersion) as failure:
        Subject.objects.get(pk=subject.pk).name  # noqa: B018
    assert "testapp.Subject.name" in str(failure.value)
    assert "kek-0042.key" in str(failure.value)


def test_data_key_under_the_wrong_kek_version_is_refused(mission: Any, key_dir: Any) -> None:
    subject = make_subject(mission, name="Jane Defender")
    (key_dir / "kek-0002.key").write_bytes(base64.b64encode(b"\x07" * 32))
    (key_dir / "kek-0002.key").chmod(0o600)
    DataKey.objects.filter(pk=subject.data_key_id).update(kek_version=2)
    error = _decrypt_fails(subject.pk)
    assert "version 2" in str(error)


def test_wrapped_data_key_swapped_between_keys_is_refused(mission: Any) -> None:
    one = make_subject(mission, name="First Person")
    two = make_subject(mission, name="Second Person")
    wrapped = bytes(DataKey.objects.get(pk=one.data_key_id).wrapped)
    DataKey.objects.filter(pk=two.data_key_id).update(wrapped=wrapped)
    assert f"Data key {two.data_key_id}" in str(_decrypt_fails(two.pk))


@pytest.mark.parametrize(
    "query",
    [
        lambda: Subject.objects.filter(name="Jane"),
        lambda: Subject.objects.filter(name__icontains="Jane"),
        lambda: Subject.objects.exclude(name__startswith="J"),
        lambda: Subject.objects.filter(name__isnull=True),
        lambda: Subject.objects.filter(profile__city="Kisumu"),
        lambda: Subject.objects.filter(subject_notes__body="x"),
        lambda: list(Subject.objects.order_by("name")),
        lambda: list(Subject.objects.order_by("-profile")),
    ],
    ids=["exact", "icontains", "exclude", "isnull", "json-key", "related", "order", "order-desc"],
)
def test_querying_an_encrypted_field_names_the_field(mission: Any, query: Any) -> None:
    make_subject(mission, name="Jane")
    with pytest.raises(EncryptedFieldError) as refused:
        query()
    assert "is encrypted" in str(refused.value)
    assert any(
        name in str(refused.value)
        for name in ("Subject.name", "Subject.profile", "SubjectNote.body")
    )


def test_bulk_writes_that_bypass_the_row_are_refused(mission: Any) -> None:
    subject = make_subject(mission, name="Jane")
    with pytest.raises(EncryptedFieldError, match=r"testapp\.Subject\.name"), transaction.atomic():
        Subject.objects.filter(pk=subject.pk).update(name="Plain")
    subject.name = "Plain"
    with pytest.raises(EncryptedFieldError, match="save"), transaction.atomic():
        Subject.objects.bulk_update([subject], ["name"])
    assert "Plain" not in read_column(Subject, "name", subject.pk)


def test_everyday_queries_still_work(mission: Any) -> None:
    subject = make_subject(mission, name="Jane", status="active")
    make_subject(mission, name="John", status="closed")
    assert Subject.objects.count() == 2
    assert Subject.objects.filter(status="active").get().name == "Jane"
    assert Subject.objects.order_by("-pk").first().name == "John"
    assert Subject.objects.distinct().count() == 2
    assert Subject.objects.filter(pk__in=Subject.objects.values("pk")).count() == 2
    assert next(iter(Subject.objects.values_list("name", flat=True))) == Sealed(
        read_column(Subject, "name", subject.pk)
    )
    assert str(Subject.objects.values_list("name", flat=True)[0]) == "[encrypted]"
    subject.delete()
    assert Subject.objects.count() == 1


def test_serialising_is_refused(mission: Any) -> None:
    make_subject(mission, name="Jane")
    with pytest.raises(EncryptedFieldError, match="serialised"):
        serializers.serialize("json", Subject.objects.all())


def test_saving_without_a_data_key_is_refused(mission: Any) -> None:
    with pytest.raises(EncryptedFieldError, match="no data key"), transaction.atomic():
        Subject.objects.create(mission=mission, name="Jane")
    assert not Subject.objects.exists()


def test_repr_never_shows_plaintext(mission: Any) -> None:
    subject = make_subject(mission, name="Jane Secret", profile={"city": "Hidden City"})
    reloaded = Subject.objects.get(pk=subject.pk)
    for shown in (repr(reloaded), repr(reloaded.name), repr(reloaded.profile), repr([reloaded])):
        assert "Secret" not in shown and "Hidden" not in shown
    assert repr(reloaded) == f"<Subject: pk={subject.pk}>"
    # Callers still get ordinary values.
    assert str(reloaded) == "Jane Secret"
    assert f"{reloaded.name}" == "Jane Secret"
    assert reloaded.profile["city"] == "Hidden City"
    assert isinstance(reloaded.profile, dict)
    assert json.loads(json.dumps(reloaded.profile)) == {"city": "Hidden City"}


def test_unchanged_fields_keep_their_ciphertext_on_save(mission: Any) -> None:
    subject = make_subject(mission, name="Jane", nickname="J")
    before = read_column(Subject, "name", subject.pk)
    reloaded = Subject.objects.get(pk=subject.pk)
    reloaded.status = "closed"
    reloaded.nickname = "Janie"
    reloaded.save()
    assert read_column(Subject, "name", subject.pk) == before
    assert Subject.objects.get(pk=subject.pk).nickname == "Janie"


def test_moving_a_row_to_another_key_needs_its_values_read_first(mission: Any) -> None:
    subject = make_subject(mission, name="Jane", nickname="J")
    new_key = new_data_key()
    careless = Subject.objects.get(pk=subject.pk)
    careless.data_key = new_key
    with (
        pytest.raises(EncryptedFieldError, match="read every encrypted field"),
        transaction.atomic(),
    ):
        careless.save()
    careful = Subject.objects.get(pk=subject.pk)
    values = {
        field: getattr(careful, field)
        for field in ("name", "nickname", "phone", "email", "profile", "notes")
    }
    careful.data_key = new_key
    careful.save()
    moved = Subject.objects.get(pk=subject.pk)
    assert moved.data_key_id == new_key.pk
    assert {field: getattr(moved, field) for field in values} == values


def test_loaded_instances_copy_and_pickle_without_leaking(mission: Any) -> None:
    subject = make_subject(mission, name="Jane Secret", profile={"city": "Hidden City"})
    loaded = Subject.objects.get(pk=subject.pk)
    assert pickle.loads(pickle.dumps(loaded)).name == "Jane Secret"
    sealed_copy = copy.deepcopy(Subject.objects.get(pk=subject.pk))
    assert sealed_copy.profile == {"city": "Hidden City"}
    assert str(loaded.profile) == "{'city': 'Hidden City'}"
    assert "Hidden" not in repr(loaded.profile)


def test_deferred_fields_load_and_decrypt(mission: Any) -> None:
    subject = make_subject(mission, name="Jane", profile={"a": 1})
    partial = Subject.objects.only("id", "status").get(pk=subject.pk)
    assert partial.name == "Jane"
    assert partial.profile == {"a": 1}
    partial.refresh_from_db()
    assert partial.name == "Jane"


def test_rows_of_a_subject_share_its_key(mission: Any) -> None:
    subject = make_subject(mission, name="Jane")
    note = SubjectNote.objects.create(
        subject=subject, data_key=subject.data_key, body="Met at the café"
    )
    assert SubjectNote.objects.get(pk=note.pk).body == "Met at the café"
    assert "café" not in read_column(SubjectNote, "body", note.pk)


class SubjectForm(forms.ModelForm):
    class Meta:
        model = Subject
        fields = ["name", "profile", "status"]


def test_model_forms_read_and_write_plain_values(mission: Any) -> None:
    subject = make_subject(mission, name="Jane", profile={"city": "Kisumu"})
    form = SubjectForm(instance=Subject.objects.get(pk=subject.pk))
    assert form.initial["name"] == "Jane"
    assert "Kisumu" in str(form["profile"])
    assert set(form.fields) == {"name", "profile", "status"}  # uid and data_key not editable
    form = SubjectForm(
        data={"name": "Jane Wanjiru", "profile": '{"city": "Nairobi"}', "status": "active"},
        instance=Subject.objects.get(pk=subject.pk),
    )
    assert form.is_valid(), form.errors
    form.save()
    reloaded = Subject.objects.get(pk=subject.pk)
    assert (reloaded.name, reloaded.profile) == ("Jane Wanjiru", {"city": "Nairobi"})
    assert "Nairobi" not in read_column(Subject, "profile", subject.pk)


def test_full_clean_validates_decrypted_values(mission: Any) -> None:
    subject = Subject.objects.get(pk=make_subject(mission, name="Jane").pk)
    subject.full_clean()
    subject.profile = {"bad": {1, 2}}
    with pytest.raises(Exception, match="valid JSON"):
        subject.full_clean()


def test_ordering_by_an_expression_on_a_plain_column_still_works(mission: Any) -> None:
    make_subject(mission, name="Jane", status="b")
    make_subject(mission, name="John", status="a")
    assert [s.name for s in Subject.objects.order_by(F("status").asc())] == ["John", "Jane"]


def test_stored_format_is_documented_header(mission: Any) -> None:
    subject = make_subject(mission, name="Jane")
    raw = base64.b64decode(read_column(Subject, "name", subject.pk))
    assert raw[0] == 1
    assert uuid.UUID(bytes=raw[1:17]) == subject.data_key_id
    # header 17 + nonce 24 + one 32-byte padded block + tag 16
    assert len(raw) == 17 + 24 + 32 + 16
    assert connection.vendor in {"sqlite", "postgresql"}


def test_api_schemas_see_plain_values(mission: Any) -> None:
    from ninja import ModelSchema

    class SubjectOut(ModelSchema):
        class Meta:
            model = Subject
            fields = ["name", "profile"]

    subject = make_subject(mission, name="Jane", profile={"city": "Kisumu", "n": [1, 2]})
    out = SubjectOut.from_orm(Subject.objects.get(pk=subject.pk))
    assert out.model_dump() == {"name": "Jane", "profile": {"city": "Kisumu", "n": [1, 2]}}
    assert json.loads(out.model_dump_json()) == {
        "name": "Jane",
        "profile": {"city": "Kisumu", "n": [1, 2]},
    }
    assert SubjectOut(name="Jo", profile={"a": 1}).profile == {"a": 1}
