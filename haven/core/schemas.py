"""Bounded types for the API's schemas, so every number a client sends fits the database.

A row id beyond a 64-bit signed integer cannot exist, and SQLite or PostgreSQL would raise on
it instead of answering "not found"; declaring the bounds refuses it at the schema with a 422
and tells clients (and the OpenAPI schema) what is allowed.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# The largest value of a 64-bit signed integer column (BigAutoField, PostgreSQL bigint).
MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
"""The id of a row, in a path or in a body (``case_ids: list[RowId]``)."""
