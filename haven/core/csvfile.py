"""Every CSV file Haven writes is written here: the one owner of CSV output.

A spreadsheet reads a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and some
do so after a leading tab, carriage return or other white space too. Text from the records (a
region typed as ``=HYPERLINK("http://…")``) would then run on the computer of the agency the
file is shared with. Invariant: every text cell whose first character, or first character
after white space, is one of ``FORMULA_START`` is written with a leading apostrophe, which
spreadsheets show as text and never run (OWASP's advice on CSV injection); the full-width
forms of the same signs are treated alike, since some spreadsheets fold them to ASCII.
Numbers given as numbers (``int``, ``float``, ``Decimal``) are written as they are, negative
ones included: a number is never a formula. Text that merely looks like a negative number
(``"-5"``) is text, and is neutralised. ``None`` is an empty cell.

Reading CSV (``registry.csvimport``) is not output and stays with its reader. A test fails if
any other module of ``haven`` writes CSV (``tests/test_csv_exports.py``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

CONTENT_TYPE = "text/csv; charset=utf-8"
# The ASCII signs, the white space some spreadsheets skip, and the full-width signs.
FORMULA_START = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")

Cell = str | int | float | Decimal


def cell(value: object) -> Cell:
    """``value`` as a CSV cell that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    text = str(value)
    if text[:1] in FORMULA_START or text.lstrip()[:1] in FORMULA_START:
        return "'" + text
    return text


def rows_text(rows: Iterable[Iterable[object]]) -> str:
    """The CSV text of ``rows`` (the first is usually the header), every cell neutralised."""
    out = io.StringIO()
    csv.writer(out).writerows([cell(value) for value in row] for row in rows)
    return out.getvalue()


def records_text(fieldnames: Sequence[str], records: Iterable[Mapping[str, object]]) -> str:
    """The CSV text of ``records`` under a header of ``fieldnames``, in that column order.

    A record with a key not in ``fieldnames`` is refused (``ValueError``), as
    ``csv.DictWriter`` does: a column must never leave unannounced."""

    def line(record: Mapping[str, object]) -> list[object]:
        unknown = set(record) - set(fieldnames)
        if unknown:
            raise ValueError(f"fields not in the header: {sorted(unknown)}")
        return [record.get(name) for name in fieldnames]

    return rows_text([list(fieldnames), *(line(record) for record in records)])
