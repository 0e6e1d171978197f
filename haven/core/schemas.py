"""Bounded types for the API's schemas, so every value a client sends fits the database.

A row id beyond a 64-bit signed integer cannot exist, and SQLite or PostgreSQL would raise on
it instead of answering "not found"; declaring the bounds refuses it at the schema with a 422
and tells clients (and the OpenAPI schema) what is allowed. The same holds for text (as long
as the workspace's form allows, never a NUL), lists and page numbers: every input field of
every API schema is declared with one of these.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from pydantic_core import PydanticUndefined

# The largest value of a 64-bit signed integer column (BigAutoField, PostgreSQL bigint).
MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
"""The id of a row, in a path or in a body (``case_ids: list[RowId]``)."""

# Text without NUL: PostgreSQL cannot store it in a text column, and Django's forms refuse it.
NO_NUL = r"^[^\x00]*$"

Code = Annotated[str, Field(max_length=40, pattern=NO_NUL)]
"""A vocabulary code or workflow state (the longest code column holds 40 characters); the
service checks it against its vocabulary."""

PageNumber = Annotated[int, Field(ge=1, le=1_000_000)]
"""A page of a list; past the last page answers the last page."""


def text(max_length: int, default: Any = PydanticUndefined) -> Any:
    """A text field of at most ``max_length`` characters (the workspace form's limit) and no
    NUL; required unless a ``default`` is given."""
    return Field(default, max_length=max_length, pattern=NO_NUL)


def items(max_length: int, default: Any = PydanticUndefined) -> Any:
    """A list field of at most ``max_length`` items; required unless a ``default`` is given."""
    return Field(default, max_length=max_length)
