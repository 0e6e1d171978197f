"""Receipts: enough entropy, forgiving to type, and only the holder reads replies."""

from __future__ import annotations

import math
from typing import Any

import pytest

from haven.crypto.errors import DecryptionError
from haven.crypto.receipts import (
    WORDS,
    derive,
    new_passphrase,
    open_with_receipt,
    seal_to_receipt,
    wordlist,
)


def test_a_passphrase_has_at_least_80_bits() -> None:
    words = wordlist()
    assert len(words) >= 7000 and len(set(words)) == len(words)
    assert all(word.isalpha() and word.islower() for word in words)
    phrase = new_passphrase()
    assert len(phrase.split()) == WORDS and all(word in words for word in phrase.split())
    assert WORDS * math.log2(len(words)) >= 80
    assert len({new_passphrase() for _ in range(50)}) == 50


def test_case_and_spaces_do_not_matter(settings: Any) -> None:
    phrase = "abacus abdomen abdominal abide abiding ability ablaze"
    typed = "  Abacus ABDOMEN  abdominal\tabide abiding ability ablaze "
    assert derive(phrase, mission_id=1) == derive(typed, mission_id=1)


def test_another_word_or_mission_gives_unrelated_keys() -> None:
    phrase = "abacus abdomen abdominal abide abiding ability ablaze"
    one = derive(phrase, mission_id=1)
    assert derive(phrase.replace("ablaze", "able"), mission_id=1).lookup != one.lookup
    assert derive(phrase, mission_id=2).lookup != one.lookup
    assert len(one.lookup) == 64 and len(one.public_key) == 32
    assert "abacus" not in repr(one)


def test_replies_open_only_with_the_receipt() -> None:
    keys = derive("abacus abdomen abdominal abide abiding ability ablaze", mission_id=1)
    sealed = seal_to_receipt(keys.public_key, b"We have received your request.")
    assert open_with_receipt(keys, sealed) == b"We have received your request."
    other = derive("able abacus abdomen abdominal abide abiding ability", mission_id=1)
    with pytest.raises(DecryptionError):
        open_with_receipt(other, sealed)
