"""System checks of the key material and of the key store against the data.

Invariants: a missing, exposed or malformed key file, or data wrapped under a KEK version that
is not available, is an error before anything touches the data (``migrate`` and
``check --database`` stop on it). Rows of the data whose key is missing from the key store are
a warning on the same occasions: they are never deleted, and an instance restored from an
older backup of the data legitimately has some, so it does not stop anything.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError

from haven.crypto.keys import key_problems


@register(Tags.database)
def key_material(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if not kwargs.get("databases"):
        return []
    return [Error(problem, id="haven_crypto.E010") for problem in key_problems()]


@register(Tags.database)
def rows_without_key(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if "default" not in (kwargs.get("databases") or ()):
        return []
    from haven.crypto.orphans import find_orphans, rows_without_key_message

    try:
        report = find_orphans()
    except DatabaseError:
        # Tables not made yet (the first ``migrate``): nothing to compare.
        return []
    if not report.has_rows_without_key:
        return []
    return [Warning(rows_without_key_message(report), id="haven_crypto.W020")]
