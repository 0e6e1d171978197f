"""System check: Haven refuses to run ``migrate`` or ``check --database`` on broken key material.

Invariant: a missing, exposed or malformed key file, or data wrapped under a KEK version that is
not available, is reported as an error before anything touches the data.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Tags, register

from haven.crypto.keys import key_problems


@register(Tags.database)
def key_material(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    if not kwargs.get("databases"):
        return []
    return [Error(problem, id="haven_crypto.E010") for problem in key_problems()]
