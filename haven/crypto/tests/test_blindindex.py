"""Blind indexes: equal for values a person calls equal, unrelated otherwise, under their own key."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haven.crypto.blindindex import blind_index, normalise
from haven.crypto.keys import get_provider
from haven.crypto.tests.conftest import make_subject
from tests.testapp.models import Subject


@pytest.mark.parametrize(
    ("one", "other", "kind"),
    [
        ("Amina  Otieno", " amina otieno ", "name"),
        ("STRASSE", "straße", "name"),  # case folding, not lower-casing
        ("\uff21\uff4d\uff49\uff4e\uff41", "amina", "name"),  # full-width letters (NFKC)
        ("Amina\tOtieno\n", "AMINA OTIENO", "name"),
        ("+254 (712) 345-678", "254712345678", "phone"),
        ("٠٧١٢٣٤٥", "0712345", "phone"),  # Arabic-Indic digits
        ("+254 712 345 678", "0712 345678", "phone"),  # country code or trunk prefix
        ("  Amina@Example.ORG ", "amina@example.org", "email"),
    ],
)
def test_values_a_person_calls_equal_share_an_index(
    db: Any, one: str, other: str, kind: str
) -> None:
    assert blind_index(one, kind) == blind_index(other, kind)
    assert re.fullmatch(r"[0-9a-f]{32}", blind_index(one, kind))


def test_different_values_and_kinds_differ(db: Any) -> None:
    assert blind_index("Amina Otieno", "name") != blind_index("Amina Otiena", "name")
    assert blind_index("12345", "name") != blind_index("12345", "phone")
    assert blind_index("", "name") == blind_index("  ", "name") == blind_index("n/a", "phone") == ""


def test_unknown_kind_is_refused(db: Any) -> None:
    with pytest.raises(ValueError, match="gender"):
        blind_index("female", "gender")


def test_index_depends_on_the_blind_index_key_not_the_kek(db: Any, key_dir: Path) -> None:
    before = blind_index("Amina Otieno", "name")
    # A new KEK version changes nothing.
    (key_dir / "kek-0002.key").write_bytes(base64.b64encode(b"\x02" * 32))
    (key_dir / "kek-0002.key").chmod(0o600)
    get_provider().forget()  # type: ignore[attr-defined]
    assert get_provider().current_version() == 2
    assert blind_index("Amina Otieno", "name") == before
    # Another blind-index key gives unrelated indexes.
    (key_dir / "blind-index.key").write_bytes(base64.b64encode(b"\x03" * 32))
    get_provider().forget()  # type: ignore[attr-defined]
    assert blind_index("Amina Otieno", "name") != before


@settings(max_examples=300, deadline=None, database=None)
@given(value=st.text(), kind=st.sampled_from(["name", "phone", "email"]))
def test_normalising_twice_changes_nothing(value: str, kind: str) -> None:
    once = normalise(value, kind)
    assert normalise(once, kind) == once


def test_blind_index_field_follows_its_source(mission: Any) -> None:
    subject = make_subject(mission, name="Amina Otieno", phone="+254 712 345 678", email="A@x.org")
    assert subject.name_index == blind_index("amina otieno", "name")
    match = Subject.objects.get(phone_index=blind_index("0254712345678"[1:], "phone"))
    assert match.pk == subject.pk
    assert Subject.objects.filter(email_index=blind_index("a@X.org ", "email")).count() == 1
    # Changing the source through update_fields moves the index with it.
    reloaded = Subject.objects.get(pk=subject.pk)
    reloaded.name = "Amina W. Otieno"
    reloaded.save(update_fields=["name"])
    assert Subject.objects.get(pk=subject.pk).name_index == blind_index("amina w. otieno", "name")
    # Saving without opening the source keeps the index as it is.
    untouched = Subject.objects.get(pk=subject.pk)
    untouched.status = "closed"
    untouched.save()
    assert Subject.objects.get(pk=subject.pk).name_index == blind_index("amina w. otieno", "name")


def test_duplicates_are_found_by_index(mission: Any) -> None:
    make_subject(mission, name="Amina Otieno")
    make_subject(mission, name="AMINA  OTIENO")
    make_subject(mission, name="Someone Else")
    duplicates = Subject.objects.filter(name_index=blind_index("amina otieno", "name"))
    assert duplicates.count() == 2
