"""Shared types for the API's schemas: bounded ids, so every number a client sends fits the
database, and the one error body every refusal uses.

A row id beyond a 64-bit signed integer cannot exist, and SQLite or PostgreSQL would raise on
it instead of answering "not found"; declaring the bounds refuses it at the schema with a 422
and tells clients (and the OpenAPI schema) what is allowed.
"""

from __future__ import annotations

from typing import Annotated

from ninja import Schema
from pydantic import Field

# The largest value of a 64-bit signed integer column (BigAutoField, PostgreSQL bigint).
MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
"""The id of a row, in a path or in a body (``case_ids: list[RowId]``)."""


class Error(Schema):
    """The body of every refusal (401, 403, 404, 409, 422): what was wrong and what to do."""

    detail: str
