"""Shared types for the API's schemas: bounded types, so every value a client sends fits the
database, and the one error body every refusal uses.

A row id beyond a 64-bit signed integer cannot exist, and SQLite or PostgreSQL would raise on
it instead of answering "not found"; declaring the bounds refuses it at the schema with a 422
and tells clients (and the OpenAPI schema) what is allowed. The same holds for text (as long
as the workspace's form allows), lists and page numbers: every input field of every API
schema is declared with one of these.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, Field
from pydantic_core import PydanticUndefined

# The largest value of a 64-bit signed integer column (BigAutoField, PostgreSQL bigint).
MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
"""The id of a row, in a path or in a body (``case_ids: list[RowId]``)."""

Code = Annotated[str, Field(max_length=40)]
"""A vocabulary code or workflow state (the longest code column holds 40 characters); the
service checks it against its vocabulary."""

PageNumber = Annotated[int, Field(ge=1, le=1_000_000)]
"""A page of a list; past the last page answers the last page."""

# Dates and moments a mission's records can hold: far enough back for an old case, far enough
# ahead for a review, and clear of the calendar's ends, where date arithmetic overflows.
EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2200, 12, 31)
_UTC = datetime.UTC

Day = Annotated[datetime.date, Field(ge=EARLIEST, le=LATEST)]
"""A calendar date between 1900 and 2200."""


def _in_utc(moment: datetime.datetime) -> datetime.datetime:
    # An offset such as -22:30 is valid ISO 8601 but beyond what PostgreSQL accepts.
    return moment.astimezone(_UTC)


Moment = Annotated[
    AwareDatetime,
    Field(
        ge=datetime.datetime.combine(EARLIEST, datetime.time(), _UTC),
        le=datetime.datetime.combine(LATEST, datetime.time(), _UTC),
    ),
    AfterValidator(_in_utc),
]
"""A moment with its offset (a time without one is refused), kept in UTC, 1900 to 2200."""


def text(max_length: int, default: Any = PydanticUndefined) -> Any:
    """A text field of at most ``max_length`` characters (the workspace form's limit); required
    unless a ``default`` is given. (NUL is refused for every field by the API's parser.)"""
    return Field(default, max_length=max_length)


def items(max_length: int, default: Any = PydanticUndefined) -> Any:
    """A list field of at most ``max_length`` items; required unless a ``default`` is given."""
    return Field(default, max_length=max_length)


def has_nul(value: Any) -> bool:
    """Whether a parsed JSON value or query holds a NUL character anywhere, keys included.
    PostgreSQL cannot store NUL in text, and Django's forms refuse it; so does the API."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class Error(Schema):
    """The body of every refusal (401, 403, 404, 409, 422): what was wrong and what to do."""

    detail: str
