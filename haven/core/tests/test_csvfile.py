"""The CSV writer on its own: no cell it writes can start a formula, and nothing is lost."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.core.csvfile import FORMULA_START, cell, records_text, rows_text

RISKY = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "\n=1", "  =1", "\uff1d1", "-"]


def _parsed(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _runs(value: str) -> bool:
    """Whether a spreadsheet could take the cell for a formula."""
    return value[:1] in FORMULA_START or value.lstrip()[:1] in FORMULA_START


@pytest.mark.parametrize("value", RISKY)
def test_text_that_starts_a_formula_is_written_after_an_apostrophe(value: str) -> None:
    [[written]] = _parsed(rows_text([[value]]))
    assert written == "'" + value


@given(st.lists(st.lists(st.text(), max_size=4), max_size=4))
def test_no_text_cell_starts_a_formula_and_each_reads_back(rows: list[list[str]]) -> None:
    parsed = _parsed(rows_text(rows))
    assert len(parsed) == len(rows)
    for written_row, row in zip(parsed, rows, strict=True):
        for written, original in zip(written_row, row, strict=True):
            assert not _runs(written)
            assert written == ("'" + original if _runs(original) else original)


def test_numbers_stay_numbers_even_negative_ones() -> None:
    assert _parsed(rows_text([[-5, 3, -1.5, Decimal("-2.25"), None, True]])) == [
        ["-5", "3", "-1.5", "-2.25", "", "True"]
    ]
    assert cell("-5") == "'-5"  # text that looks like a number is still text


def test_records_keep_the_column_order_and_refuse_an_unannounced_column() -> None:
    text = records_text(["a", "b"], [{"b": "=x", "a": 1}, {"a": "y"}])
    assert _parsed(text) == [["a", "b"], ["1", "'=x"], ["y", ""]]
    with pytest.raises(ValueError, match="secret"):
        records_text(["a"], [{"a": 1, "secret": "x"}])
