"""Properties of encrypted fields and blind indexes over arbitrary input (hypothesis).

Encrypted fields give back exactly what was stored, whatever the text or JSON: any Unicode
(astral planes, combining marks, bidirectional controls, lone surrogates, NUL), empty, very
long; through a save, a reload, an update and a second reload. Blind indexes keep the promises
written in ``blindindex.py``: normalising is idempotent and is what is hashed; the variants it
documents (case, white space, NFKC compatibility forms, digits of any script, phone prefixes)
share an index; values whose normal forms differ, or kinds that differ, never share one.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from haven.crypto.blindindex import PHONE_DIGITS, blind_index, normalise
from haven.crypto.tests.conftest import make_subject, read_column
from tests.testapp.models import Subject

db_examples = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# The blind-index tests need no database, only the key file the autouse ``key_dir`` makes.
pure_examples = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# Any text, and pieces a careless client or a hostile one sends (NUL, a lone surrogate…).
any_text = st.text()
awkward_pieces = st.sampled_from(
    [
        "",
        "\x00",
        "\ud800",  # a lone surrogate
        "\U0001f469\u200d\U0001f4bb",  # an emoji joined by ZWJ
        "e\u0301",  # a combining accent
        "\u202eevil\u202c",  # right-to-left override
        "\u0627\u0645\u064a\u0646\u0629",  # Arabic
        "\u0410\u043c\u0438\u043d\u0430",  # Cyrillic
        "\U00020000",  # CJK extension B (astral plane)
        "\ufeff",  # byte-order mark
        "\r\n\t",
    ]
)
edge_text = st.lists(any_text | awkward_pieces, max_size=6).map("".join)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # beyond 64 bits too: JSON has no limit, neither does the field
    | st.floats(allow_nan=False, allow_infinity=False)
    | edge_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(edge_text, children, max_size=4)
    ),
    max_leaves=20,
)


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for level in range(depth):
        value = {f"level {level}": [value]}
    return value


# -- encrypted fields


@db_examples
@given(value=edge_text)
def test_any_text_round_trips_through_save_reload_and_update(mission: Any, value: str) -> None:
    subject = make_subject(mission, name=value, notes=value)
    reloaded = Subject.objects.get(pk=subject.pk)
    assert reloaded.name == value and reloaded.notes == value
    reloaded.nickname = value[::-1]
    reloaded.save()
    again = Subject.objects.get(pk=subject.pk)
    assert (again.name, again.nickname) == (value, value[::-1])


@db_examples
@given(value=json_values)
def test_any_json_round_trips_through_save_reload_and_update(mission: Any, value: Any) -> None:
    subject = make_subject(mission, profile=value)
    reloaded = Subject.objects.get(pk=subject.pk)
    assert reloaded.profile == value
    reloaded.profile = {"wrapped": value}
    reloaded.save(update_fields=["profile"])
    assert Subject.objects.get(pk=subject.pk).profile == {"wrapped": value}


@db_examples
@given(value=edge_text.filter(lambda text: len(text.strip()) > 3))
def test_no_text_reaches_the_column_in_the_clear(mission: Any, value: str) -> None:
    subject = make_subject(mission, name=value)
    column = str(read_column(Subject, "name", subject.pk))
    assert value not in column


def test_empty_and_very_long_values_round_trip(mission: Any) -> None:
    long_text = "Amina Otieno, Nairobi. \u0627\u0645\u064a\u0646\u0629 \U0001f469 " * 40_000
    subject = make_subject(mission, name="", notes=long_text, profile=_deep(200))
    reloaded = Subject.objects.get(pk=subject.pk)
    assert reloaded.name == ""
    assert reloaded.notes == long_text and len(long_text) > 1_000_000
    assert reloaded.profile == _deep(200)
    empty = make_subject(mission, profile={}, notes=None)
    reloaded = Subject.objects.get(pk=empty.pk)
    assert reloaded.profile == {} and reloaded.notes is None


# -- blind-index normalisation


kinds = st.sampled_from(["name", "phone", "email"])
words = st.lists(
    st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=8), min_size=1, max_size=4
)
spaces = st.sampled_from([" ", "  ", "\t", "\n", "\u00a0", "\u3000", " \r\n "])
# Decimal digits of other scripts: Arabic-Indic, Extended Arabic-Indic, Devanagari, Bengali,
# Thai, full-width.
DIGIT_ZEROS = (0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0xFF10)


@pure_examples
@given(value=any_text, kind=kinds)
def test_normalising_is_idempotent_and_is_what_is_hashed(value: str, kind: str) -> None:
    once = normalise(value, kind)
    assert normalise(once, kind) == once
    assert blind_index(value, kind) == blind_index(once, kind)
    index = blind_index(value, kind)
    assert index == "" if not once else re.fullmatch(r"[0-9a-f]{32}", index)


@pure_examples
@given(parts=words, gaps=st.lists(spaces, min_size=3, max_size=3), upper=st.booleans())
def test_names_differing_in_case_and_white_space_share_an_index(
    parts: list[str], gaps: list[str], upper: bool
) -> None:
    plain = " ".join(parts)
    spaced = gaps[0] + gaps[1].join(parts) + gaps[2]
    assert blind_index(spaced, "name") == blind_index(plain, "name")
    cased = spaced.upper() if upper else spaced.lower()
    # Letters whose upper or lower case folds to the same thing (nearly all) share an index.
    assume(_folded(cased) == _folded(spaced))
    assert blind_index(cased, "name") == blind_index(plain, "name")


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


@pure_examples
@given(value=any_text)
def test_names_in_compatibility_or_decomposed_forms_share_an_index(value: str) -> None:
    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        assert blind_index(unicodedata.normalize(form, value), "name") == blind_index(value, "name")


@pure_examples
@given(
    number=st.text("0123456789", min_size=7, max_size=12),
    zero=st.sampled_from(DIGIT_ZEROS),
    separators=st.lists(st.sampled_from([" ", "-", ".", "(", ")", "/"]), max_size=12),
)
def test_phone_numbers_in_any_script_and_layout_share_an_index(
    number: str, zero: int, separators: list[str]
) -> None:
    other_script = "".join(chr(zero + int(digit)) for digit in number)
    laid_out = "".join(d + s for d, s in zip(number, [*separators, *[""] * 12], strict=False))
    expected = blind_index(number, "phone")
    assert blind_index(other_script, "phone") == expected
    assert blind_index(laid_out, "phone") == expected
    # With a country code or trunk prefix in front, the last nine digits decide.
    if len(number) >= PHONE_DIGITS:
        national = number[-PHONE_DIGITS:]
        assert blind_index("+254 " + national, "phone") == blind_index("0" + national, "phone")


@pure_examples
@given(local=words, domain=words, pad=spaces)
def test_emails_differing_in_case_and_surrounding_space_share_an_index(
    local: list[str], domain: list[str], pad: str
) -> None:
    address = f"{''.join(local)}@{'.'.join(domain)}.org"
    assume(address.upper().lower() == address.lower())
    assert blind_index(f"{pad}{address.upper()}{pad}", "email") == blind_index(address, "email")


@pure_examples
@given(one=any_text, other=any_text, kind=kinds)
def test_values_with_different_normal_forms_never_share_an_index(
    one: str, other: str, kind: str
) -> None:
    assume(normalise(one, kind) != normalise(other, kind))
    assert blind_index(one, kind) != blind_index(other, kind)


@pure_examples
@given(value=st.text("0123456789", min_size=1, max_size=PHONE_DIGITS))
def test_one_value_under_two_kinds_gives_unrelated_indexes(value: str) -> None:
    indexes = {kind: blind_index(value, kind) for kind in ("name", "phone", "email")}
    assert len(set(indexes.values())) == 3


@pure_examples
@given(parts=st.lists(st.text("ab", min_size=1, max_size=3), min_size=2, max_size=4))
def test_white_space_inside_a_name_still_tells_names_apart(parts: list[str]) -> None:
    # "ab a" and "aba" are different names: only runs of space collapse, never vanish.
    assert blind_index(" ".join(parts), "name") != blind_index("".join(parts), "name")


def test_diacritics_are_kept_as_documented() -> None:
    # Normalisation is NFKC and case folding, not accent stripping: "José" and "Jose" are two
    # names to the index (a person checks possible duplicates by other means).
    assert blind_index("Jos\u00e9", "name") == blind_index("JOSE\u0301", "name")
    assert blind_index("Jos\u00e9", "name") != blind_index("Jose", "name")
